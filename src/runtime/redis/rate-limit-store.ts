import type { Redis } from 'ioredis'
import { InvalidOptionError } from '../../errors.js'
import type { RateLimitResult, RateLimitStore } from '../edge/rate-limit-store.js'
import { RedisBacked, redisMetrics, type RedisStoreOptions } from './client.js'

export type FailMode = 'open' | 'closed'

export interface RedisRateLimitStoreOptions extends RedisStoreOptions {
  /**
   * What a hit answers while Redis is unreachable: "open" lets the request through (availability over
   * the quota), "closed" refuses it with `RedisUnavailableError` (503). Both count a metric and log.
   * @default "open"
   */
  failMode?: FailMode
}

// One round trip, atomic on the server: the first hit of a window sets its expiry, so every machine
// counting into the same key shares one fixed window and one exact count.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`

type WithHit = Redis & { ecomRateHit(key: string, windowMs: number): Promise<[number, number]> }

/** Fixed-window counters in Redis: every `ecom start` pointed at the same server and prefix shares one quota. */
export class RedisRateLimitStore extends RedisBacked implements RateLimitStore {
  readonly failMode: FailMode

  constructor(options: RedisRateLimitStoreOptions) {
    super('rate_limit', options)
    const mode = options.failMode ?? 'open'
    if (mode !== 'open' && mode !== 'closed') throw new InvalidOptionError(`redis.failMode must be "open" or "closed", got ${JSON.stringify(mode)}`)
    this.failMode = mode
    if (!(this.client as unknown as Partial<WithHit>).ecomRateHit) this.client.defineCommand('ecomRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT })
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    try {
      await this.connected()
      const [count, ttl] = await (this.client as unknown as WithHit).ecomRateHit(this.key('rl', key), windowMs)
      if (this.isDown) this.markUp()
      return { allowed: count <= limit, remaining: Math.max(0, limit - count), resetMs: Math.max(0, ttl) }
    } catch (err) {
      const unavailable = this.markDown(err, 'hit')
      if (this.failMode === 'open') {
        redisMetrics().failOpen.inc({ store: 'rate_limit' })
        return { allowed: true, remaining: limit, resetMs: windowMs }
      }
      redisMetrics().failClosed.inc({ store: 'rate_limit' })
      throw unavailable
    }
  }
}
