import { createRequire } from 'node:module'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { nativeStatus } from '../../native/loader.js'
import type { OrmAdapter } from '../../orm/adapter.js'
import { createAdapter } from '../../orm/adapters/index.js'
import { defineSchema } from '../../orm/schema.js'
import { parseDatabaseUrl } from '../../orm/url.js'
import { redactUrl } from '../redis/client.js'

export type Verdict = 'ok' | 'warn' | 'fail' | 'skip'

export interface CheckResult {
  /** Short name shown in the first column. */
  check: string
  verdict: Verdict
  /** One line: what was found, and for warn/fail what to do. Never a secret. */
  detail: string
  /** A failing required check makes `ecom doctor` exit 1. */
  required: boolean
}

export interface DoctorOptions {
  /** Database URLs to reach (sqlite file:/path, postgres://, mysql:// or mariadb://). @default $DATABASE_URL */
  databases: string[]
  /** ORM adapters the app uses; each must be installed. @default [] */
  adapters: string[]
  /** Redis URL to PING. @default $ECOM_REDIS_URL or $REDIS_URL */
  redis: string | undefined
  /** Checks that must pass, besides Node and the configured databases/Redis: "payments", "pm2". @default [] */
  require: string[]
  /** Timeout per network check. @default 3000 */
  timeoutMs: number
  env: NodeJS.ProcessEnv
}

