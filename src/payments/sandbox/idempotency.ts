import { createHash } from 'node:crypto'

/** A stored answer, replayed byte for byte for the same key and the same request. */
export interface StoredResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export type IdempotencyCheck =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'conflict' }
  | { readonly kind: 'in_flight' }

interface Entry {
  fingerprint: string
  response?: StoredResponse
}

/**
 * The idempotency store the emulators share: the first request with a key executes; the same key with
 * the same request replays the stored answer; the same key with a different request is a conflict
 * (each emulator answers it in its provider's format); a key still executing is `in_flight`.
 * Scope the key per account/endpoint as the real provider does.
 */
export class IdempotencyStore {
  readonly #entries = new Map<string, Entry>()

  static fingerprint(...parts: Array<string | Buffer>): string {
    const h = createHash('sha256')
    for (const p of parts) h.update(p).update('\0')
    return h.digest('hex')
  }

  begin(key: string, fingerprint: string): IdempotencyCheck {
    const e = this.#entries.get(key)
    if (!e) {
      this.#entries.set(key, { fingerprint })
      return { kind: 'new' }
    }
    if (e.fingerprint !== fingerprint) return { kind: 'conflict' }
    if (!e.response) return { kind: 'in_flight' }
    return { kind: 'replay', response: e.response }
  }

  /** Store the answer for a key begun with `begin`. */
  finish(key: string, response: StoredResponse): void {
    const e = this.#entries.get(key)
    if (e) e.response = response
  }

  /** Forget a key whose request failed before executing (the provider does not store those). */
  abandon(key: string): void {
    const e = this.#entries.get(key)
    if (e && !e.response) this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}
