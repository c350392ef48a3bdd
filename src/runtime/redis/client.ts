import { createRequire } from 'node:module'
import { Counter, Gauge } from 'prom-client'
import type { Redis, RedisOptions } from 'ioredis'
import { MissingDependencyError, RedisUnavailableError } from '../../errors.js'
import { createLogger, type Logger } from '../logger.js'
import { getRegistry } from '../metrics.js'
import { validateRedisUrl } from './url.js'

export type { Redis }

/** What every Redis store takes. */
export interface RedisStoreOptions {
  /** `redis://[user:pass@]host:port[/db]`, or an existing ioredis client (not closed by the store). */
  redis: string | Redis
  /** Prefix of every key and channel, so apps (and test runs) sharing a server never meet. @default "ecom:" */
  keyPrefix?: string
  /** A command that takes longer fails (and the store applies its failure mode). @default 500 */
  commandTimeoutMs?: number
  logger?: Logger
}

export const REDIS_DEFAULTS = { keyPrefix: 'ecom:', commandTimeoutMs: 500 }

function loadIoredis(): new (url: string, options: RedisOptions) => Redis {
  const require = createRequire(import.meta.url)
  try {
    const mod = require('ioredis') as { default?: unknown; Redis?: unknown }
    return (mod.Redis ?? mod.default ?? mod) as new (url: string, options: RedisOptions) => Redis
  } catch (err) {
    throw new MissingDependencyError('ioredis is not installed: npm install ioredis', { cause: err, details: { package: 'ioredis' } })
  }
}

/** A URL without its password, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '[invalid url]'
  }
}

/**
 * An ioredis client tuned for stores that sit on a request path: no offline queue and no per-request
 * retries, so during an outage a command fails at once (and the store's fail-open/closed policy
 * answers) instead of piling up; reconnects keep trying in the background with a capped backoff.
 */
export function createRedisClient(url: string, options: { commandTimeoutMs?: number; name?: string } = {}): Redis {
  const IORedis = loadIoredis()
  return new IORedis(validateRedisUrl(url), {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    connectionName: options.name ?? 'ecom',
    enableReadyCheck: true,
  })
}

// Metrics shared by every Redis store of this process.
interface RedisMetrics {
  errors: Counter<'store' | 'op'>
  failOpen: Counter<'store'>
  failClosed: Counter<'store'>
  up: Gauge<'store'>
}
let metrics: RedisMetrics | undefined
export function redisMetrics(): RedisMetrics {
  if (metrics) return metrics
  const registers = [getRegistry()]
  metrics = {
    errors: new Counter({ name: 'ecom_redis_errors_total', help: 'Redis commands that failed (outage, timeout), by store and operation', labelNames: ['store', 'op'], registers }),
    failOpen: new Counter({ name: 'ecom_redis_fail_open_total', help: 'Requests let through because Redis was unavailable (fail-open)', labelNames: ['store'], registers }),
    failClosed: new Counter({ name: 'ecom_redis_fail_closed_total', help: 'Requests refused because Redis was unavailable (fail-closed)', labelNames: ['store'], registers }),
    up: new Gauge({ name: 'ecom_redis_up', help: '1 while the store reaches Redis, 0 during an outage', labelNames: ['store'], registers }),
  }
  return metrics
}

/**
 * The shared part of every store: owns (or borrows) the client, tracks up/down transitions so an outage
 * logs one line when it starts and one when it ends, not one per request.
 */
export class RedisBacked {
  readonly client: Redis
  readonly prefix: string
  readonly log: Logger
  readonly #owned: boolean
  readonly #store: string
  #down = false
  #everReady = false
  readonly #connectWaitMs: number

  constructor(store: string, options: RedisStoreOptions) {
    this.#store = store
    this.prefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix
    this.log = options.logger ?? createLogger()
    if (typeof options.redis === 'string') {
      this.client = createRedisClient(options.redis, { commandTimeoutMs: options.commandTimeoutMs, name: `ecom-${store}` })
      this.#owned = true
    } else {
      this.client = options.redis
      this.#owned = false
    }
    // ioredis emits 'error' on every failed reconnect; without a listener Node would crash the process.
    this.client.on('error', (err: Error) => this.markDown(err, 'connection'))
    this.client.on('ready', () => {
      this.#everReady = true
      this.markUp()
    })
    this.#everReady = this.client.status === 'ready'
    this.#connectWaitMs = 2_000
    redisMetrics().up.set({ store }, this.client.status === 'ready' ? 1 : 0)
  }

  /**
   * Commands fail fast while Redis is down, but the very first ones may wait for the initial connection
   * (up to 2 s): a store used right after construction should not report an outage that is not one.
   */
  async connected(): Promise<void> {
    if (this.#everReady || this.client.status === 'ready') return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.client.off('ready', done)
        resolve()
      }
      const timer = setTimeout(done, this.#connectWaitMs)
      this.client.once('ready', done)
    })
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':')
  }

  markDown(err: unknown, op: string): RedisUnavailableError {
    const m = redisMetrics()
    if (op !== 'connection') m.errors.inc({ store: this.#store, op })
    m.up.set({ store: this.#store }, 0)
    const message = err instanceof Error ? err.message : String(err)
    if (!this.#down) {
      this.#down = true
      this.log.error({ store: this.#store, op, err: message, code: RedisUnavailableError.code }, `redis unavailable for ${this.#store}: ${message}`)
    }
    return err instanceof RedisUnavailableError ? err : new RedisUnavailableError(`Redis unavailable (${this.#store} ${op}): ${message}`, { cause: err })
  }

  markUp(): void {
    redisMetrics().up.set({ store: this.#store }, 1)
    if (this.#down) {
      this.#down = false
      this.log.info({ store: this.#store }, `redis reachable again for ${this.#store}`)
    }
  }

  get isDown(): boolean {
    return this.#down
  }

  async close(): Promise<void> {
    if (!this.#owned) return
    try {
      await this.client.quit()
    } catch {
      this.client.disconnect()
    }
  }
}
