// What `ecom start --redis <url>` plugs into the start code: option parsing and the store choice.
// Kept free of heavy imports (ioredis, prom-client, pino): start loads this on every boot, Redis or not.
import { InvalidOptionError } from '../../errors.js'
import type { RateLimitResult, RateLimitStore } from '../edge/rate-limit-store.js'
import type { Logger } from '../logger.js'
import type { FailMode } from './rate-limit-store.js'
import { validateRedisUrl } from './url.js'

/** Shared state in Redis for `ecom start`, so several instances (machines) share one quota. */
export interface StartRedisOptions {
  url: string
  /** What the rate limiter does while Redis is unreachable. @default "open" */
  failMode: FailMode
  /** Prefix of every key, so several apps can share one server. @default "ecom:<app name>:" */
  keyPrefix: string
}

export function resolveStartRedis(
  input: { redis?: string; redisFailMode?: string; redisPrefix?: string },
  appName: string
): StartRedisOptions | null {
  if (input.redis === undefined || input.redis === '') {
    if (input.redisFailMode !== undefined || input.redisPrefix !== undefined) {
      throw new InvalidOptionError('options.redisFailMode and options.redisPrefix need options.redis (--redis <url>)')
    }
    return null
  }
  const failMode = input.redisFailMode ?? 'open'
  if (failMode !== 'open' && failMode !== 'closed') {
    throw new InvalidOptionError(`options.redisFailMode must be "open" or "closed", got ${JSON.stringify(failMode)}`)
  }
  validateRedisUrl(input.redis, 'options.redis')
  return { url: input.redis, failMode, keyPrefix: input.redisPrefix ?? `ecom:${appName}:` }
}

/** Loads the Redis store (and ioredis) on the first hit, so a start without --redis never pays for it. */
class LazyRedisRateLimitStore implements RateLimitStore {
  #store: Promise<RateLimitStore> | undefined

  constructor(
    readonly redis: StartRedisOptions,
    readonly logger: Logger
  ) {
    // Connect right away so the first requests do not wait for the TCP handshake.
    void this.#get().catch(() => {})
  }

  #get(): Promise<RateLimitStore> {
    this.#store ??= import('./rate-limit-store.js').then(
      ({ RedisRateLimitStore }) =>
        new RedisRateLimitStore({ redis: this.redis.url, keyPrefix: this.redis.keyPrefix, failMode: this.redis.failMode, logger: this.logger })
    )
    return this.#store
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    return (await this.#get()).hit(key, limit, windowMs)
  }

  async close(): Promise<void> {
    if (this.#store) await (await this.#store).close?.()
  }
}

/** The rate-limit store a process uses: Redis when configured, else the one `fallback` makes. */
export function selectRateLimitStore<T extends RateLimitStore>(redis: StartRedisOptions | null | undefined, logger: Logger, fallback: () => T): RateLimitStore | T {
  if (!redis) return fallback()
  return new LazyRedisRateLimitStore(redis, logger)
}
