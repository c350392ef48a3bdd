import type { Redis } from 'ioredis'
import { CircuitBreaker, type BreakerOptions, type BreakerState } from '../../payments/router/breaker.js'
import { RedisBacked, type RedisStoreOptions } from './client.js'

// Every transition happens in Redis, atomically, so all instances agree: N failures anywhere open the
// breaker everywhere. Returns [state, failures, openedAt].
const FAILURE = `
local s = redis.call('HGET', KEYS[1], 'state') or 'closed'
local opened = tonumber(redis.call('HGET', KEYS[1], 'openedAt') or '0')
local now = tonumber(ARGV[1])
if s == 'open' and now - opened >= tonumber(ARGV[3]) then s = 'half_open' end
local f = redis.call('HINCRBY', KEYS[1], 'failures', 1)
if s == 'half_open' or (s == 'closed' and f >= tonumber(ARGV[2])) then
  s = 'open'
  opened = now
  redis.call('HSET', KEYS[1], 'state', 'open', 'openedAt', now)
  redis.call('PUBLISH', KEYS[2], 'open:' .. now)
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {s, f, opened}
`
const SUCCESS = `
local s = redis.call('HGET', KEYS[1], 'state') or 'closed'
redis.call('HSET', KEYS[1], 'failures', 0)
if s ~= 'closed' then
  redis.call('HSET', KEYS[1], 'state', 'closed', 'openedAt', 0)
  redis.call('PUBLISH', KEYS[2], 'closed:0')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {'closed', 0, 0}
`

type WithBreaker = Redis & {
  ecomBreakerFailure(key: string, channel: string, now: number, threshold: number, cooldownMs: number, ttlMs: number): Promise<[string, number, number]>
  ecomBreakerSuccess(key: string, channel: string, ttlMs: number): Promise<[string, number, number]>
}

export interface RedisBreakerStoreOptions extends RedisStoreOptions {
  /** Re-read every breaker this often, in case a pub/sub notice was missed. @default 1000 */
  refreshMs?: number
}

/**
 * The payment router's circuit-breaker state in Redis, shared by every instance: a breaker opened by
 * failures on one machine is open on all of them. Call `breaker(provider, options)` for each provider
 * (the router's `breaker` option). While Redis is unreachable each breaker keeps working on its local
 * view (a metric and one log line say so) and rejoins the shared state when Redis returns.
 */
export class RedisBreakerStore extends RedisBacked {
  readonly #breakers = new Map<string, SharedCircuitBreaker>()
  #sub: Redis | undefined
  readonly #timer: NodeJS.Timeout

  constructor(options: RedisBreakerStoreOptions) {
    super('payment_breaker', options)
    const c = this.client as unknown as Partial<WithBreaker>
    if (!c.ecomBreakerFailure) this.client.defineCommand('ecomBreakerFailure', { numberOfKeys: 2, lua: FAILURE })
    if (!c.ecomBreakerSuccess) this.client.defineCommand('ecomBreakerSuccess', { numberOfKeys: 2, lua: SUCCESS })
    this.#timer = setInterval(() => void this.refresh(), options.refreshMs ?? 1000)
    this.#timer.unref()
  }

  keyOf(provider: string): string {
    return this.key('breaker', provider)
  }

  channelOf(provider: string): string {
    return this.key('breaker', provider, 'changed')
  }

  /** A breaker for one provider whose state lives in Redis. */
  breaker(provider: string, options: BreakerOptions): SharedCircuitBreaker {
    let b = this.#breakers.get(provider)
    if (!b) {
      b = new SharedCircuitBreaker(this, provider, options)
      this.#breakers.set(provider, b)
      this.#subscribe(provider)
      void this.refreshOne(b)
    }
    return b
  }

