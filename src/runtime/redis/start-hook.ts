// What `ecom start --redis <url>` plugs into the start code: option parsing and the store choice.
import { InvalidOptionError } from '../../errors.js'
import type { Logger } from '../logger.js'
import { validateRedisUrl } from './client.js'
import type { RateLimitStore } from '../edge/rate-limit-store.js'
import { RedisRateLimitStore, type FailMode } from './rate-limit-store.js'

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
  return { url: validateRedisUrl(input.redis, 'options.redis'), failMode, keyPrefix: input.redisPrefix ?? `ecom:${appName}:` }
}

/** The rate-limit store a process uses: Redis when configured, else the one `fallback` makes. */
export function selectRateLimitStore<T extends RateLimitStore>(redis: StartRedisOptions | null | undefined, logger: Logger, fallback: () => T): RateLimitStore | T {
  if (!redis) return fallback()
  return new RedisRateLimitStore({ redis: redis.url, keyPrefix: redis.keyPrefix, failMode: redis.failMode, logger })
}
