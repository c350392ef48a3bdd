import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MissingDependencyError, WebhookSignatureError } from '../../../src/errors.js'
import { loadSdk } from '../../../src/payments/load-optional.js'
import type { AuthorizeRequest, PaymentAdapter } from '../../../src/payments/model.js'
import { createAdapter } from '../../../src/payments/providers/index.js'
import { startSandbox, type Sandbox } from '../../../src/payments/sandbox/server.js'
import { testCard, type TestCardKind } from '../../../src/payments/sandbox/test-cards.js'
import { freePort } from '../../helpers/cli.js'

let sb: Sandbox
let stripe: PaymentAdapter
let n = 0
const ctx = (over: Partial<{ idempotencyKey: string; timeoutMs: number }> = {}) => ({ paymentId: 'p', attempt: 1, idempotencyKey: `key-${++n}`, ...over })
const req = (kind: TestCardKind = 'visa', capture = false, amount = 1000): AuthorizeRequest => ({
  paymentId: `pay-${n}`,
  amount: { amount, currency: 'USD' },
  method: testCard(kind),
  capture,
})

beforeAll(async () => {
  sb = await startSandbox({ providers: ['stripe'] })
  stripe = await createAdapter('stripe', { credentials: sb.credentials.stripe, sandboxUrl: sb.url, timeoutMs: 2000 })
})
afterAll(() => sb.close())

describe('stripe adapter (official SDK against the emulator)', () => {
  it('sends our idempotency key, never the SDK one: the same key replays the same PaymentIntent', async () => {
    const c = ctx()
    const a = await stripe.authorize(req('visa'), c)
    const b = await stripe.authorize(req('visa'), c)
    expect(a).toMatchObject({ outcome: 'approved', status: 'authorized' })
    expect(b.providerReference).toBe(a.providerReference)
    const conflict = await stripe.authorize(req('visa', false, 5), c)
    expect(conflict).toMatchObject({ outcome: 'technical_failure', code: 'invalid_request', httpStatus: 400 })
  })

  it.each([
    ['declined', 'hard_decline', 'card_declined'],
    ['insufficient_funds', 'soft_decline', 'insufficient_funds'],
    ['expired', 'hard_decline', 'expired_card'],
    ['incorrect_cvc', 'hard_decline', 'incorrect_cvc'],
    ['fraud', 'hard_decline', 'fraud_suspected'],
    ['processing_error', 'soft_decline', 'processing_error'],
  ] as const)('maps the %s test card to %s / %s', async (kind, outcome, code) => {
    expect(await stripe.authorize(req(kind), ctx())).toMatchObject({ outcome, code, status: 'failed', httpStatus: 402 })
  })

  it('captures partially, voids, refunds and looks up by key or reference', async () => {
    const c = ctx()
    const auth = await stripe.authorize(req('visa'), c)
    expect(await stripe.capture(auth.providerReference!, { amount: 400, currency: 'USD' }, ctx())).toMatchObject({ outcome: 'approved', status: 'partially_captured', amount: { amount: 400 } })
    expect(await stripe.refund(auth.providerReference!, undefined, ctx())).toMatchObject({ outcome: 'approved', amount: { amount: 400 } })
    const v = await stripe.authorize(req('visa'), ctx())
    expect(await stripe.void(v.providerReference!, ctx())).toMatchObject({ outcome: 'approved', status: 'voided' })
    expect(await stripe.status({ paymentId: 'p', idempotencyKey: c.idempotencyKey }, ctx())).toMatchObject({ status: 'partially_captured', providerReference: auth.providerReference })
    expect(await stripe.status({ paymentId: 'p', idempotencyKey: 'never-sent' }, ctx())).toMatchObject({ status: 'not_found' })
    expect(await stripe.status({ paymentId: 'p', idempotencyKey: 'x', providerReference: 'pi_missing' }, ctx())).toMatchObject({ status: 'not_found' })
  })

  it('classifies refused connections as technical failures and timeouts after sending as ambiguous', async () => {
    const closed = await createAdapter('stripe', { credentials: sb.credentials.stripe, sandboxUrl: `http://127.0.0.1:${await freePort()}`, timeoutMs: 1000 })
    expect(await closed.authorize(req('visa'), ctx())).toMatchObject({ outcome: 'technical_failure', code: 'network_error' })
    sb.setFaults('stripe', { latencyMs: 200 })
    expect(await stripe.authorize(req('visa'), ctx({ timeoutMs: 50 }))).toMatchObject({ outcome: 'ambiguous', code: 'timeout' })
    sb.setFaults('stripe', { rateLimitRate: 1 })
    expect(await stripe.authorize(req('visa'), ctx())).toMatchObject({ outcome: 'technical_failure', code: 'rate_limited' })
    sb.setFaults('stripe', { dropAfterCommitRate: 1 })
    expect(await stripe.authorize(req('visa'), ctx())).toMatchObject({ outcome: 'ambiguous', code: 'network_error' })
    sb.clearFaults()
  })

  it('verifies webhooks with stripe.webhooks.constructEvent and rejects forged ones', async () => {
    await stripe.authorize(req('visa', true), ctx())
    const hook = sb.webhooks('stripe').at(-1)!
    expect(await stripe.verifyWebhook(hook.body, hook.headers)).toMatchObject({ type: 'payment.captured', provider: 'stripe' })
    await expect(stripe.verifyWebhook(hook.body, { 'stripe-signature': 't=1,v1=00' })).rejects.toBeInstanceOf(WebhookSignatureError)
    await expect(stripe.verifyWebhook(hook.body.replace('succeeded', 'canceled'), hook.headers)).rejects.toBeInstanceOf(WebhookSignatureError)
  })

  it('names the package when an SDK is missing', async () => {
    // @ts-expect-error a package that is not installed
    await expect(loadSdk('ecom-not-installed-sdk', () => import('ecom-not-installed-sdk'))).rejects.toThrow(MissingDependencyError)
    // @ts-expect-error a package that is not installed
    await expect(loadSdk('ecom-not-installed-sdk', () => import('ecom-not-installed-sdk'))).rejects.toThrow(/npm install ecom-not-installed-sdk/)
  })
})
