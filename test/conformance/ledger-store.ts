/**
 * The ledger store conformance suite: the same named cases for every `LedgerStore` (the embedded SQLite
 * store, the ORM store on each adapter/database). `ledgerStoreConformance(kit)` registers them.
 */
import { expect, it } from 'vitest'
import { IllegalTransitionError, PaymentConflictError } from '../../src/errors.js'
import { Ledger, attemptKey } from '../../src/payments/ledger/ledger.js'
import type { AttemptRow, LedgerStore, PaymentRow } from '../../src/payments/ledger/types.js'
import { testCard } from '../../src/payments/sandbox/test-cards.js'

export interface LedgerStoreKit {
  /** The store under test (one per suite: the cases use distinct payment ids). */
  store(): LedgerStore
  /** A second store instance over the same database (another process after a restart). */
  reopen(): Promise<LedgerStore>
}

let n = 0
const uid = (what: string) => `${what}-${Date.now().toString(36)}-${++n}`

function payment(id: string, over: Partial<PaymentRow> = {}): PaymentRow {
  return {
    id,
    amount: 1999,
    currency: 'KWD',
    capture: true,
    requestHash: 'a'.repeat(64),
    state: 'pending',
    provider: null,
    providerReference: null,
    winningAttempt: null,
    authorized: 0,
    captured: 0,
    refunded: 0,
    outcome: null,
    code: null,
    request: JSON.stringify({ note: "it's \"quoted\" ✓" }),
    createdAt: 1_700_000_000_123,
    updatedAt: 1_700_000_000_123,
    ...over,
  }
}

function attempt(paymentId: string, seq: number, over: Partial<AttemptRow> = {}): AttemptRow {
  return {
    paymentId,
    seq,
    operation: 'sale',
    provider: 'stripe',
    idempotencyKey: attemptKey(paymentId, seq, 'stripe'),
    amount: 1999,
    state: 'pending',
    outcome: null,
    code: null,
    providerReference: null,
    httpStatus: null,
    message: null,
    createdAt: 1_700_000_000_000 + seq,
    updatedAt: 1_700_000_000_000 + seq,
    ...over,
  }
}

const req = (paymentId: string, amount = 1000) => ({ paymentId, amount: { amount, currency: 'USD' }, method: testCard('visa'), capture: true })

