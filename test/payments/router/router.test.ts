import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { PaymentConflictError, WebhookSignatureError } from '../../../src/errors.js'
import { createSqliteStore } from '../../../src/payments/ledger/sqlite-store.js'
import type { PaymentAdapter } from '../../../src/payments/model.js'
import { createRouter, type PaymentRouter } from '../../../src/payments/router/router.js'
import type { RouterConfigInput } from '../../../src/payments/router/config.js'
import { Sweeper } from '../../../src/payments/router/sweeper.js'
import { testCard } from '../../../src/payments/sandbox/test-cards.js'
import { netByPayment, stripePair, type StripePair } from '../helpers.js'

// Two independently faultable emulators: Stripe on sandbox A ("stripe") and Stripe on sandbox B
// standing in for a second provider ("adyen"), both through the real Stripe SDK.
let env: StripePair
let seq = 0
const id = (p: string) => `${p}-${++seq}-${Date.now()}`
const usd = (amount: number) => ({ amount, currency: 'USD' })

async function router(over: Partial<RouterConfigInput> = {}): Promise<PaymentRouter> {
  return createRouter({
    config: { providers: { stripe: {}, adyen: {} }, timeoutMs: 2000, ...over },
    adapters: { stripe: env.stripeA, adyen: env.stripeB },
  })
}

beforeAll(async () => {
  env = await stripePair()
})
afterAll(async () => {
  await env.close()
})
beforeEach(() => {
  env.a.reset()
  env.b.reset()
})

