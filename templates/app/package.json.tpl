{
  "name": "__appKebab__",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "engines": {
    "node": ">=20.19"
  },
  "scripts": {
    "start": "ecom start src/server.ts --workers auto",
    "dev": "ecom start src/server.ts --workers 1",
    "test": "vitest run",
    "typecheck": "tsc --noEmit",
    "migrate": "node --import tsx src/migrate.ts",
    "deploy:pm2": "ecom deploy pm2 src/server.ts"
  },
  "dependencies": {
    "ecom": "__ecomSpec__",
    "better-sqlite3": "^12.11.1",
    "drizzle-orm": "^0.45.4",
    "tsx": "^4.23.15",
    "zod": "^4.6.7"
  },
  "devDependencies": {
    "@types/node": "^20.19.43",
    "typescript": "^5.9.0",
    "vitest": "^4.1.12"
  }
}
