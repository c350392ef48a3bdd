# Copy to .env and pass with `ecom start src/server.ts --env-file .env`.
# SQLite file the app keeps its data in (created on first start).
DATABASE_FILE=./data/__appKebab__.db
