/**
 * What the Square, Adyen and Braintree emulators share: an idempotency store with the real APIs'
 * "same key + same body replays, same key + other body conflicts" rule, id minting and body helpers.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EmulatorContext } from './index.js'

export interface StoredAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export type IdempotencyLookup =
  | { kind: 'new' }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'conflict' }

/** Keys are scoped by the caller's scope (endpoint or merchant), like the real APIs. */
export class IdempotencyStore {
  readonly #entries = new Map<string, { fingerprint: string; answer: StoredAnswer }>()

  static fingerprint(...parts: (string | Buffer)[]): string {
    const h = createHash('sha256')
    for (const p of parts) h.update(p).update('\0')
    return h.digest('hex')
  }

  check(scope: string, key: string, fingerprint: string): IdempotencyLookup {
    const entry = this.#entries.get(`${scope}\0${key}`)
    if (!entry) return { kind: 'new' }
    return entry.fingerprint === fingerprint ? { kind: 'replay', answer: entry.answer } : { kind: 'conflict' }
  }

  store(scope: string, key: string, fingerprint: string, answer: StoredAnswer): void {
    this.#entries.set(`${scope}\0${key}`, { fingerprint, answer })
  }

  clear(): void {
    this.#entries.clear()
  }
}

export function mintId(prefix: string, bytes = 12): string {
  return prefix + randomBytes(bytes).toString('base64url').replace(/[-_]/g, 'x')
}

export function send(res: ServerResponse, answer: StoredAnswer): void {
  res.writeHead(answer.status, { 'content-length': Buffer.byteLength(answer.body), ...answer.headers })
  res.end(answer.body)
}

export function jsonAnswer(status: number, value: unknown, headers: Record<string, string> = {}): StoredAnswer {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) }
}

export function parseJson(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return {}
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}

export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://sandbox.local')
}

/**
 * What the sandbox server hands an emulator (its `EmulatorContext`): test credentials, `emitWebhook`,
 * and `webhookUrl()`, the URL webhooks are delivered to, which Square signs together with the body.
 */
export type EmulatorHost = EmulatorContext
