import { createHash } from 'node:crypto'
import { OrmMigrationChecksumError, OrmMigrationError } from '../../errors.js'
import type { Schema } from '../schema.js'
import { parseDatabaseUrl, type DatabaseUrl } from '../url.js'
import { operationSql } from './ddl.js'
import type { Migration } from './operations.js'
import { planMigration } from './plan.js'
import { openSqlClient, type SqlClient } from './sql-client.js'

/** The table that records applied migrations, in every database ecom migrates. */
export const MIGRATIONS_TABLE = 'ecom_migrations'

/** sha256 over the operations in a canonical JSON form: what ran is what is checked. */
export function migrationChecksum(m: Migration): string {
  return createHash('sha256').update(canonical(m.operations)).digest('hex')
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}

/** The whole history in one step, for tests and apps that keep no migration files: one `0001_init`. */
export function initialMigration(schema: Schema, id = '0001_init'): Migration {
  const snapshot = schema.toJSON()
  return { id, operations: planMigration(undefined, snapshot), snapshot }
}

export interface MigrateResult {
  applied: string[]
  alreadyApplied: string[]
}

async function lock(c: SqlClient): Promise<() => Promise<void>> {
  if (c.db.dialect === 'postgres') {
    await c.exec('SELECT pg_advisory_lock(727274)')
    return () => c.exec('SELECT pg_advisory_unlock(727274)')
  }
  if (c.db.dialect === 'mysql') {
    await c.query(`SELECT GET_LOCK('ecom_migrations', 60) AS l`)
    return async () => void (await c.query(`SELECT RELEASE_LOCK('ecom_migrations') AS l`))
  }
  // SQLite: calls in this process queue here (a second connection would block the thread on the file
  // lock); other processes are kept out by BEGIN IMMEDIATE and the re-check inside each transaction.
  const key = c.db.file
  const prev = sqliteQueues.get(key) ?? Promise.resolve()
  let release!: () => void
  const mine = new Promise<void>((r) => (release = r))
  const tail = prev.then(() => mine)
  sqliteQueues.set(key, tail)
  await prev
  return async () => {
    release()
    if (sqliteQueues.get(key) === tail) sqliteQueues.delete(key)
  }
}

const sqliteQueues = new Map<string, Promise<void>>()

/**
 * Apply what is pending, in id order, each migration in its own transaction where the dialect allows
 * (MySQL commits DDL implicitly). Before anything runs, every applied migration is checked against its
 * file; a changed one (or one that vanished) stops the run with OrmMigrationChecksumError.
 */
export async function migrate(url: string | DatabaseUrl, migrations: Migration[]): Promise<MigrateResult> {
  const db = typeof url === 'string' ? parseDatabaseUrl(url) : url
  const sorted = [...migrations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.id === sorted[i - 1]!.id) throw new OrmMigrationError(`duplicate migration id ${sorted[i]!.id}`)
  const c = await openSqlClient(db)
  try {
    const unlock = await lock(c)
    try {
      const t = db.dialect === 'mysql' ? `\`${MIGRATIONS_TABLE}\`` : `"${MIGRATIONS_TABLE}"`
      await c.exec(`CREATE TABLE IF NOT EXISTS ${t} (id VARCHAR(255) NOT NULL PRIMARY KEY, checksum VARCHAR(64) NOT NULL, applied_at VARCHAR(32) NOT NULL)`)
      const rows = await c.query(`SELECT id, checksum FROM ${t} ORDER BY id`)
      const byId = new Map(sorted.map((m) => [m.id, m]))
      for (const r of rows) {
        const m = byId.get(String(r.id))
        if (!m) throw new OrmMigrationChecksumError(`migration ${String(r.id)} was applied to this database but is missing from the migrations given`, { details: { id: r.id } })
        const sum = migrationChecksum(m)
        if (sum !== r.checksum) {
          throw new OrmMigrationChecksumError(`migration ${m.id} was changed after it was applied (checksum ${String(r.checksum).slice(0, 12)} in the database, ${sum.slice(0, 12)} now); refusing to migrate`, { details: { id: m.id } })
        }
      }
      const done = new Set(rows.map((r) => String(r.id)))
      const applied: string[] = []
      for (const m of sorted) {
        if (done.has(m.id)) continue
        const stmts = m.operations.flatMap((op) => operationSql(db.dialect, op))
        const transactional = db.dialect !== 'mysql'
        try {
          if (transactional) await c.exec(db.dialect === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN')
          if (db.dialect === 'sqlite' && (await c.query(`SELECT id FROM ${t} WHERE id = ?`, [m.id])).length > 0) {
            await c.exec('COMMIT')
            continue
          }
          for (const s of stmts) await c.exec(s)
          await c.exec(`INSERT INTO ${t} (id, checksum, applied_at) VALUES (${db.dialect === 'postgres' ? '$1, $2, $3' : '?, ?, ?'})`, [m.id, migrationChecksum(m), new Date().toISOString()])
          if (transactional) await c.exec('COMMIT')
        } catch (err) {
          if (transactional) await c.exec('ROLLBACK').catch(() => {})
          throw new OrmMigrationError(`migration ${m.id} failed on ${db.dialect}: ${(err as Error).message}`, { cause: err, details: { id: m.id } })
        }
        applied.push(m.id)
      }
      return { applied, alreadyApplied: [...done] }
    } finally {
      await unlock()
    }
  } finally {
    await c.close()
  }
}
