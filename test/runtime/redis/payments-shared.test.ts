import { join } from 'node:path'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../../../src/payments/ledger/sqlite-store.js'
import { createRouter, type PaymentRouter } from '../../../src/payments/router/router.js'
import { testCard } from '../../../src/payments/sandbox/test-cards.js'
import { RedisBreakerStore } from '../../../src/runtime/redis/breaker-store.js'
import { RedisPaymentLock } from '../../../src/runtime/redis/payment-lock.js'
import { stripePair, type StripePair } from '../../payments/helpers.js'
import { REDIS_URL, deletePrefix, uniquePrefix } from '../../helpers/redis.js'
import { tempDir } from '../../helpers/temp-dir.js'

// Two payment routers standing in for two machines: one ledger database, one Redis.
describe.skipIf(!REDIS_URL)('payment router on Redis-shared state', () => {
  const url = REDIS_URL!
  const prefix = uniquePrefix('payments')
  // Made in beforeAll, so a run without Redis (the suite skipped) leaves no folder behind.
  let dir = ''
  let env: StripePair
  const stores: Array<{ close(): Promise<void> }> = []

  async function instance(): Promise<PaymentRouter> {
    const breakers = new RedisBreakerStore({ redis: url, keyPrefix: prefix, refreshMs: 10_000 })
    const lock = new RedisPaymentLock({ redis: url, keyPrefix: prefix, waitMs: 10_000 })
    stores.push(breakers, lock)
    return createRouter({
      config: { providers: { stripe: {}, adyen: {} }, timeoutMs: 2000, breaker: { failureThreshold: 2, cooldownMs: 60_000, halfOpenProbes: 1 } },
      adapters: { stripe: env.stripeA, adyen: env.stripeB },
      store: await createSqliteStore({ filename: join(dir, 'ledger.db') }),
      lock,
      breaker: (provider, options) => breakers.breaker(provider, options),
    })
  }

  beforeAll(async () => {
    dir = tempDir('shared-ledger')
    env = await stripePair()
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await env.close()
    const raw = new Redis(url)
    await deletePrefix(raw, prefix)
    await raw.quit()
  })

  it('an outage seen by one instance opens the breaker for the other', async () => {
    const [one, two] = [await instance(), await instance()]
    expect(two.route({ paymentId: 'probe', amount: { amount: 100, currency: 'USD' }, method: testCard('visa') } as never)).toEqual(['stripe', 'adyen'])
    env.a.setFaults('stripe', { outage: true })
    for (let i = 0; i < 2; i++) {
      const r = await one.sale({ paymentId: `${prefix}o${i}`, amount: { amount: 1000, currency: 'USD' }, method: testCard('visa') })
      expect(r).toMatchObject({ state: 'captured', provider: 'adyen' })
    }
    const deadline = Date.now() + 5_000
    while (two.breakerState('stripe') !== 'open' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    expect(two.breakerState('stripe')).toBe('open')
    // The second instance goes straight to the healthy provider: no attempt on stripe at all.
    const pid = `${prefix}after`
    expect(await two.sale({ paymentId: pid, amount: { amount: 500, currency: 'USD' }, method: testCard('visa') })).toMatchObject({ provider: 'adyen' })
    expect((await two.ledger.attempts(pid)).map((a) => a.provider)).toEqual(['adyen'])
    env.a.setFaults('stripe', {})
  })

  it('the same payment submitted to both instances at once is charged once', async () => {
    env.a.reset()
    env.b.reset()
    const [one, two] = [await instance(), await instance()]
    const pid = `${prefix}dup`
    const req = { paymentId: pid, amount: { amount: 4200, currency: 'USD' }, method: testCard('visa') }
    const [a, b] = await Promise.all([one.sale(req), two.sale(req)])
    expect(a.state).toBe('captured')
    expect(b.state).toBe('captured')
    expect([a.replayed, b.replayed].sort()).toEqual([false, true])
    expect(env.a.payments().length + env.b.payments().length).toBe(1)
  })
})
