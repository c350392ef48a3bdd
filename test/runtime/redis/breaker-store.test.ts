import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisBreakerStore } from '../../../src/runtime/redis/breaker-store.js'
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js'
import { TcpProxy } from '../../helpers/tcp-proxy.js'

async function until(fn: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(20)
  }
}

const OPTS = { failureThreshold: 3, cooldownMs: 300, halfOpenProbes: 1 }

describe.skipIf(!REDIS_URL)('Redis payment breaker state', () => {
  const url = REDIS_URL!
  const prefix = uniquePrefix('breaker')
  let raw: Redis
  beforeAll(() => {
    raw = new Redis(url)
  })
  afterAll(async () => {
    await deletePrefix(raw, prefix)
    await raw.quit()
  })

  it('failures on one instance open the breaker on every instance; a success anywhere closes it', async () => {
    const a = new RedisBreakerStore({ redis: url, keyPrefix: prefix, refreshMs: 10_000 })
    const b = new RedisBreakerStore({ redis: url, keyPrefix: prefix, refreshMs: 10_000 })
    try {
      const ba = a.breaker('stripe', OPTS)
      const bb = b.breaker('stripe', OPTS)
      const seen: string[] = []
      bb.onChange = (s) => seen.push(s)
      await sleep(100) // subscriptions in place
      // Failures split over both instances still count toward one threshold.
      ba.failure()
      await sleep(30)
      bb.failure()
      await sleep(30)
      expect(ba.state).toBe('closed')
      ba.failure()
      await until(() => bb.state === 'open')
      expect(ba.state).toBe('open')
      expect(bb.available()).toBe(false)
      expect(await raw.hget(`${prefix}breaker:stripe`, 'state')).toBe('open')

      await sleep(OPTS.cooldownMs + 20)
      expect(bb.state).toBe('half_open')
      expect(bb.acquire()).toBe(true)
      expect(bb.acquire()).toBe(false) // one probe per instance
      bb.success()
      await until(() => ba.state === 'closed')
      expect(seen).toEqual(['open', 'half_open', 'closed'])
      // Another provider is independent.
      expect(a.breaker('adyen', OPTS).state).toBe('closed')
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('keeps working on its local view during an outage, and rejoins the shared state after', async () => {
    const proxy = TcpProxy.forUrl(url)
    await proxy.up()
    const store = new RedisBreakerStore({ redis: proxy.url(url), keyPrefix: prefix, refreshMs: 100 })
    const peer = new RedisBreakerStore({ redis: url, keyPrefix: prefix, refreshMs: 10_000 })
    try {
      const local = store.breaker('square', OPTS)
      await until(() => store.client.status === 'ready')
      await proxy.down()
      await until(() => store.client.status !== 'ready')
      for (let i = 0; i < 3; i++) local.failure()
      expect(local.state).toBe('open') // opened locally without Redis
      local.success()
      expect(local.state).toBe('closed')
      // Meanwhile the provider failed for the peer; after the outage this instance sees it open.
      const p = peer.breaker('square', OPTS)
      for (let i = 0; i < 3; i++) p.failure()
      await until(() => p.state === 'open')
      await proxy.up()
      await until(() => local.state === 'open', 10_000)
    } finally {
      await store.close()
      await peer.close()
      await proxy.down()
    }
  })
})
