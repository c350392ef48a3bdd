/**
 * Pieces the Square, Adyen and Braintree adapters share: idempotency-key fitting,
 * money in major units, and the one rule for classifying a transport failure.
 */
import { createHash } from 'node:crypto'
import { InvalidOptionError } from '../../errors.js'
import { currencyExponent, type Money, type NormalizedCode, type OutcomeClass, type ProviderName, type ProviderResult } from '../model.js'

/**
 * Providers cap idempotency keys (Square 45 chars, Adyen 64, Braintree order_id 255). A longer key is
 * replaced by a hash of itself, so the same caller key always maps to the same provider key.
 */
export function fitKey(key: string, max: number): string {
  if (key.length <= max && /^[A-Za-z0-9_.:-]+$/.test(key)) return key
  return createHash('sha256').update(key).digest('base64url').slice(0, max)
}

export function requireString(options: Record<string, unknown>, path: string, name: string): string {
  const value = options[name]
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(`${path}.${name} must be a non-empty string, got ${JSON.stringify(value)}`)
  }
  return value
}

export function exponentOf(currency: string): number {
  const exp = currencyExponent(currency)
  if (exp === undefined) throw new InvalidOptionError(`currency "${currency}" is not a known ISO 4217 code`)
  return exp
}

/** Minor units to the provider's decimal string: 1050 USD -> "10.50", 500 JPY -> "500", 1234 KWD -> "1.234". */
export function toDecimal(money: Money): string {
  const exp = exponentOf(money.currency)
  if (exp === 0) return String(money.amount)
  const s = String(Math.abs(money.amount)).padStart(exp + 1, '0')
  return `${money.amount < 0 ? '-' : ''}${s.slice(0, -exp)}.${s.slice(-exp)}`
}

/** The provider's decimal string back to minor units, without floating-point rounding. */
export function fromDecimal(value: string, currency: string): number {
  const exp = exponentOf(currency)
  const [whole = '0', frac = ''] = value.trim().split('.')
  return Number(whole + frac.padEnd(exp, '0').slice(0, exp))
}

/** Collect `code`, `name` and `message` down an error's cause chain. */
function errorFacts(err: unknown): string {
  const parts: string[] = []
  let cur: unknown = err
  for (let depth = 0; cur && depth < 6; depth++) {
    const e = cur as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown }
    for (const v of [e.code, e.name, e.message]) if (typeof v === 'string') parts.push(v)
    if (Array.isArray(e.errors)) for (const inner of e.errors) parts.push(errorFacts(inner))
    cur = e.cause
  }
  return parts.join(' ')
}

// Failures where no byte of the request reached the provider: safe to try elsewhere.
const NOT_SENT = /ECOM_ERR_HTTP_CLIENT_CLOSED|ECOM_ERR_HTTP_CIRCUIT_OPEN|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|ERR_INVALID_URL|Invalid URL|bad port/
const TIMEOUT = /ETIMEDOUT|TimeoutError|AbortError|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT|timed out|[Tt]imeout/

/**
 * The one transport rule: connection refused or DNS failure means the request surely did not execute
 * (technical failure); anything else after the connection was made (timeout, reset, a half-read answer)
 * may have executed (ambiguous).
 */
export function classifyTransport(err: unknown): { outcome: OutcomeClass; code: NormalizedCode; message: string } {
  const facts = errorFacts(err)
  if (NOT_SENT.test(facts)) return { outcome: 'technical_failure', code: 'network_error', message: facts }
  if (TIMEOUT.test(facts)) return { outcome: 'ambiguous', code: 'timeout', message: facts }
  return { outcome: 'ambiguous', code: 'network_error', message: facts }
}

/**
 * The classes every provider shares for an HTTP status without a decline verdict: 429 and 503 come from
 * the provider's edge before processing (each provider documents them as "not processed, retry"), so they
 * are technical failures; any other 5xx gives no verdict and may follow a commit, so it is ambiguous.
 */
export function classifyHttpStatus(status: number): { outcome: OutcomeClass; code: NormalizedCode } | undefined {
  if (status === 429) return { outcome: 'technical_failure', code: 'rate_limited' }
  if (status === 401 || status === 403) return { outcome: 'technical_failure', code: 'config_error' }
  if (status === 503) return { outcome: 'technical_failure', code: 'provider_unavailable' }
  if (status >= 500) return { outcome: 'ambiguous', code: 'processing_error' }
  return undefined
}

export function result(provider: ProviderName, fields: Omit<ProviderResult, 'provider'>): ProviderResult {
  const out: Record<string, unknown> = { provider }
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v
  return out as unknown as ProviderResult
}

export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const want = name.toLowerCase()
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === want) return Array.isArray(v) ? v[0] : v
  }
  return undefined
}
