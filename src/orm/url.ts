import { resolve } from 'node:path'
import { InvalidOptionError } from '../errors.js'
import type { Dialect } from './schema.js'

/** A database address, parsed once so every adapter and the migration runner agree on it. */
export interface DatabaseUrl {
  dialect: Dialect
  /** The URL as given (may hold a password: never log it). */
  url: string
  /** SQLite: absolute file path (or ":memory:"). */
  file: string
  host: string
  port: number
  user: string
  password: string
  database: string
  /** PostgreSQL schema (`?schema=`); @default "public" */
  schema: string
  /** What error messages name: `host:port` or the SQLite file. */
  target: string
}

/**
 * Accepts `file:./x.db`, `sqlite:./x.db` or a bare path for SQLite; `postgres://` / `postgresql://` with an
 * optional `?schema=`; `mysql://` or `mariadb://`.
 */
export function parseDatabaseUrl(url: string, optionPath = 'url'): DatabaseUrl {
  if (typeof url !== 'string' || url.length === 0) throw new InvalidOptionError(`${optionPath} must be a database URL, got ${JSON.stringify(url)}`)
  const sqlite = /^(?:file:|sqlite:)(.*)$/.exec(url)
  if (sqlite || !/^[a-z]+:\/\//i.test(url)) {
    const path = sqlite ? sqlite[1]!.replace(/^\/\//, '') : url
    const file = path === ':memory:' ? path : resolve(path)
    return { dialect: 'sqlite', url, file, host: '', port: 0, user: '', password: '', database: file, schema: 'main', target: file }
  }
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new InvalidOptionError(`${optionPath} is not a valid URL`)
  }
  const proto = u.protocol.replace(/:$/, '')
  let dialect: Dialect
  if (proto === 'postgres' || proto === 'postgresql') dialect = 'postgres'
  else if (proto === 'mysql' || proto === 'mariadb') dialect = 'mysql'
  else throw new InvalidOptionError(`${optionPath} must start with file:, postgres://, mysql:// or mariadb://, got "${proto}:"`)
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1'
  const port = u.port ? Number(u.port) : dialect === 'postgres' ? 5432 : 3306
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || (dialect === 'postgres' ? 'postgres' : '')
  if (dialect === 'mysql' && !database) throw new InvalidOptionError(`${optionPath} must name a database (mysql://host/db)`)
  return {
    dialect,
    url,
    file: '',
    host,
    port,
    user: decodeURIComponent(u.username) || (dialect === 'postgres' ? 'postgres' : 'root'),
    password: decodeURIComponent(u.password),
    database,
    schema: u.searchParams.get('schema') ?? (dialect === 'postgres' ? 'public' : database),
    target: `${host}:${port}`,
  }
}

/** SQLite is the embedded default: `$ECOM_DATABASE_URL`, else the file `./ecom.db`. */
export const DEFAULT_DATABASE_URL = 'file:./ecom.db'

export function defaultDatabaseUrl(): string {
  return process.env.ECOM_DATABASE_URL || DEFAULT_DATABASE_URL
}
