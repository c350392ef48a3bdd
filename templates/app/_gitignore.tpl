node_modules/
dist/
data/
logs/
.env