export function ledgerStoreConformance(kit: LedgerStoreKit): void {
  it('store: a payment round-trips every field with its type', async () => {
    const s = kit.store()
    const row = payment(uid('rt'), { capture: false, provider: 'adyen', winningAttempt: 2, outcome: 'approved', code: 'approved', providerReference: 'psp_1' })
    expect(await s.insertPayment(row)).toBe(true)
    expect(await s.getPayment(row.id)).toEqual(row)
    expect(await s.getPayment(uid('none'))).toBeUndefined()
  })

  it('store: the same payment id twice writes nothing the second time', async () => {
    const s = kit.store()
    const id = uid('dup')
    expect(await s.insertPayment(payment(id))).toBe(true)
    expect(await s.insertPayment(payment(id, { amount: 5 }))).toBe(false)
    expect((await s.getPayment(id))!.amount).toBe(1999)
  })

  it('store: an update applies only from the state it names', async () => {
    const s = kit.store()
    const id = uid('cond')
    await s.insertPayment(payment(id))
    expect(await s.updatePayment(id, 'processing', { state: 'captured', captured: 1999 })).toBe(false)
    expect((await s.getPayment(id))!.state).toBe('pending')
    expect(await s.updatePayment(id, 'pending', { state: 'captured', captured: 1999, provider: 'square', updatedAt: 1_700_000_009_999 })).toBe(true)
    expect(await s.getPayment(id)).toMatchObject({ state: 'captured', captured: 1999, provider: 'square', updatedAt: 1_700_000_009_999 })
    expect(await s.updatePayment(uid('missing'), 'pending', { state: 'failed' })).toBe(false)
  })

  it('store: concurrent transitions from one state: exactly one wins', async () => {
    const s = kit.store()
    const id = uid('race')
    await s.insertPayment(payment(id))
    const targets = ['authorized', 'captured', 'failed', 'voided', 'processing', 'authorized', 'failed', 'captured'] as const
    const won = await Promise.all(targets.map((to) => s.updatePayment(id, 'pending', { state: to })))
    expect(won.filter(Boolean)).toHaveLength(1)
    expect((await s.getPayment(id))!.state).toBe(targets[won.indexOf(true)])
  })

  it('store: attempts are listed in seq order; (payment, seq) and the key are unique; updates are conditional', async () => {
    const s = kit.store()
    const id = uid('att')
    await s.insertPayment(payment(id))
    for (const seq of [2, 3, 1]) await s.insertAttempt(attempt(id, seq))
    expect((await s.attempts(id)).map((a) => a.seq)).toEqual([1, 2, 3])
    expect((await s.attempts(id))[0]).toEqual(attempt(id, 1))
    await expect(s.insertAttempt(attempt(id, 2, { idempotencyKey: 'another-key' }))).rejects.toThrow()
    await expect(s.insertAttempt(attempt(id, 9, { idempotencyKey: attempt(id, 1).idempotencyKey }))).rejects.toThrow()
    const key = attempt(id, 1).idempotencyKey
    expect(await s.updateAttempt(key, ['succeeded'], { state: 'reconciled' })).toBe(false)
    expect(await s.updateAttempt(key, ['pending', 'ambiguous'], { state: 'succeeded', outcome: 'approved', httpStatus: 200, message: 'ok' })).toBe(true)
    expect((await s.attempts(id))[0]).toMatchObject({ state: 'succeeded', outcome: 'approved', httpStatus: 200, message: 'ok' })
  })

  it('store: rows in given states, oldest update first, limited; counts per state', async () => {
    const s = kit.store()
    const before = await s.countByState()
    const ids = [uid('q'), uid('q'), uid('q')]
    await s.insertPayment(payment(ids[0]!, { state: 'processing', updatedAt: 30 }))
    await s.insertPayment(payment(ids[1]!, { state: 'processing', updatedAt: 10 }))
    await s.insertPayment(payment(ids[2]!, { state: 'voided', updatedAt: 20 }))
    const mine = (rows: PaymentRow[]) => rows.map((r) => r.id).filter((x) => ids.includes(x))
    expect(mine(await s.paymentsInState(['processing', 'voided'], 10_000))).toEqual([ids[1], ids[2], ids[0]])
    expect(await s.paymentsInState(['processing', 'voided'], 1)).toHaveLength(1)
    await s.insertAttempt(attempt(ids[0]!, 1, { state: 'abandoned', updatedAt: 5 }))
    await s.insertAttempt(attempt(ids[1]!, 1, { state: 'ambiguous', updatedAt: 4 }))
    const keys = (await s.attemptsInState(['abandoned', 'ambiguous'], 10_000)).filter((a) => ids.includes(a.paymentId)).map((a) => a.paymentId)
    expect(keys).toEqual([ids[1], ids[0]])
    const after = await s.countByState()
    expect((after.processing ?? 0) - (before.processing ?? 0)).toBe(2)
    expect((after.voided ?? 0) - (before.voided ?? 0)).toBe(1)
  })

  it('store: what one instance wrote, another instance over the same database reads', async () => {
    const id = uid('durable')
    await kit.store().insertPayment(payment(id))
    await kit.store().insertAttempt(attempt(id, 1))
    const other = await kit.reopen()
    try {
      expect(await other.getPayment(id)).toEqual(payment(id))
      expect(await other.attempts(id)).toEqual([attempt(id, 1)])
      expect(await other.updatePayment(id, 'pending', { state: 'processing' })).toBe(true)
      expect((await kit.store().getPayment(id))!.state).toBe('processing')
    } finally {
      await other.close()
    }
  })

  it('ledger: records the payment and the attempt with its key; the same id returns the first; another request conflicts', async () => {
    const ledger = new Ledger(kit.store())
    const id = uid('led')
    expect((await ledger.begin(req(id))).created).toBe(true)
    const a = await ledger.recordAttempt(id, 'sale', 'stripe', 1000)
    expect(a).toMatchObject({ seq: 1, state: 'pending', idempotencyKey: attemptKey(id, 1, 'stripe') })
    expect((await ledger.attempts(id))[0]).toMatchObject({ state: 'pending', idempotencyKey: a.idempotencyKey })
    expect((await ledger.begin(req(id))).created).toBe(false)
    await expect(ledger.begin(req(id, 5))).rejects.toBeInstanceOf(PaymentConflictError)
  })

  it('ledger: monotonic: a final state never moves, nothing goes back', async () => {
    const ledger = new Ledger(kit.store())
    const m = uid('mono')
    await ledger.begin(req(m))
    await ledger.transition(m, 'processing')
    await ledger.transition(m, 'captured', { captured: 1000 })
    await expect(ledger.transition(m, 'authorized')).rejects.toBeInstanceOf(IllegalTransitionError)
    await expect(ledger.transition(m, 'pending')).rejects.toBeInstanceOf(IllegalTransitionError)
    await ledger.transition(m, 'refunded')
    for (const to of ['captured', 'partially_refunded', 'voided', 'failed'] as const) {
      await expect(ledger.transition(m, to)).rejects.toBeInstanceOf(IllegalTransitionError)
    }
    const f = uid('mono')
    await ledger.begin(req(f))
    await ledger.transition(f, 'failed')
    await expect(ledger.transition(f, 'captured')).rejects.toBeInstanceOf(IllegalTransitionError)
    const a = await ledger.recordAttempt(f, 'sale', 'stripe', 1)
    expect(await ledger.settleAttempt(a, 'succeeded')).toBe(true)
    expect(await ledger.settleAttempt(a, 'failed')).toBe(false)
    expect(await ledger.settleAttempt(a, 'reconciled')).toBe(true)
  })

  it('ledger: begin with the first attempt records both before any call, or (same id again) neither', async () => {
    const ledger = new Ledger(kit.store())
    const id = uid('first')
    const first = { operation: 'sale' as const, provider: 'stripe' as const, amount: 1000 }
    const r = await ledger.begin(req(id), first)
    expect(r.created).toBe(true)
    expect(r.attempt).toMatchObject({ seq: 1, state: 'pending', idempotencyKey: attemptKey(id, 1, 'stripe') })
    const other = await kit.reopen()
    try {
      expect(await other.getPayment(id)).toMatchObject({ state: 'pending', requestHash: r.payment.requestHash })
      expect(await other.attempts(id)).toMatchObject([{ seq: 1, state: 'pending', idempotencyKey: attemptKey(id, 1, 'stripe') }])
    } finally {
      await other.close()
    }
    const again = await ledger.begin(req(id), first)
    expect(again.created).toBe(false)
    expect(again.attempt).toBeUndefined()
    expect(await ledger.attempts(id)).toHaveLength(1)
    await expect(ledger.begin(req(id, 5), first)).rejects.toBeInstanceOf(PaymentConflictError)
    // the next attempt of the same payment continues the seqs
    expect((await ledger.recordAttempt(id, 'sale', 'square', 1000)).seq).toBe(2)
  })

  it('ledger: transitionWithAttempt moves the payment and its attempt together, or (stale row) neither', async () => {
    const ledger = new Ledger(kit.store())
    const id = uid('win')
    const { payment: p, attempt: a } = await ledger.begin(req(id), { operation: 'sale', provider: 'stripe', amount: 1000 })
    const res = { outcome: 'approved' as const, code: 'approved' as const, provider: 'stripe' as const, providerReference: 'pi_1' }
    const won = await ledger.transitionWithAttempt(p, 'captured', { captured: 1000, winningAttempt: 1 }, a!, 'succeeded', res)
    expect(won).toMatchObject({ state: 'captured', captured: 1000, winningAttempt: 1 })
    expect(a).toMatchObject({ state: 'succeeded', providerReference: 'pi_1', outcome: 'approved' })
    expect(await ledger.get(id)).toMatchObject({ state: 'captured', captured: 1000, winningAttempt: 1 })
    expect((await ledger.attempts(id))[0]).toMatchObject({ state: 'succeeded', providerReference: 'pi_1' })
    // the same move from the stale (pending) row: the payment moved already, so nothing is written
    const b = await ledger.recordAttempt(id, 'sale', 'square', 1000)
    expect(await ledger.transitionWithAttempt(p, 'captured', { captured: 1 }, b, 'succeeded', res)).toBeUndefined()
    expect(b.state).toBe('pending')
    expect((await ledger.attempts(id))[1]).toMatchObject({ state: 'pending' })
    expect((await ledger.get(id)).captured).toBe(1000)
    // and the state machine still holds: no move out of a final state
    await ledger.transition(id, 'refunded')
    const cur = await ledger.get(id)
    await expect(ledger.transitionWithAttempt(cur, 'captured', {}, b, 'succeeded', res)).rejects.toBeInstanceOf(IllegalTransitionError)
  })

  it('store: the atomic pair writes (where a store has them) write both or nothing', async () => {
    const store = kit.store()
    if (!store.insertPaymentWithAttempt || !store.updatePaymentAndAttempt) return // optional: the ledger then makes two calls
    const id = uid('pair')
    expect(await store.insertPaymentWithAttempt(payment(id), attempt(id, 1))).toBe(true)
    expect(await store.insertPaymentWithAttempt(payment(id), attempt(id, 2))).toBe(false)
    expect(await store.attempts(id)).toHaveLength(1)
    // an attempt that cannot be written (its key is taken) takes its payment down with it
    const lone = uid('pair')
    await expect(store.insertPaymentWithAttempt(payment(lone), attempt(id, 1, { paymentId: lone }))).rejects.toThrow()
    expect(await store.getPayment(lone)).toBeUndefined()
    expect(await store.updatePaymentAndAttempt(id, 'processing', { state: 'captured' }, attemptKey(id, 1, 'stripe'), ['pending'], { state: 'succeeded' })).toEqual({ payment: false, attempt: false })
    expect((await store.attempts(id))[0]!.state).toBe('pending')
    expect(await store.updatePaymentAndAttempt(id, 'pending', { state: 'captured' }, attemptKey(id, 1, 'stripe'), ['pending'], { state: 'succeeded' })).toEqual({ payment: true, attempt: true })
    expect((await store.getPayment(id))!.state).toBe('captured')
    expect((await store.attempts(id))[0]!.state).toBe('succeeded')
  })
}