const require = createRequire(import.meta.url)
const MIN_NODE = [20, 19, 0]

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p,
    new Promise<T>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`${what} did not answer within ${ms}ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

function installed(pkg: string): string | undefined {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version
  } catch {
    // Packages whose exports hide package.json: find it above the resolved entry.
    try {
      let dir = dirname(require.resolve(pkg))
      while (dir !== dirname(dir)) {
        const file = join(dir, 'package.json')
        if (existsSync(file)) {
          const meta = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string }
          if (meta.name === pkg) return meta.version ?? 'unknown version'
        }
        dir = dirname(dir)
      }
      return 'unknown version'
    } catch {
      return undefined
    }
  }
}

export function checkNode(version = process.versions.node): CheckResult {
  const parts = version.split('.').map(Number)
  let ok = true
  for (let i = 0; i < 3; i++) {
    if (parts[i]! > MIN_NODE[i]!) break
    if (parts[i]! < MIN_NODE[i]!) {
      ok = false
      break
    }
  }
  return ok
    ? { check: 'node', verdict: 'ok', detail: `v${version} (>= ${MIN_NODE.join('.')})`, required: true }
    : { check: 'node', verdict: 'fail', detail: `v${version}; ecom needs >= ${MIN_NODE.join('.')}`, required: true }
}

/** Native addon or TypeScript fallback, and why (the native area's own verdict). */
export function checkNative(): CheckResult {
  try {
    const s = nativeStatus()
    return s.native
      ? { check: 'native addon', verdict: 'ok', detail: `native: ${s.reason}`, required: false }
      : { check: 'native addon', verdict: 'warn', detail: `TypeScript fallback: ${s.reason}`, required: false }
  } catch (err) {
    return { check: 'native addon', verdict: 'warn', detail: `TypeScript fallback: ${(err as Error).message}`, required: false }
  }
}

const DB_DRIVERS: Record<string, { pkg: string; label: string }> = {
  'file:': { pkg: 'better-sqlite3', label: 'sqlite' },
  'sqlite:': { pkg: 'better-sqlite3', label: 'sqlite' },
  'postgres:': { pkg: 'pg', label: 'postgres' },
  'postgresql:': { pkg: 'pg', label: 'postgres' },
  'mysql:': { pkg: 'mariadb', label: 'mysql' },
  'mariadb:': { pkg: 'mariadb', label: 'mariadb' },
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '[unparsable url]'
  }
}

/** Reach one database with its raw driver: SELECT 1. */
export async function checkDatabase(url: string, timeoutMs: number): Promise<CheckResult> {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return { check: 'database', verdict: 'fail', detail: 'DATABASE_URL is not a URL (file:, postgres://, mysql://, mariadb://)', required: true }
  }
  const driver = DB_DRIVERS[u.protocol]
  if (!driver) return { check: 'database', verdict: 'fail', detail: `unsupported database URL scheme ${u.protocol}`, required: true }
  const name = `database ${driver.label}`
  if (!installed(driver.pkg)) return { check: name, verdict: 'fail', detail: `driver ${driver.pkg} is not installed: npm install ${driver.pkg}`, required: true }
  const shown = safeUrl(url)
  try {
    if (driver.label === 'sqlite') {
      const file = decodeURIComponent(u.pathname)
      if (file !== ':memory:' && file !== '/:memory:' && !existsSync(file)) {
        return { check: name, verdict: 'warn', detail: `${file} does not exist yet (created on first start)`, required: true }
      }
      const Database = require('better-sqlite3') as new (f: string, o: object) => { prepare(s: string): { get(): unknown }; close(): void }
      const db = new Database(file.includes('memory') ? ':memory:' : file, { readonly: !file.includes('memory'), fileMustExist: !file.includes('memory') })
      db.prepare('SELECT 1').get()
      db.close()
    } else if (driver.label === 'postgres') {
      const pg = require('pg') as { Client: new (o: object) => { connect(): Promise<void>; query(s: string): Promise<unknown>; end(): Promise<void> } }
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs })
      try {
        await withTimeout(client.connect(), timeoutMs, shown)
        await withTimeout(client.query('SELECT 1'), timeoutMs, shown)
      } finally {
        await client.end().catch(() => {})
      }
    } else {
      const mariadb = require('mariadb') as { createConnection(o: object): Promise<{ query(s: string): Promise<unknown>; end(): Promise<void> }> }
      const conn = await withTimeout(
        mariadb.createConnection({
          host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
          database: u.pathname.slice(1) || undefined, connectTimeout: timeoutMs,
        }),
        timeoutMs, shown
      )
      try {
        await conn.query('SELECT 1')
      } finally {
        await conn.end().catch(() => {})
      }
    }
    return { check: name, verdict: 'ok', detail: `${shown} answers`, required: true }
  } catch (err) {
    return { check: name, verdict: 'fail', detail: `${shown}: ${(err as Error).message.split('\n')[0]}`, required: true }
  }
}

const ORM_ADAPTERS = ['prisma', 'sequelize', 'drizzle']
const ADAPTER_PACKAGES: Record<string, string[]> = {
  prisma: ['@prisma/client'],
  sequelize: ['sequelize'],
  drizzle: ['drizzle-orm'],
}

export function checkAdapter(adapter: string): CheckResult {
  const pkgs = ADAPTER_PACKAGES[adapter]
  const check = `orm adapter ${adapter}`
  if (!pkgs) return { check, verdict: 'fail', detail: `unknown adapter; expected one of ${Object.keys(ADAPTER_PACKAGES).join(', ')}`, required: true }
  const missing = pkgs.filter((p) => !installed(p))
  if (missing.length > 0) return { check, verdict: 'fail', detail: `not installed: npm install ${missing.join(' ')}`, required: true }
  return { check, verdict: 'ok', detail: pkgs.map((p) => `${p} ${installed(p)}`).join(', '), required: true }
}

/** One configured adapter against one database: the ORM connects, pings and closes (names host and port on failure). */
export async function checkAdapterOnDatabase(adapter: string, url: string, timeoutMs: number): Promise<CheckResult> {
  const installedCheck = checkAdapter(adapter)
  let label = 'database'
  try {
    label = parseDatabaseUrl(url).dialect
  } catch {
    // reported by the database row
  }
  const check = `orm ${adapter} -> ${label}`
  if (installedCheck.verdict !== 'ok') return { ...installedCheck, check }
  const schema = defineSchema({ models: {} })
  let a: OrmAdapter | undefined
  try {
    a = createAdapter(schema, { orm: adapter as 'drizzle', url })
    await withTimeout(a.connect(), timeoutMs * 3, `${adapter} on ${label}`)
    await withTimeout(a.ping(), timeoutMs, `${adapter} on ${label}`)
    return { check, verdict: 'ok', detail: `${installedCheck.detail}: connected and answered`, required: true }
  } catch (err) {
    return { check, verdict: 'fail', detail: (err as Error).message.split('\n')[0]!, required: true }
  } finally {
    await a?.close().catch(() => {})
  }
}

export async function checkRedis(url: string | undefined, timeoutMs: number, required: boolean): Promise<CheckResult> {
  if (!url) return { check: 'redis', verdict: 'skip', detail: 'not configured (pass --redis or set ECOM_REDIS_URL); workers share state through the primary', required: false }
  const shown = redactUrl(url)
  const version = installed('ioredis')
  if (!version) return { check: 'redis', verdict: 'fail', detail: 'ioredis is not installed: npm install ioredis', required }
  const { Redis } = require('ioredis') as typeof import('ioredis')
  const client = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  client.on('error', () => {})
  try {
    await withTimeout(client.connect(), timeoutMs, shown)
    const pong = await withTimeout(client.ping(), timeoutMs, shown)
    const info = await withTimeout(client.info('server'), timeoutMs, shown)
    const server = /redis_version:(\S+)/.exec(info)?.[1] ?? '?'
    return { check: 'redis', verdict: pong === 'PONG' ? 'ok' : 'fail', detail: `${shown} answers (server ${server})`, required }
  } catch (err) {
    return { check: 'redis', verdict: 'fail', detail: `${shown}: ${(err as Error).message}`, required }
  } finally {
    client.disconnect()
  }
}

/** Environment variables each payment provider needs. Only presence is checked; values are never shown. */
export const PROVIDER_ENV: Record<string, string[]> = {
  stripe: ['STRIPE_SECRET_KEY'],
  square: ['SQUARE_ACCESS_TOKEN', 'SQUARE_LOCATION_ID'],
  adyen: ['ADYEN_API_KEY', 'ADYEN_MERCHANT_ACCOUNT'],
  braintree: ['BRAINTREE_MERCHANT_ID', 'BRAINTREE_PUBLIC_KEY', 'BRAINTREE_PRIVATE_KEY'],
}

export function checkPayments(env: NodeJS.ProcessEnv, required: boolean): CheckResult[] {
  const results: CheckResult[] = []
  for (const [provider, vars] of Object.entries(PROVIDER_ENV)) {
    const set = vars.filter((v) => (env[v] ?? '').length > 0)
    const check = `payments ${provider}`
    if (set.length === 0) results.push({ check, verdict: 'skip', detail: `not configured (${vars.join(', ')})`, required: false })
    else if (set.length < vars.length) {
      const missing = vars.filter((v) => !set.includes(v))
      results.push({ check, verdict: 'fail', detail: `credentials incomplete: ${set.join(', ')} set; missing ${missing.join(', ')}`, required: true })
    } else results.push({ check, verdict: 'ok', detail: `credentials present (${vars.join(', ')}; values not shown)`, required: false })
  }
  if (!results.some((r) => r.verdict === 'ok')) {
    results.push({ check: 'payments', verdict: required ? 'fail' : 'warn', detail: 'no payment provider has its credentials set', required })
  }
  return results
}

export function checkPm2(required: boolean): CheckResult {
  const version = installed('pm2')
  return version
    ? { check: 'pm2', verdict: 'ok', detail: `pm2 ${version} (for ecom deploy pm2)`, required }
    : { check: 'pm2', verdict: required ? 'fail' : 'warn', detail: 'pm2 is not installed: npm install pm2 (only needed for ecom deploy pm2)', required }
}

/** Run every check; network checks run side by side. */
export async function runChecks(o: DoctorOptions): Promise<CheckResult[]> {
  const native = checkNative()
  const [redis, ...dbs] = await Promise.all([
    checkRedis(o.redis, o.timeoutMs, o.redis !== undefined),
    ...o.databases.map((d) => checkDatabase(d, o.timeoutMs)),
  ])
  // Each configured adapter against each database, one at a time (Prisma may generate its client once).
  const adapters: CheckResult[] = []
  for (const a of o.adapters) {
    if (o.databases.length === 0) adapters.push(checkAdapter(a))
    for (const d of o.databases) adapters.push(ORM_ADAPTERS.includes(a) ? await checkAdapterOnDatabase(a, d, o.timeoutMs) : checkAdapter(a))
  }
  return [
    checkNode(),
    native,
    ...(dbs.length > 0 ? dbs : [{ check: 'database', verdict: 'skip' as const, detail: 'not configured (pass --db or set DATABASE_URL)', required: false }]),
    ...adapters,
    redis!,
    ...checkPayments(o.env, o.require.includes('payments')),
    checkPm2(o.require.includes('pm2')),
  ]
}

export function failing(results: CheckResult[]): CheckResult[] {
  return results.filter((r) => r.required && r.verdict === 'fail')
}

export function renderTable(results: CheckResult[]): string {
  const w = Math.max(5, ...results.map((r) => r.check.length))
  const lines = [`${'CHECK'.padEnd(w)}  VERDICT  DETAIL`]
  for (const r of results) lines.push(`${r.check.padEnd(w)}  ${r.verdict.toUpperCase().padEnd(7)}  ${r.detail}${r.verdict === 'fail' && !r.required ? ' (optional)' : ''}`)
  return lines.join('\n') + '\n'
}
