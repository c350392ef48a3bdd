import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { defineSchema, drizzleAdapter, migrate, OrmManager, readMigrations } from 'ecom/orm'
import { loadConfig, type AppConfig } from './config.js'
import { modules } from './modules/index.js'

/** One schema from every registered module's models. */
export const schema = defineSchema({ models: Object.assign({}, ...modules.map((m) => m.models)) })

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url))

/** Apply pending migrations (written by `ecom generate module`) and return a connected ORM manager. */
export async function openDatabase(env: Partial<AppConfig> = {}): Promise<OrmManager> {
  const config = loadConfig({ ...process.env, ...env })
  const file = resolve(config.DATABASE_FILE)
  mkdirSync(dirname(file), { recursive: true })
  const url = `file:${file}`
  // Every worker runs this at start; when two race on a fresh database, the loser retries and finds
  // the migrations applied. For production, run `npm run migrate` before starting.
  for (let attempt = 0; ; attempt++) {
    try {
      await migrate(url, readMigrations(MIGRATIONS_DIR))
      break
    } catch (err) {
      if (attempt >= 3) throw err
      await sleep(100 + Math.random() * 200)
    }
  }
  const db = new OrmManager({ schema, adapters: [drizzleAdapter(schema, { url })] })
  await db.connect()
  return db
}
