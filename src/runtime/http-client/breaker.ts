export interface BreakerOptions {
  /** Open after this many failures in a row. @default 5 */
  consecutiveFailures?: number
  /** Open when failures / requests in the window reaches this ratio... @default 0.5 */
  failureRatio?: number
  /** ...and the window holds at least this many requests. @default 20 */
  minRequests?: number
  /** Rolling window for the ratio, in ms. @default 10000 */
  windowMs?: number
  /** How long the breaker stays open before letting one probe through, in ms. @default 5000 */
  openMs?: number
}

export type BreakerState = 'closed' | 'open' | 'half-open'
const BUCKETS = 10

/**
 * One origin's circuit breaker: closed -> open on consecutive failures or a failure ratio over a
 * rolling window; open -> half-open after `openMs`, when exactly one probe request is let through;
 * the probe's success closes it, its failure opens it again.
 */
export class CircuitBreaker {
  readonly #o: Required<BreakerOptions>
  #state: BreakerState = 'closed'
  #consecutive = 0
  #openedAt = 0
  #probing = false
  // Rolling window as fixed buckets: [bucket start, requests, failures].
  readonly #buckets: Array<[number, number, number]> = Array.from({ length: BUCKETS }, () => [0, 0, 0])
  #current: [number, number, number] | undefined
  #currentEnd = 0

  constructor(options: Required<BreakerOptions>, private readonly onChange?: (s: BreakerState) => void) {
    this.#o = options
  }

  get state(): BreakerState {
    if (this.#state === 'open' && Date.now() - this.#openedAt >= this.#o.openMs) this.#set('half-open')
    return this.#state
  }

  /** May a request go out now? In half-open, only one probe at a time. */
  allow(): boolean {
    const s = this.state
    if (s === 'closed') return true
    if (s === 'open' || this.#probing) return false
    this.#probing = true
    return true
  }

  /** Milliseconds until the breaker lets a probe through (0 if it would now). */
  retryIn(): number {
    return this.#state === 'open' ? Math.max(0, this.#o.openMs - (Date.now() - this.#openedAt)) : 0
  }

  /** The request ended without telling anything about the origin (the caller aborted it). */
  neutral(): void {
    this.#probing = false
  }

  success(): void {
    this.#record(false)
    this.#consecutive = 0
    if (this.#state === 'half-open') {
      this.#probing = false
      this.#reset()
      this.#set('closed')
    }
  }

  failure(): void {
    this.#record(true)
    this.#consecutive++
    if (this.#state === 'half-open') {
      this.#probing = false
      this.#open()
      return
    }
    if (this.#state !== 'closed') return
    if (this.#consecutive >= this.#o.consecutiveFailures) return this.#open()
    let req = 0
    let fail = 0
    const since = Date.now() - this.#o.windowMs
    for (const [start, r, f] of this.#buckets) {
      if (start > since) {
        req += r
        fail += f
      }
    }
    if (req >= this.#o.minRequests && fail / req >= this.#o.failureRatio) this.#open()
  }

  #record(failed: boolean): void {
    const now = Date.now()
    let b = this.#current
    // Every request lands here: the bucket is looked up again only when the clock has left it.
    if (b === undefined || now >= this.#currentEnd) {
      const width = this.#o.windowMs / BUCKETS
      const slot = Math.floor(now / width)
      const start = slot * width
      b = this.#buckets[slot % BUCKETS]!
      if (b[0] !== start) {
        b[0] = start
        b[1] = 0
        b[2] = 0
      }
      this.#current = b
      this.#currentEnd = start + width
    }
    b[1]++
    if (failed) b[2]++
  }

  #open(): void {
    this.#openedAt = Date.now()
    this.#set('open')
  }

  #reset(): void {
    this.#consecutive = 0
    for (const b of this.#buckets) b[0] = 0
    this.#current = undefined
  }

  #set(s: BreakerState): void {
    if (s === this.#state) return
    this.#state = s
    this.onChange?.(s)
  }
}