  #subscribe(provider: string): void {
    if (!this.#sub) {
      this.#sub = this.client.duplicate({ enableOfflineQueue: true, autoResubscribe: true })
      this.#sub.on('error', (err: Error) => this.markDown(err, 'connection'))
      this.#sub.on('message', (channel: string, text: string) => {
        for (const b of this.#breakers.values()) {
          if (this.channelOf(b.provider) !== channel) continue
          const [state, at] = text.split(':')
          b.apply(state === 'open' ? 'open' : 'closed', state === 'open' ? b.failures : 0, Number(at))
        }
      })
    }
    void this.#sub.subscribe(this.channelOf(provider)).catch(() => {})
  }

  async refreshOne(b: SharedCircuitBreaker): Promise<void> {
    try {
      await this.connected()
      const h = await this.client.hgetall(this.keyOf(b.provider))
      if (this.isDown) this.markUp()
      b.apply(h.state === 'open' ? 'open' : 'closed', Number(h.failures ?? 0), Number(h.openedAt ?? 0))
    } catch (err) {
      this.markDown(err, 'refresh')
    }
  }

  async refresh(): Promise<void> {
    await Promise.all([...this.#breakers.values()].map((b) => this.refreshOne(b)))
  }

  /** @internal */
  async record(b: SharedCircuitBreaker, ok: boolean): Promise<void> {
    const c = this.client as unknown as WithBreaker
    const ttl = Math.max(60_000, b.options.cooldownMs * 10)
    try {
      await this.connected()
      const [state, failures, openedAt] = ok
        ? await c.ecomBreakerSuccess(this.keyOf(b.provider), this.channelOf(b.provider), ttl)
        : await c.ecomBreakerFailure(this.keyOf(b.provider), this.channelOf(b.provider), b.now(), b.options.failureThreshold, b.options.cooldownMs, ttl)
      if (this.isDown) this.markUp()
      b.apply(state === 'open' ? 'open' : 'closed', Number(failures), Number(openedAt))
    } catch (err) {
      this.markDown(err, ok ? 'success' : 'failure')
    }
  }

  override async close(): Promise<void> {
    clearInterval(this.#timer)
    if (this.#sub) {
      const sub = this.#sub
      this.#sub = undefined
      sub.disconnect()
    }
    await super.close()
  }
}

/**
 * The router's `CircuitBreaker` surface (state, available, acquire, success, failure, onChange), kept
 * synchronous: decisions read a local mirror; every outcome updates the mirror at once and Redis in the
 * background, and Redis (script results, pub/sub notices, a periodic refresh) corrects the mirror.
 * Half-open probes are counted per instance.
 */
export class SharedCircuitBreaker extends CircuitBreaker {
  #state: 'closed' | 'open' = 'closed'
  #openedAt = 0
  #failures = 0
  #probes = 0
  #lastReported: BreakerState = 'closed'
  readonly now: () => number

  constructor(
    readonly store: RedisBreakerStore,
    readonly provider: string,
    readonly options: BreakerOptions
  ) {
    super(options)
    this.now = options.now ?? Date.now
  }

  get failures(): number {
    return this.#failures
  }

  override get state(): BreakerState {
    const s: BreakerState = this.#state === 'open' && this.now() - this.#openedAt >= this.options.cooldownMs ? 'half_open' : this.#state
    if (s !== this.#lastReported) {
      if (s === 'half_open' || this.#lastReported === 'half_open') this.#probes = 0
      this.#lastReported = s
      this.onChange?.(s)
    }
    return s
  }

  override available(): boolean {
    const s = this.state
    return s === 'closed' || (s === 'half_open' && this.#probes < this.options.halfOpenProbes)
  }

  override acquire(): boolean {
    const s = this.state
    if (s === 'closed') return true
    if (s === 'half_open' && this.#probes < this.options.halfOpenProbes) {
      this.#probes++
      return true
    }
    return false
  }

  override success(): void {
    this.apply('closed', 0, 0)
    void this.store.record(this, true)
  }

  override failure(): void {
    // Local view first, so this instance reacts even before (or without) Redis.
    const s = this.state
    this.#failures++
    if (s === 'half_open' || (s === 'closed' && this.#failures >= this.options.failureThreshold)) this.apply('open', this.#failures, this.now())
    void this.store.record(this, false)
  }

  /** Take the shared state (from Redis) as this instance's view. */
  apply(state: 'open' | 'closed', failures: number, openedAt: number): void {
    this.#state = state
    this.#failures = failures
    this.#openedAt = state === 'open' ? openedAt : 0
    void this.state // report a transition through onChange
  }
}
