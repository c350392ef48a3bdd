/** The answer of a store for one hit. `resetMs` is the time left in the current window. */
export interface RateLimitResult {
  allowed: boolean
  remaining: number
  resetMs: number
}

/**
 * Where rate-limit counters live. The edge calls `hit` once per request; a store counts the hit against
 * `key` in a fixed window of `windowMs` and says whether it is within `limit`. Implementations: the
 * in-memory store (single process, and the primary of a cluster), the IPC store (cluster workers asking
 * the primary), and later a Redis store for several machines.
 */
export interface RateLimitStore {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>
  close?(): Promise<void>
}

/** A store that can also answer synchronously (in-process counters); the edge then skips a promise. */
export interface SyncRateLimitStore extends RateLimitStore {
  hitSync(key: string, limit: number, windowMs: number): RateLimitResult
}

export function isSyncStore(store: RateLimitStore): store is SyncRateLimitStore {
  return typeof (store as Partial<SyncRateLimitStore>).hitSync === 'function'
}

interface Window {
  count: number
  resetAt: number
}

/** Fixed-window counters in a Map; expired windows are swept so idle clients do not pile up. */
export class MemoryRateLimitStore implements SyncRateLimitStore {
  readonly #windows = new Map<string, Window>()
  readonly #sweep: NodeJS.Timeout

  constructor(sweepIntervalMs = 10_000) {
    this.#sweep = setInterval(() => this.#removeExpired(), sweepIntervalMs)
    this.#sweep.unref()
  }

  /** Synchronous form, for the primary answering IPC without an extra tick. */
  hitSync(key: string, limit: number, windowMs: number, now = Date.now()): RateLimitResult {
    let w = this.#windows.get(key)
    if (w === undefined || w.resetAt <= now) {
      w = { count: 0, resetAt: now + windowMs }
      this.#windows.set(key, w)
    }
    w.count++
    return { allowed: w.count <= limit, remaining: Math.max(0, limit - w.count), resetMs: w.resetAt - now }
  }

  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    return Promise.resolve(this.hitSync(key, limit, windowMs))
  }

  get size(): number {
    return this.#windows.size
  }

  #removeExpired(): void {
    const now = Date.now()
    for (const [key, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(key)
  }

  close(): Promise<void> {
    clearInterval(this.#sweep)
    this.#windows.clear()
    return Promise.resolve()
  }
}
