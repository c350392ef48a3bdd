/**
 * What the conformance suite cannot say generically: each provider's own way of resolving an attempt,
 * key fitting, money in major units, and the missing-SDK error.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext } from '../../../src/payments/model.js'
import { createAdapter as createAdyen } from '../../../src/payments/providers/adyen.js'
import { createAdapter as createBraintree } from '../../../src/payments/providers/braintree.js'
import { loadSdk } from '../../../src/payments/load-optional.js'
import { classifyTransport, fitKey, fromDecimal, toDecimal } from '../../../src/payments/providers/provider-util.js'
import { SquareAdapter } from '../../../src/payments/providers/square.js'
import { startSandbox, type Sandbox } from '../../../src/payments/sandbox/server.js'

let sb: Sandbox
beforeAll(async () => {
  sb = await startSandbox({ providers: ['square', 'adyen', 'braintree'] })
})
afterAll(async () => {
  await sb?.close()
})

const ctx = (key: string = randomUUID(), extra: Partial<CallContext> = {}): CallContext => ({ paymentId: 'p', attempt: 1, idempotencyKey: key, ...extra })
const usd = (amount: number) => ({ amount, currency: 'USD' })

describe('square', () => {
  const square = (lookupScanLimit?: number) =>
    new SquareAdapter({
      accessToken: sb.credentials.square.accessToken,
      locationId: sb.credentials.square.locationId,
      baseUrl: `${sb.url}/square`,
      ...(lookupScanLimit ? { lookupScanLimit } : {}),
    })
  const nonce = { type: 'card' as const, tokens: { square: 'cnon:card-nonce-ok' } }

  it('fits a long caller key into Square\'s 45 characters, the same way every time', async () => {
    const key = `payment-${'x'.repeat(80)}:attempt-1:square`
    const a = await square().authorize({ paymentId: 'long', amount: usd(500), method: nonce, capture: true }, ctx(key))
    const b = await square().authorize({ paymentId: 'long', amount: usd(500), method: nonce, capture: true }, ctx(key))
    expect(a.outcome).toBe('approved')
    expect(b.providerReference).toBe(a.providerReference)
  })

  it('status by key is a pure read: a payment beyond the scan is not_found and left as it is', async () => {
    const key = randomUUID()
    const auth = await square().authorize({ paymentId: 'scan-a', amount: usd(700), method: nonce, capture: false }, ctx(key))
    await square().authorize({ paymentId: 'scan-b', amount: usd(100), method: nonce, capture: true }, ctx())
    expect((await square(1).status({ paymentId: 'scan-a', idempotencyKey: key }, ctx())).status).toBe('not_found')
    expect(sb.payments('square').find((p) => p.reference === auth.providerReference)).toMatchObject({ status: 'authorized' })
    // The router's next step, a replay with the same key, finds it: Square answers the first result.
    const replay = await square().authorize({ paymentId: 'scan-a', amount: usd(700), method: nonce, capture: false }, ctx(key, { replay: true }))
    expect(replay).toMatchObject({ outcome: 'approved', providerReference: auth.providerReference, status: 'authorized' })
  })

  it('cancelAttempt voids an authorization made with the key; a replay then reports it voided, not approved', async () => {
    const key = randomUUID()
    const req = { paymentId: 'cancel-a', amount: usd(700), method: nonce, capture: false }
    const auth = await square().authorize(req, ctx(key))
    expect(await square().cancelAttempt({ paymentId: 'cancel-a', idempotencyKey: key }, ctx())).toMatchObject({ outcome: 'approved', status: 'voided' })
    expect(sb.payments('square').find((p) => p.reference === auth.providerReference)).toMatchObject({ status: 'voided', captured: 0 })
    expect(await square().authorize(req, ctx(key, { replay: true }))).toMatchObject({ outcome: 'technical_failure', status: 'voided' })
    expect(await square().cancelAttempt({ paymentId: 'none', idempotencyKey: randomUUID() }, ctx())).toMatchObject({ status: 'voided' })
  })

  it('cancelAttempt on a completed payment: cannot be canceled, stays unknown', async () => {
    const key = randomUUID()
    await square().authorize({ paymentId: 'cancel-c', amount: usd(700), method: nonce, capture: true }, ctx(key))
    expect(await square().cancelAttempt({ paymentId: 'cancel-c', idempotencyKey: key }, ctx())).toMatchObject({ outcome: 'ambiguous', status: 'unknown' })
  })
})

describe('adyen', () => {
  const card = { type: 'card' as const, tokens: { adyen: { type: 'scheme', number: '4111111145551142', expiryMonth: '03', expiryYear: '2030', cvc: '737', holderName: 'J' } } }

  it('resolves an attempt it sent by replaying it under the same Idempotency-Key: one payment', async () => {
    const a = await createAdyen({ credentials: sb.credentials.adyen, sandboxUrl: sb.url })
    const key = randomUUID()
    const r = await a.authorize({ paymentId: 'ad-1', amount: usd(900), method: card, capture: true }, ctx(key))
    const s = await a.status({ paymentId: 'ad-1', idempotencyKey: key }, ctx())
    expect(s).toMatchObject({ outcome: 'approved', providerReference: r.providerReference })
    expect(sb.payments('adyen').filter((p) => p.paymentId === 'ad-1')).toHaveLength(1)
  })

  it('captures in full without an amount only for payments it authorized', async () => {
    const a = await createAdyen({ credentials: sb.credentials.adyen, sandboxUrl: sb.url })
    const r = await a.authorize({ paymentId: 'ad-2', amount: usd(900), method: card, capture: false }, ctx())
    expect(await a.capture(r.providerReference!, undefined, ctx())).toMatchObject({ outcome: 'approved', status: 'captured', amount: usd(900) })
    const other = await createAdyen({ credentials: sb.credentials.adyen, sandboxUrl: sb.url })
    expect(await other.capture(r.providerReference!, undefined, ctx())).toMatchObject({ outcome: 'technical_failure', code: 'invalid_request' })
  })
})

describe('braintree', () => {
  it('searches by order id before a replayed sale: the first sale is returned, no second charge', async () => {
    const key = randomUUID()
    const req = { paymentId: 'bt-1', amount: usd(1234), method: { type: 'card' as const, tokens: { braintree: 'fake-valid-nonce' } }, capture: true }
    const a = await (await createBraintree({ credentials: sb.credentials.braintree, sandboxUrl: sb.url })).authorize(req, ctx(key))
    const b = await (await createBraintree({ credentials: sb.credentials.braintree, sandboxUrl: sb.url })).authorize(req, ctx(key, { replay: true }))
    expect(b.providerReference).toBe(a.providerReference)
    expect(sb.payments('braintree').filter((p) => p.paymentId === 'bt-1' && p.captured > 0)).toHaveLength(1)
  })

  it('answers a gateway duplicate rejection with the sale that exists', async () => {
    const key = randomUUID()
    const req = { paymentId: 'bt-2', amount: usd(1500), method: { type: 'card' as const, tokens: { braintree: 'fake-valid-nonce' } }, capture: true }
    const a = await (await createBraintree({ credentials: sb.credentials.braintree, sandboxUrl: sb.url })).authorize(req, ctx(key))
    // A fresh adapter that does not know it is retrying: Braintree's duplicate check catches it.
    const b = await (await createBraintree({ credentials: sb.credentials.braintree, sandboxUrl: sb.url })).authorize(req, ctx(key))
    expect(b).toMatchObject({ outcome: 'approved', providerReference: a.providerReference })
  })
})

describe('braintree currencies', () => {
  const nonce = { type: 'card' as const, tokens: { braintree: 'fake-valid-nonce' } }
  it('sends a currency to its merchant account, with that currency\'s decimals', async () => {
    const a = await createBraintree({ credentials: sb.credentials.braintree, sandboxUrl: sb.url, merchantAccountIds: { EUR: 'ecomsandbox_eur', JPY: 'ecomsandbox_jpy' } })
    const eur = await a.authorize({ paymentId: 'bt-eur', amount: { amount: 1999, currency: 'EUR' }, method: nonce, capture: true }, ctx())
    expect(eur).toMatchObject({ outcome: 'approved', amount: { amount: 1999, currency: 'EUR' } })
    const jpy = await a.authorize({ paymentId: 'bt-jpy', amount: { amount: 500, currency: 'JPY' }, method: nonce, capture: true }, ctx())
    expect(jpy).toMatchObject({ outcome: 'approved', amount: { amount: 500, currency: 'JPY' } })
    expect(sb.payments('braintree').find((p) => p.reference === jpy.providerReference)).toMatchObject({ currency: 'JPY', captured: 500 })
  })

  it('refuses a currency with no merchant account instead of charging it in another', async () => {
    const a = await createBraintree({ credentials: sb.credentials.braintree, sandboxUrl: sb.url })
    const before = sb.payments('braintree').length
    const r = await a.authorize({ paymentId: 'bt-gbp', amount: { amount: 1000, currency: 'GBP' }, method: nonce, capture: true }, ctx())
    expect(r).toMatchObject({ outcome: 'technical_failure', code: 'config_error' })
    expect(sb.payments('braintree')).toHaveLength(before)
  })
})

describe('provider helpers', () => {
  it('keeps keys that fit and hashes the rest stably', () => {
    expect(fitKey('abc-123', 45)).toBe('abc-123')
    const long = 'k'.repeat(100)
    expect(fitKey(long, 45)).toHaveLength(43)
    expect(fitKey(long, 45)).toBe(fitKey(long, 45))
    expect(fitKey('has space', 45)).not.toBe('has space')
  })

  it('converts minor units to major-unit strings per currency exponent and back', () => {
    expect(toDecimal({ amount: 1050, currency: 'USD' })).toBe('10.50')
    expect(toDecimal({ amount: 5, currency: 'USD' })).toBe('0.05')
    expect(toDecimal({ amount: 500, currency: 'JPY' })).toBe('500')
    expect(toDecimal({ amount: 1234, currency: 'KWD' })).toBe('1.234')
    expect(fromDecimal('10.50', 'USD')).toBe(1050)
    expect(fromDecimal('1.234', 'KWD')).toBe(1234)
    expect(fromDecimal('500', 'JPY')).toBe(500)
  })

  it('classifies transport failures: refused is technical, a reset or timeout is ambiguous', () => {
    expect(classifyTransport(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })).outcome).toBe('technical_failure')
    expect(classifyTransport(new Error('Unexpected request error: Error: getaddrinfo ENOTFOUND x')).outcome).toBe('technical_failure')
    expect(classifyTransport(new Error('Unexpected request error: Error: socket hang up'))).toMatchObject({ outcome: 'ambiguous', code: 'network_error' })
    expect(classifyTransport(new Error('Request timed out'))).toMatchObject({ outcome: 'ambiguous', code: 'timeout' })
  })

  it('names the package to install when an SDK is missing', async () => {
    const pkg = 'ecom-no-such-sdk-package'
    await expect(loadSdk(pkg, () => import(pkg))).rejects.toMatchObject({ code: 'ECOM_ERR_MISSING_DEPENDENCY', details: { package: 'ecom-no-such-sdk-package' } })
  })
})
