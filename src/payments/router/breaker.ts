export type BreakerState = 'closed' | 'open' | 'half_open'

export interface BreakerOptions {
  failureThreshold: number
  cooldownMs: number
  halfOpenProbes: number
  now?: () => number
}

/**
 * A per-provider circuit breaker. Consecutive technical failures and ambiguous outcomes open it
 * (declines do not: the provider answered); after `cooldownMs` it lets `halfOpenProbes` calls through,
 * and closes on a success or re-opens on a failure.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed'
  #failures = 0
  #openedAt = 0
  #probes = 0
  readonly #o: BreakerOptions
  readonly #now: () => number
  onChange?: (state: BreakerState) => void

  constructor(options: BreakerOptions) {
    this.#o = options
    this.#now = options.now ?? Date.now
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#o.cooldownMs) this.#set('half_open')
    return this.#state
  }

  /** Whether a call may go out now, without taking a probe slot (for routing decisions). */
  available(): boolean {
    const s = this.state
    return s === 'closed' || (s === 'half_open' && this.#probes < this.#o.halfOpenProbes)
  }

  /** Take permission for one call; false when the breaker refuses it. */
  acquire(): boolean {
    const s = this.state
    if (s === 'closed') return true
    if (s === 'half_open' && this.#probes < this.#o.halfOpenProbes) {
      this.#probes++
      return true
    }
    return false
  }

  success(): void {
    this.#failures = 0
    if (this.#state !== 'closed') this.#set('closed')
  }

  failure(): void {
    this.#failures++
    if (this.#state === 'half_open' || (this.#state === 'closed' && this.#failures >= this.#o.failureThreshold)) {
      this.#openedAt = this.#now()
      this.#set('open')
    }
  }

  #set(s: BreakerState): void {
    this.#state = s
    this.#probes = 0
    this.onChange?.(s)
  }
}

/** Latency moving average and success rate over a sliding window, per provider. */
export class ProviderHealth {
  latencyMs: number | undefined
  readonly #window: boolean[] = []
  #next = 0
  #ok = 0

  constructor(readonly alpha: number, readonly windowSize: number) {}

  record(ok: boolean, latencyMs: number): void {
    this.latencyMs = this.latencyMs === undefined ? latencyMs : this.alpha * latencyMs + (1 - this.alpha) * this.latencyMs
    if (this.#window.length < this.windowSize) {
      this.#window.push(ok)
    } else {
      if (this.#window[this.#next]) this.#ok--
      this.#window[this.#next] = ok
      this.#next = (this.#next + 1) % this.windowSize
    }
    if (ok) this.#ok++
  }

  /** Share of successes in the window; undefined before any call. */
  get successRate(): number | undefined {
    return this.#window.length === 0 ? undefined : this.#ok / this.#window.length
  }

  get samples(): number {
    return this.#window.length
  }
}