describe('router', () => {
  it('sells on the first provider and answers the same payment id with the first result', async () => {
    const r = await router()
    const pid = id('dup')
    const first = await r.sale({ paymentId: pid, amount: usd(2500), method: testCard('visa') })
    expect(first).toMatchObject({ state: 'captured', provider: 'stripe', captured: 2500, replayed: false })
    const again = await r.sale({ paymentId: pid, amount: usd(2500), method: testCard('visa') })
    expect(again).toMatchObject({ state: 'captured', providerReference: first.providerReference, replayed: true })
    await expect(r.sale({ paymentId: pid, amount: usd(999), method: testCard('visa') })).rejects.toBeInstanceOf(PaymentConflictError)
    expect(env.a.payments()).toHaveLength(1)
    expect(env.b.payments()).toHaveLength(0)
  })

  it('fails over on an outage (a definite technical failure)', async () => {
    const r = await router()
    env.a.setFaults('stripe', { outage: true })
    const pid = id('outage')
    const res = await r.sale({ paymentId: pid, amount: usd(1000), method: testCard('visa') })
    expect(res).toMatchObject({ state: 'captured', provider: 'adyen', captured: 1000 })
    const attempts = await r.ledger.attempts(pid)
    expect(attempts.map((a) => [a.provider, a.state, a.code])).toEqual([
      ['stripe', 'failed', 'provider_unavailable'],
      ['adyen', 'succeeded', 'approved'],
    ])
    expect(attempts[0]!.idempotencyKey).not.toBe(attempts[1]!.idempotencyKey)
    expect(env.a.payments()).toHaveLength(0)
  })

  it('never fails over after a hard decline', async () => {
    const r = await router()
    const pid = id('hard')
    const res = await r.sale({ paymentId: pid, amount: usd(1000), method: testCard('declined') })
    expect(res).toMatchObject({ state: 'failed', outcome: 'hard_decline', code: 'card_declined' })
    expect(await r.ledger.attempts(pid)).toHaveLength(1)
    expect(env.b.payments()).toHaveLength(0)
  })

  it('fails over after a soft decline only where the policy allows it', async () => {
    const allowed = await router({ failover: { onSoftDecline: ['processing_error'] } })
    const p1 = id('soft')
    const r1 = await allowed.sale({ paymentId: p1, amount: usd(1000), method: testCard('processing_error') })
    expect(r1).toMatchObject({ state: 'failed', outcome: 'soft_decline', code: 'processing_error' })
    expect((await allowed.ledger.attempts(p1)).map((a) => a.provider)).toEqual(['stripe', 'adyen'])
    const denied = await router({ failover: { onSoftDecline: false } })
    const p2 = id('soft')
    await denied.sale({ paymentId: p2, amount: usd(1000), method: testCard('processing_error') })
    expect((await denied.ledger.attempts(p2)).map((a) => a.provider)).toEqual(['stripe'])
  })

  it('opens the breaker after repeated failures, skips the provider, and recovers after the cooldown', async () => {
    const r = await router({ breaker: { failureThreshold: 3, cooldownMs: 300, halfOpenProbes: 1 } })
    env.a.setFaults('stripe', { outage: true })
    for (let i = 0; i < 3; i++) await r.sale({ paymentId: id('brk'), amount: usd(100), method: testCard('visa') })
    expect(r.breakerState('stripe')).toBe('open')
    const pid = id('brk')
    const res = await r.sale({ paymentId: pid, amount: usd(100), method: testCard('visa') })
    expect(res.provider).toBe('adyen')
    expect((await r.ledger.attempts(pid)).map((a) => a.provider)).toEqual(['adyen']) // stripe not even tried
    env.a.clearFaults()
    await new Promise((ok) => setTimeout(ok, 350))
    expect(r.breakerState('stripe')).toBe('half_open')
    const back = await r.sale({ paymentId: id('brk'), amount: usd(100), method: testCard('visa') })
    expect(back.provider).toBe('stripe')
    expect(r.breakerState('stripe')).toBe('closed')
  })

  it('resolves a timed-out sale on the same provider without a second charge', async () => {
    const r = await router({ timeoutMs: 150 })
    env.a.setFaults('stripe', { latencyMs: 250 })
    const pid = id('timeout')
    const res = await r.sale({ paymentId: pid, amount: usd(700), method: testCard('visa') })
    env.a.clearFaults()
    await waitIdle()
    await new Sweeper(r).drain({ final: true, pendingGraceMs: 0 })
    const final = await r.get(pid)
    expect(['captured', 'processing']).toContain(res.state)
    expect(final.state).toBe('captured')
    expect(final.provider).toBe('stripe')
    expect(env.b.payments()).toHaveLength(0)
    expect(netByPayment([env.a, env.b]).get(pid)).toBe(700)
    expect(env.a.payments().filter((p) => p.paymentId === pid && p.captured > 0)).toHaveLength(1)
  })

  it('keeps a payment processing when the outcome stays unknown, then the sweeper settles it exactly once', async () => {
    const r = await router()
    env.a.setFaults('stripe', { dropAfterCommitRate: 1 }) // executes, then hangs up: every call, lookups too
    const pid = id('drop')
    const res = await r.sale({ paymentId: pid, amount: usd(4200), method: testCard('visa') })
    expect(res.state).toBe('processing')
    expect(env.b.payments()).toHaveLength(0) // no failover on an unresolved ambiguity
    expect(env.a.payments().filter((p) => p.paymentId === pid)).toHaveLength(1) // committed once, despite replays
    env.a.clearFaults()
    const report = await new Sweeper(r).drain({ final: true, pendingGraceMs: 0 })
    expect(report.stillProcessing).toBe(0)
    const final = await r.get(pid)
    expect(final).toMatchObject({ state: 'captured', provider: 'stripe', captured: 4200 })
    expect(netByPayment([env.a, env.b]).get(pid)).toBe(4200)
  })

  it('voids or refunds a late success after a failover', async () => {
    // The sale to stripe is held (latency read when it arrives) past the client timeout; the faults are
    // cleared meanwhile, so the lookup on stripe answers "no such payment" and the router fails over to
    // adyen. Then the held request executes on stripe: a late success the sweeper must refund.
    // Generous margins so a loaded CI machine keeps the order: held 1.2 s, client timeout 0.4 s.
    const r = await router({ timeoutMs: 400, ambiguity: { replays: 0, failoverWhenNotFound: true, lateWindowMs: 60_000 } })
    const pid = id('late')
    env.a.setFaults('stripe', { latencyMs: 1200 })
    const pending = r.sale({ paymentId: pid, amount: usd(900), method: testCard('visa') })
    // Faults are fixed when a request arrives: clear them once the sale is held on stripe.
    for (let i = 0; i < 200 && env.a.inflight() === 0; i++) await new Promise((ok) => setTimeout(ok, 2))
    env.a.clearFaults()
    const res = await pending
    expect(res).toMatchObject({ state: 'captured', provider: 'adyen' })
    await waitIdle()
    expect(env.a.payments().find((p) => p.paymentId === pid)).toMatchObject({ captured: 900, refunded: 0 })
    expect(netByPayment([env.a, env.b]).get(pid)).toBe(1800) // charged twice until reconciled
    const report = await new Sweeper(r).drain({ final: true, pendingGraceMs: 0 })
    expect(report.reconciled + (await r.ledger.attempts(pid)).filter((a) => a.state === 'reconciled').length).toBeGreaterThan(0)
    expect(netByPayment([env.a, env.b]).get(pid)).toBe(900)
    const attempts = await r.ledger.attempts(pid)
    expect(attempts.map((a) => [a.provider, a.operation, a.state])).toEqual([
      ['stripe', 'sale', 'reconciled'],
      ['adyen', 'sale', 'succeeded'],
      ['stripe', 'refund', 'succeeded'],
    ])
    expect(await r.get(pid)).toMatchObject({ state: 'captured', provider: 'adyen', captured: 900, refunded: 0 })
  })

  it('captures partially, refunds partially then fully, and refuses to move back', async () => {
    const r = await router()
    const pid = id('ops')
    expect(await r.authorize({ paymentId: pid, amount: usd(1000), method: testCard('visa') })).toMatchObject({ state: 'authorized', authorized: 1000 })
    expect(await r.capture(pid, usd(600))).toMatchObject({ state: 'captured', captured: 600 })
    expect(await r.refund(pid, usd(100))).toMatchObject({ state: 'partially_refunded', refunded: 100 })
    expect(await r.refund(pid)).toMatchObject({ state: 'refunded', refunded: 600 })
    await expect(r.capture(pid)).rejects.toMatchObject({ code: 'ECOM_ERR_PAYMENTS_ILLEGAL_TRANSITION' })
    const pid2 = id('void')
    await r.authorize({ paymentId: pid2, amount: usd(500), method: testCard('visa') })
    expect(await r.void(pid2)).toMatchObject({ state: 'voided' })
    expect(await r.void(pid2)).toMatchObject({ state: 'voided', replayed: true })
    expect(netByPayment([env.a]).get(pid)).toBe(0)
    expect(env.a.payments().find((p) => p.paymentId === pid2)?.status).toBe('voided')
  })

  it('keeps a refund refused by a transient fault open and completes it later with the same key', async () => {
    const r = await router()
    const pid = id('refund')
    await r.sale({ paymentId: pid, amount: usd(800), method: testCard('visa') })
    env.a.setFaults('stripe', { rateLimitRate: 1 })
    await expect(r.refund(pid, usd(300))).rejects.toMatchObject({ code: 'ECOM_ERR_PAYMENTS_OPERATION' })
    const open = (await r.ledger.attempts(pid)).find((a) => a.operation === 'refund')!
    expect(open.state).toBe('ambiguous')
    env.a.clearFaults()
    await new Sweeper(r).drain({ final: true, pendingGraceMs: 0 })
    expect(await r.get(pid)).toMatchObject({ state: 'partially_refunded', refunded: 300 })
    const done = (await r.ledger.attempts(pid)).find((a) => a.operation === 'refund')!
    expect(done).toMatchObject({ state: 'succeeded', idempotencyKey: open.idempotencyKey })
    expect(netByPayment([env.a]).get(pid)).toBe(500)
  })

  it('verifies webhooks through the SDK and rejects forged ones', async () => {
    const r = await router()
    const pid = id('hook')
    await r.sale({ paymentId: pid, amount: usd(300), method: testCard('visa') })
    const hook = env.a.webhooks('stripe').at(-1)!
    const ev = await r.handleWebhook('stripe', hook.body, hook.headers)
    expect(ev).toMatchObject({ provider: 'stripe', type: 'payment.captured', paymentId: pid, amount: usd(300) })
    await expect(r.handleWebhook('stripe', hook.body.replace('"amount":300', '"amount":1'), hook.headers)).rejects.toBeInstanceOf(WebhookSignatureError)
  })

  it('re-sends an unresolved sale from the request it was given, never from the ledger\'s redacted copy', async () => {
    // testCard() carries Adyen's raw card fields, so the ledger stores the request without them
    // (redacted). The adapter around the real one fails every sale before sending it while `broken`:
    // each sale stays ambiguous and the payment `processing`, with nothing at the provider.
    let broken = true
    let sent = 0
    const flaky: PaymentAdapter = {
      ...env.stripeA,
      authorize: async (req, ctx) => {
        if (broken) throw new Error('socket hang up')
        sent++
        return env.stripeA.authorize(req, ctx)
      },
    }
    const store = await createSqliteStore()
    const config = { providers: { stripe: {} }, timeoutMs: 2000 }
    const first = await createRouter({ config, adapters: { stripe: flaky }, store })
    const kept = id('kept')
    const lost = id('lost')
    for (const pid of [kept, lost]) {
      expect((await first.sale({ paymentId: pid, amount: usd(900), method: testCard('visa') })).state).toBe('processing')
      expect(JSON.parse((await first.ledger.get(pid)).request)).toMatchObject({ redacted: true })
    }
    broken = false
    // The router that took the payment still holds the request as given: it re-sends it under the
    // attempt's key, and the sale is captured once.
    expect(await first.resolvePayment(kept, true)).toBe(true)
    expect(await first.get(kept)).toMatchObject({ state: 'captured', captured: 900 })
    expect(sent).toBe(1)
    // Another router on the same ledger (a restart, another process) has only the redacted copy: it looks
    // the payment up, and never re-sends that copy as if it were the request.
    const second = await createRouter({ config, adapters: { stripe: flaky }, store })
    await second.resolvePayment(lost, true)
    expect(sent).toBe(1)
    expect(env.a.payments().filter((p) => p.paymentId === lost)).toHaveLength(0)
    expect((await second.get(lost)).state).not.toBe('captured')
    await store.close()
  })

  it('publishes each routing decision on ecom:payments:route and records metrics', async () => {
    const dc = await import('node:diagnostics_channel')
    const seen: unknown[] = []
    const fn = (m: unknown) => seen.push(m)
    dc.subscribe('ecom:payments:route', fn)
    const r = await router()
    const pid = id('dc')
    await r.sale({ paymentId: pid, amount: usd(100), method: testCard('visa') })
    dc.unsubscribe('ecom:payments:route', fn)
    expect(seen).toContainEqual(expect.objectContaining({ paymentId: pid, usable: ['stripe', 'adyen'] }))
    const { getRegistry } = await import('../../../src/runtime/metrics.js')
    const text = await getRegistry().metrics()
    expect(text).toMatch(/ecom_payments_attempts_total\{provider="stripe",operation="sale",outcome="approved"\} \d+/)
  })
})

async function waitIdle(): Promise<void> {
  for (let i = 0; i < 200 && (env.a.inflight() > 0 || env.b.inflight() > 0); i++) await new Promise((r) => setTimeout(r, 20))
}
