import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { IllegalTransitionError, PaymentConflictError } from '../../../src/errors.js'
import { Ledger, attemptKey, requestHash } from '../../../src/payments/ledger/ledger.js'
import { InProcessLock } from '../../../src/payments/ledger/lock.js'
import { createSqliteStore } from '../../../src/payments/ledger/sqlite-store.js'
import { testCard } from '../../../src/payments/sandbox/test-cards.js'

const dir = mkdtempSync(join(tmpdir(), 'ecom-ledger-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const req = (paymentId: string, amount = 1000) => ({ paymentId, amount: { amount, currency: 'USD' }, method: testCard('visa'), capture: true })

describe('ledger', () => {
  it('hashes a request the same whatever order its tokens were given in, and as it always has', () => {
    const tokens = { stripe: 'pm_card_visa', adyen: { type: 'scheme', number: '4111111111111111' }, square: 'cnon:card-nonce-ok', braintree: 'fake-valid-nonce' }
    const base = { paymentId: 'h', amount: { amount: 1999, currency: 'USD' }, capture: true }
    const h = requestHash({ ...base, method: { type: 'card', tokens } } as never)
    const reversed = Object.fromEntries(Object.entries(tokens).reverse())
    expect(requestHash({ ...base, method: { type: 'card', tokens: reversed } } as never)).toBe(h)
    // The digest stored in existing ledgers (sha256 of the amount, currency, capture flag and the tokens
    // by provider name): a payment id resubmitted after an upgrade still matches its first request.
    expect(h).toBe(createHash('sha256').update(JSON.stringify([1999, 'USD', true, [
      ['adyen', tokens.adyen], ['braintree', tokens.braintree], ['square', tokens.square], ['stripe', tokens.stripe],
    ]])).digest('hex'))
    expect(requestHash({ ...base, method: { type: 'card', tokens: { ...tokens, stripe: 'pm_card_mastercard' } } } as never)).not.toBe(h)
  })

  it('records the payment and each attempt with its key before any call, durably in the SQLite file', async () => {
    const file = join(dir, 'a.db')
    const ledger = new Ledger(await createSqliteStore({ filename: file }))
    const { created } = await ledger.begin(req('p1'))
    expect(created).toBe(true)
    const a = await ledger.recordAttempt('p1', 'sale', 'stripe', 1000)
    expect(a).toMatchObject({ seq: 1, state: 'pending', idempotencyKey: attemptKey('p1', 1, 'stripe') })
    expect(a.idempotencyKey.length).toBeLessThanOrEqual(45) // Square's limit
    await ledger.store.close()
    const reopened = new Ledger(await createSqliteStore({ filename: file }))
    expect((await reopened.attempts('p1'))[0]).toMatchObject({ state: 'pending', idempotencyKey: a.idempotencyKey })
    expect((await reopened.get('p1')).state).toBe('pending')
    await reopened.store.close()
  })

  it('never stores the card number or security code a raw card token carries', async () => {
    const file = join(dir, 'pan.db')
    const ledger = new Ledger(await createSqliteStore({ filename: file }))
    const card = testCard('visa') // Adyen's token is the raw card object
    await ledger.begin(req('pan'))
    await ledger.store.close()
    const bytes = readFileSync(file).toString('latin1') + (existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`).toString('latin1') : '')
    const adyen = card.tokens.adyen as Record<string, string>
    expect(bytes).not.toContain(adyen.number)
    expect(bytes).not.toContain(`"cvc":"${adyen.cvc}"`)
    const reopened = new Ledger(await createSqliteStore({ filename: file }))
    const stored = JSON.parse((await reopened.get('pan')).request)
    expect(stored.redacted).toBe(true)
    expect(stored.method.tokens.adyen).toEqual({ type: 'scheme', expiryMonth: adyen.expiryMonth, expiryYear: adyen.expiryYear, holderName: adyen.holderName })
    expect(stored.method.tokens.stripe).toBe(card.tokens.stripe) // a token string is not card data
    // The request hash still covers the card: the same id with another card number is a conflict.
    const other = { ...req('pan'), method: { ...card, tokens: { ...card.tokens, adyen: { ...adyen, number: '5555555555554444' } } } }
    await expect(reopened.begin(other)).rejects.toBeInstanceOf(PaymentConflictError)
    await reopened.store.close()
  })

  it('stores a request without card fields as it is', async () => {
    const ledger = new Ledger(await createSqliteStore())
    const tokensOnly = { ...req('tok'), method: { type: 'card' as const, tokens: { stripe: 'pm_card_visa' } } }
    await ledger.begin(tokensOnly)
    expect(JSON.parse((await ledger.get('tok')).request)).toEqual(tokensOnly)
    await ledger.store.close()
  })

  it('keys are stable per (payment, attempt, provider) and distinct across them', () => {
    expect(attemptKey('p', 1, 'stripe')).toBe(attemptKey('p', 1, 'stripe'))
    expect(new Set([attemptKey('p', 1, 'stripe'), attemptKey('p', 2, 'stripe'), attemptKey('p', 1, 'square'), attemptKey('q', 1, 'stripe')]).size).toBe(4)
  })

  it('returns the first payment for the same id and rejects a different request', async () => {
    const ledger = new Ledger(await createSqliteStore())
    await ledger.begin(req('dup'))
    expect((await ledger.begin(req('dup'))).created).toBe(false)
    await expect(ledger.begin(req('dup', 5))).rejects.toBeInstanceOf(PaymentConflictError)
  })

  it('is monotonic: a final state never moves, nothing goes back', async () => {
    const ledger = new Ledger(await createSqliteStore())
    await ledger.begin(req('m'))
    await ledger.transition('m', 'processing')
    await ledger.transition('m', 'captured', { captured: 1000 })
    await expect(ledger.transition('m', 'authorized')).rejects.toBeInstanceOf(IllegalTransitionError)
    await expect(ledger.transition('m', 'pending')).rejects.toBeInstanceOf(IllegalTransitionError)
    await ledger.transition('m', 'refunded')
    for (const to of ['captured', 'partially_refunded', 'voided', 'failed'] as const) {
      await expect(ledger.transition('m', to)).rejects.toBeInstanceOf(IllegalTransitionError)
    }
    await ledger.begin(req('f'))
    await ledger.transition('f', 'failed')
    await expect(ledger.transition('f', 'captured')).rejects.toBeInstanceOf(IllegalTransitionError)
    // attempts too: a succeeded attempt can only be reconciled
    const a = await ledger.recordAttempt('f', 'sale', 'stripe', 1)
    expect(await ledger.settleAttempt(a, 'succeeded')).toBe(true)
    expect(await ledger.settleAttempt(a, 'failed')).toBe(false)
    expect(await ledger.settleAttempt(a, 'reconciled')).toBe(true)
  })

  it('the in-process lock serialises work per payment', async () => {
    const lock = new InProcessLock()
    const order: string[] = []
    const slow = (tag: string, ms: number) => lock.withLock('x', async () => {
      order.push(`${tag}+`)
      await new Promise((r) => setTimeout(r, ms))
      order.push(`${tag}-`)
    })
    await Promise.all([slow('a', 30), slow('b', 1), lock.withLock('y', async () => order.push('y'))])
    expect(order).toEqual(['a+', 'y', 'a-', 'b+', 'b-'])
  })
})
