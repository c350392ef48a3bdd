import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Redis } from 'ioredis'
import { InvalidOptionError, RedisLockBusyError } from '../../errors.js'
import { RedisBacked, type RedisStoreOptions } from './client.js'

export interface RedisPaymentLockOptions extends RedisStoreOptions {
  /** A lock not released (crashed holder) expires after this long. @default 30000 */
  ttlMs?: number
  /** How long `acquire` waits for a held lock before `RedisLockBusyError`. @default 5000 */
  waitMs?: number
  /** Pause between tries while waiting. @default 25 */
  retryMs?: number
}

/** A held lock: release it exactly once; `extend` pushes out its expiry while work goes on. */
export interface PaymentLockHandle {
  readonly key: string
  readonly token: string
  release(): Promise<boolean>
  extend(ttlMs?: number): Promise<boolean>
}

// Only the holder (same token) may release or extend: a lock that expired and was taken by another
// process is never deleted from under it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`

type WithLock = Redis & {
  ecomLockRelease(key: string, token: string): Promise<number>
  ecomLockExtend(key: string, token: string, ttlMs: number): Promise<number>
}

/**
 * The payment ledger's per-payment lock across machines: one attempt at a time per payment, whichever
 * `ecom start` instance handles it. Unlike the rate limiter there is no fail-open: while Redis is
 * unreachable `acquire` throws `RedisUnavailableError`, because moving money without the lock could
 * charge twice.
 */
export class RedisPaymentLock extends RedisBacked {
  readonly ttlMs: number
  readonly waitMs: number
  readonly retryMs: number

  constructor(options: RedisPaymentLockOptions) {
    super('payment_lock', options)
    this.ttlMs = options.ttlMs ?? 30_000
    this.waitMs = options.waitMs ?? 5_000
    this.retryMs = options.retryMs ?? 25
    for (const [k, v] of Object.entries({ ttlMs: this.ttlMs, waitMs: this.waitMs, retryMs: this.retryMs })) {
      if (!Number.isInteger(v) || v < (k === 'waitMs' ? 0 : 1)) throw new InvalidOptionError(`paymentLock.${k} must be a positive integer of milliseconds, got ${JSON.stringify(v)}`)
    }
    const c = this.client as unknown as Partial<WithLock>
    if (!c.ecomLockRelease) this.client.defineCommand('ecomLockRelease', { numberOfKeys: 1, lua: RELEASE })
    if (!c.ecomLockExtend) this.client.defineCommand('ecomLockExtend', { numberOfKeys: 1, lua: EXTEND })
  }

  /** Try once; undefined when another process holds the lock. */
  async tryAcquire(paymentId: string): Promise<PaymentLockHandle | undefined> {
    const key = this.key('lock', 'payment', paymentId)
    const token = randomUUID()
    let ok: string | null
    try {
      await this.connected()
      ok = await this.client.set(key, token, 'PX', this.ttlMs, 'NX')
    } catch (err) {
      throw this.markDown(err, 'lock')
    }
    if (this.isDown) this.markUp()
    if (ok !== 'OK') return undefined
    const client = this.client as unknown as WithLock
    let released = false
    return {
      key,
      token,
      release: async () => {
        if (released) return false
        released = true
        try {
          return (await client.ecomLockRelease(key, token)) === 1
        } catch (err) {
          // The lock expires by itself; report the outage but do not fail the finished work.
          this.markDown(err, 'unlock')
          return false
        }
      },
      extend: async (ttlMs = this.ttlMs) => {
        try {
          return (await client.ecomLockExtend(key, token, ttlMs)) === 1
        } catch (err) {
          throw this.markDown(err, 'extend')
        }
      },
    }
  }

  /** Wait up to `waitMs` for the lock. */
  async acquire(paymentId: string, waitMs = this.waitMs): Promise<PaymentLockHandle> {
    const deadline = Date.now() + waitMs
    for (;;) {
      const handle = await this.tryAcquire(paymentId)
      if (handle) return handle
      if (Date.now() >= deadline) {
        throw new RedisLockBusyError(`payment ${paymentId} is locked by another process (waited ${waitMs}ms)`, { details: { paymentId } })
      }
      await sleep(this.retryMs)
    }
  }

  /** Run `fn` holding the payment's lock; released afterwards whether `fn` succeeds or throws. */
  async withLock<T>(paymentId: string, fn: () => Promise<T> | T): Promise<T> {
    const handle = await this.acquire(paymentId)
    try {
      return await fn()
    } finally {
      await handle.release()
    }
  }
}
