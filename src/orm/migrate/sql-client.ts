import { createRequire } from 'node:module'
import { MissingDependencyError } from '../../errors.js'
import { connectionError } from '../driver-errors.js'
import type { DatabaseUrl } from '../url.js'

const require = createRequire(import.meta.url)

/** Load an optional driver or ORM, naming the package to install when it is missing. */
export function optional<T>(pkg: string, purpose: string): T {
  try {
    return require(pkg) as T
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(pkg)) {
      throw new MissingDependencyError(`${purpose} needs the "${pkg}" package: npm install ${pkg}`, { cause: err, details: { package: pkg } })
    }
    throw err
  }
}

/** A plain driver connection, for migrations: the same SQL path whichever ORM the application uses. */
export interface SqlClient {
  readonly db: DatabaseUrl
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>
  exec(sql: string, params?: unknown[]): Promise<void>
  close(): Promise<void>
}

type BetterSqlite = typeof import('better-sqlite3')
type Pg = typeof import('pg')
type Mariadb = typeof import('mariadb')

export async function openSqlClient(db: DatabaseUrl, purpose = 'ecom orm migrate'): Promise<SqlClient> {
  try {
    switch (db.dialect) {
      case 'sqlite': {
        const Database = optional<BetterSqlite>('better-sqlite3', purpose)
        const h = new Database(db.file)
        h.pragma('journal_mode = WAL')
        h.pragma('foreign_keys = ON')
        h.pragma('busy_timeout = 5000')
        return {
          db,
          query: async (sql, params = []) => h.prepare(sql).all(...(params as never[])) as Array<Record<string, unknown>>,
          exec: async (sql, params = []) => {
            if (params.length === 0) h.exec(sql)
            else h.prepare(sql).run(...(params as never[]))
          },
          close: async () => void h.close(),
        }
      }
      case 'postgres': {
        const pg = optional<Pg>('pg', purpose)
        const c = new pg.Client({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, connectionTimeoutMillis: 5000 })
        await c.connect()
        if (db.schema !== 'public') {
          try {
            await c.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema.replace(/"/g, '""')}"`)
          } catch (err) {
            // Runs before the migration lock: a concurrent run creating the same schema at the same
            // moment makes IF NOT EXISTS fail on pg_namespace's unique index (23505) or with 42P06.
            const code = (err as { code?: string }).code
            if (code !== '23505' && code !== '42P06') {
              await c.end().catch(() => {})
              throw err
            }
          }
        }
        await c.query(`SET search_path TO "${db.schema.replace(/"/g, '""')}"`)
        return {
          db,
          query: async (sql, params = []) => (await c.query(sql, params)).rows,
          exec: async (sql, params = []) => void (await c.query(sql, params)),
          close: () => c.end(),
        }
      }
      case 'mysql': {
        const mariadb = optional<Mariadb>('mariadb', purpose)
        const c = await mariadb.createConnection({ host: db.host, port: db.port, user: db.user, password: db.password, database: db.database, connectTimeout: 5000, timezone: 'Z', bigIntAsNumber: false })
        return {
          db,
          query: async (sql, params = []) => (await c.query(sql, params)) as Array<Record<string, unknown>>,
          exec: async (sql, params = []) => void (await c.query(sql, params)),
          close: () => c.end(),
        }
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (db.dialect !== 'sqlite' && typeof code === 'string' && /^E[A-Z]+$|ER_GET_CONNECTION_TIMEOUT|ER_CONNECTION_TIMEOUT/.test(code)) throw connectionError(err, db, 'migrate')
    throw err
  }
}
