import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisLockBusyError, RedisUnavailableError } from '../../../src/errors.js'
import { getRegistry } from '../../../src/runtime/metrics.js'
import { RedisKeyringNotifier, type KeyringRotationNotice } from '../../../src/runtime/redis/keyring-notice.js'
import { RedisPaymentLock } from '../../../src/runtime/redis/payment-lock.js'
import { RedisRateLimitStore } from '../../../src/runtime/redis/rate-limit-store.js'
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js'
import { TcpProxy } from '../../helpers/tcp-proxy.js'

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const m = (await getRegistry().getMetricsAsJSON()).find((x) => x.name === name)
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val))
  return (v?.value as number | undefined) ?? 0
}

async function until(fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(50)
  }
}

describe.skipIf(!REDIS_URL)('Redis stores', () => {
  const url = REDIS_URL!
  const prefix = uniquePrefix('stores')
  let raw: Redis

  beforeAll(() => {
    raw = new Redis(url)
  })
  afterAll(async () => {
    await deletePrefix(raw, prefix)
    await raw.quit()
  })

  it('two rate-limit stores (two machines) share one exact quota per window', async () => {
    const a = new RedisRateLimitStore({ redis: url, keyPrefix: prefix })
    const b = new RedisRateLimitStore({ redis: url, keyPrefix: prefix })
    try {
      const hits = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).hit('1.2.3.4', 20, 60_000)))
      expect(hits.filter((h) => h.allowed)).toHaveLength(20)
      expect(Math.min(...hits.map((h) => h.remaining))).toBe(0)
      expect(hits.every((h) => h.resetMs > 0 && h.resetMs <= 60_000)).toBe(true)
      // Another client key has its own window.
      expect((await a.hit('5.6.7.8', 20, 60_000)).remaining).toBe(19)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a new window starts when the old one expires', async () => {
    const s = new RedisRateLimitStore({ redis: url, keyPrefix: prefix })
    try {
      expect((await s.hit('w', 1, 150)).allowed).toBe(true)
      expect((await s.hit('w', 1, 150)).allowed).toBe(false)
      await sleep(200)
      expect((await s.hit('w', 1, 150)).allowed).toBe(true)
    } finally {
      await s.close()
    }
  })

  it('fails open or closed during an outage, counts it, logs once, and recovers', async () => {
    const proxy = TcpProxy.forUrl(url)
    await proxy.up()
    const lines: string[] = []
    const capture = pino({ level: 'info' }, { write: (line: string) => void lines.push(`${JSON.parse(line).level === 50 ? 'error' : 'info'} ${JSON.parse(line).msg}`) })
    const open = new RedisRateLimitStore({ redis: proxy.url(url), keyPrefix: prefix, failMode: 'open', logger: capture })
    const closed = new RedisRateLimitStore({ redis: proxy.url(url), keyPrefix: prefix, failMode: 'closed', logger: capture })
    try {
      await until(() => open.client.status === 'ready' && closed.client.status === 'ready')
      expect((await open.hit('o', 1, 60_000)).allowed).toBe(true)
      expect((await open.hit('o', 1, 60_000)).allowed).toBe(false)
      const openedBefore = await metric('ecom_redis_fail_open_total', { store: 'rate_limit' })
      const closedBefore = await metric('ecom_redis_fail_closed_total', { store: 'rate_limit' })

      await proxy.down()
      await until(() => open.client.status !== 'ready' && closed.client.status !== 'ready')
      // Over quota, yet let through: fail-open prefers availability.
      for (let i = 0; i < 5; i++) expect((await open.hit('o', 1, 60_000)).allowed).toBe(true)
      await expect(closed.hit('c', 1, 60_000)).rejects.toBeInstanceOf(RedisUnavailableError)
      expect(await metric('ecom_redis_fail_open_total', { store: 'rate_limit' })).toBe(openedBefore + 5)
      expect(await metric('ecom_redis_fail_closed_total', { store: 'rate_limit' })).toBe(closedBefore + 1)
      expect(await metric('ecom_redis_up', { store: 'rate_limit' })).toBe(0)
      expect(lines.filter((l) => l.startsWith('error redis unavailable')).length).toBeGreaterThanOrEqual(1)
      expect(lines.filter((l) => l.startsWith('error redis unavailable')).length).toBeLessThanOrEqual(2)

      await proxy.up()
      await until(() => open.client.status === 'ready' && closed.client.status === 'ready')
      // Back on the shared counter: the quota used before the outage still counts.
      expect((await open.hit('o', 1, 60_000)).allowed).toBe(false)
      expect((await closed.hit('c', 1, 60_000)).allowed).toBe(true)
      expect(await metric('ecom_redis_up', { store: 'rate_limit' })).toBe(1)
      expect(lines.some((l) => l.startsWith('info redis reachable again'))).toBe(true)
    } finally {
      await open.close()
      await closed.close()
      await proxy.down()
    }
  })

  it('the per-payment lock admits one holder at a time across clients', async () => {
    const a = new RedisPaymentLock({ redis: url, keyPrefix: prefix, waitMs: 2_000 })
    const b = new RedisPaymentLock({ redis: url, keyPrefix: prefix, waitMs: 2_000 })
    try {
      let inside = 0
      let maxInside = 0
      const order: number[] = []
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).withLock('pay_1', async () => {
            inside++
            maxInside = Math.max(maxInside, inside)
            await sleep(10)
            order.push(i)
            inside--
          })
        )
      )
      expect(maxInside).toBe(1)
      expect(order).toHaveLength(8)
      // Different payments do not wait on each other.
      const h1 = await a.acquire('pay_2')
      const h2 = await b.acquire('pay_3')
      await expect(b.acquire('pay_2', 100)).rejects.toBeInstanceOf(RedisLockBusyError)
      expect(await h1.release()).toBe(true)
      expect(await h2.release()).toBe(true)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('a lock expires after its ttl and the old holder cannot release the new one', async () => {
    const lock = new RedisPaymentLock({ redis: url, keyPrefix: prefix, ttlMs: 100, waitMs: 0 })
    try {
      const old = await lock.acquire('pay_ttl')
      await sleep(150)
      const fresh = await lock.acquire('pay_ttl')
      expect(await old.release()).toBe(false)
      expect(await raw.get(fresh.key)).toBe(fresh.token)
      expect(await fresh.extend(5_000)).toBe(true)
      expect(await fresh.release()).toBe(true)
    } finally {
      await lock.close()
    }
  })

  it('the lock never fails open: an outage raises RedisUnavailableError', async () => {
    const proxy = TcpProxy.forUrl(url)
    await proxy.up()
    const lock = new RedisPaymentLock({ redis: proxy.url(url), keyPrefix: prefix, waitMs: 0 })
    try {
      await until(() => lock.client.status === 'ready')
      await proxy.down()
      await until(() => lock.client.status !== 'ready')
      await expect(lock.acquire('pay_out')).rejects.toBeInstanceOf(RedisUnavailableError)
    } finally {
      await lock.close()
      await proxy.down()
    }
  })

  it('keyring rotation notices reach other instances, not the sender', async () => {
    const a = new RedisKeyringNotifier({ redis: url, keyPrefix: prefix })
    const b = new RedisKeyringNotifier({ redis: url, keyPrefix: prefix })
    const gotA: KeyringRotationNotice[] = []
    const gotB: KeyringRotationNotice[] = []
    try {
      await a.subscribe((n) => gotA.push(n))
      await b.subscribe((n) => gotB.push(n))
      expect(await a.publish('webhooks', 'k2')).toBe(2)
      await until(() => gotB.length === 1)
      expect(gotB[0]).toMatchObject({ ring: 'webhooks', activeKeyId: 'k2', origin: a.origin })
      await sleep(50)
      expect(gotA).toHaveLength(0)
      // attach(): a key ring on instance b reloads on notices for its ring only.
      let reloads = 0
      await b.attach({ reload: async () => void reloads++ }, 'sessions')
      await a.publish('webhooks', 'k3')
      await a.publish('sessions', 's2')
      await until(() => reloads === 1)
      await sleep(50)
      expect(reloads).toBe(1)
    } finally {
      await a.close()
      await b.close()
    }
  })
})
