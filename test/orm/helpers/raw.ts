// Read and write the test databases through the plain drivers, never through ecom, so the conformance
// suite checks what really reached the database.
import { createRequire } from 'node:module'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const require = createRequire(import.meta.url)

export type DbKind = 'sqlite' | 'postgres' | 'mariadb'

export interface RawDb {
  kind: DbKind
  /** The URL the adapters use. */
  url: string
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>
  /** Quote an identifier for this dialect. */
  q(ident: string): string
  /** Placeholder n (1-based). */
  p(n: number): string
  close(): Promise<void>
}


/** The env var a database needs, or undefined for SQLite. */
export function envFor(kind: DbKind): string | undefined {
  return kind === 'postgres' ? 'ECOM_TEST_POSTGRES_URL' : kind === 'mariadb' ? 'ECOM_TEST_MARIADB_URL' : undefined
}

export function skipReason(kind: DbKind): string | undefined {
  const env = envFor(kind)
  if (env && !process.env[env]) return `${env} is not set: skipping the ${kind} ORM tests`
  return undefined
}

/**
 * A fresh, private database for one test file: a temp SQLite file, a PostgreSQL schema or a MariaDB
 * database named after `prefix` and the pid, dropped and recreated so other test files and engineers never collide.
 */
export async function freshDb(kind: DbKind, prefix: string): Promise<RawDb> {
  // the pid keeps two runs of the same test file (two checkouts, CI beside a developer) apart
  const name = `${prefix}_${process.pid}`
  if (kind === 'sqlite') {
    const Database = require('better-sqlite3')
    const dir = mkdtempSync(join(tmpdir(), 'ecom-orm-'))
    const file = join(dir, `${name}.db`)
    const h = new Database(file)
    h.pragma('journal_mode = WAL')
    h.defaultSafeIntegers(true)
    return {
      kind, url: `file:${file}`,
      query: async (sql, params = []) => {
        const st = h.prepare(sql)
        return st.reader ? st.all(...params) : (st.run(...params), [])
      },
      q: (i) => `"${i}"`, p: () => '?',
      close: async () => {
        h.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  }
  if (kind === 'postgres') {
    const pg = require('pg')
    const base = process.env.ECOM_TEST_POSTGRES_URL!
    const c = new pg.Client({ connectionString: base })
    await c.connect()
    await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    await c.query(`CREATE SCHEMA "${name}"`)
    await c.query(`SET search_path TO "${name}"`)
    const u = new URL(base)
    u.searchParams.set('schema', name)
    return {
      kind, url: u.toString(),
      query: async (sql, params = []) => (await c.query(sql, params)).rows,
      q: (i) => `"${i}"`, p: (n) => `$${n}`,
      close: async () => {
        await c.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`).catch(() => {})
        await c.end()
      },
    }
  }
  const mariadb = require('mariadb')
  const base = new URL(process.env.ECOM_TEST_MARIADB_URL!)
  const c = await mariadb.createConnection({ host: base.hostname, port: Number(base.port || 3306), user: decodeURIComponent(base.username) || 'root', password: decodeURIComponent(base.password), dateStrings: true, bigIntAsNumber: false })
  await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  await c.query(`USE \`${name}\``)
  base.pathname = `/${name}`
  return {
    kind, url: base.toString(),
    query: async (sql, params = []) => {
      const r = await c.query(sql, params)
      return Array.isArray(r) ? [...r] : []
    },
    q: (i) => `\`${i}\``, p: () => '?',
    close: async () => {
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``).catch(() => {})
      await c.end()
    },
  }
}

/** Database values in one comparable form: numbers/bigints as strings, booleans as 0/1, JSON parsed. */
export function norm(v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (typeof v === 'bigint' || typeof v === 'number') return String(v)
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (v instanceof Date) return v.getTime()
  return v
}
