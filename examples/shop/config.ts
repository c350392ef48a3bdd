// Every environment variable the shop reads, read once at start (docs/shop.md lists them).
import { mkdirSync } from 'node:fs'
import { isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvalidConfigError } from 'ecom'
import { PROVIDER_NAMES, type ProviderName } from 'ecom/payments'

export interface ShopConfig {
  /** Where the SQLite file, the keyring and the master key file live. */
  dataDir: string
  /** `file:<dataDir>/shop.db`, or ECOM_SHOP_DATABASE_URL (postgres://…). */
  databaseUrl: string
  /** The payment sandbox; undefined: checkout answers ECOM_ERR_SHOP_PAYMENTS_UNCONFIGURED. */
  sandboxUrl: string | undefined
  /** Tried first by the failover strategy; the others follow in PROVIDER_NAMES order. */
  preferredProvider: ProviderName
  /** Where paid-order notifications are POSTed; undefined: they stay in the outbox table. */
  notifyUrl: string | undefined
  /** The public origin webhooks arrive at (Square signs URL + body); default: the request's Host. */
  publicUrl: string | undefined
  /** The sample catalog seeded on first start. */
  catalogFile: string
  workerId: string
}

const HERE = fileURLToPath(new URL('.', import.meta.url))

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ShopConfig {
  const problems: string[] = []
  const dataDir = resolve(env.ECOM_SHOP_DATA_DIR || join(HERE, '.data'))
  const preferred = (env.ECOM_SHOP_PREFERRED_PROVIDER || 'stripe') as ProviderName
  if (!PROVIDER_NAMES.includes(preferred)) {
    problems.push(`ECOM_SHOP_PREFERRED_PROVIDER: expected one of ${PROVIDER_NAMES.join(', ')}, got "${preferred}"`)
  }
  for (const name of ['ECOM_SANDBOX_URL', 'ECOM_SHOP_NOTIFY_URL', 'ECOM_SHOP_PUBLIC_URL'] as const) {
    const v = env[name]
    if (v && !/^https?:\/\/[^/]/.test(v)) problems.push(`${name}: expected an http(s) URL, got "${v}"`)
  }
  const catalogFile = env.ECOM_SHOP_CATALOG || join(HERE, 'catalog.ndjson')
  if (problems.length) throw new InvalidConfigError(problems.join('; '), { details: { problems } })
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  return {
    dataDir,
    databaseUrl: env.ECOM_SHOP_DATABASE_URL || `file:${join(dataDir, 'shop.db')}`,
    sandboxUrl: env.ECOM_SANDBOX_URL?.replace(/\/+$/, '') || undefined,
    preferredProvider: preferred,
    notifyUrl: env.ECOM_SHOP_NOTIFY_URL || undefined,
    publicUrl: env.ECOM_SHOP_PUBLIC_URL?.replace(/\/+$/, '') || undefined,
    catalogFile: isAbsolute(catalogFile) ? catalogFile : resolve(catalogFile),
    workerId: env.ECOM_WORKER_ID ?? '0',
  }
}
