import { hash } from 'node:crypto'
import { IllegalTransitionError, PaymentConflictError, PaymentNotFoundError } from '../../errors.js'
import type { AuthorizeRequest, Operation, ProviderName, ProviderResult } from '../model.js'
import { storableRequest } from './redact.js'
import { assertMove, attemptSources } from './state.js'
import type { AttemptRow, AttemptState, LedgerStore, PaymentRow, PaymentState } from './types.js'

/** The stable idempotency key of one (payment, attempt, provider): short enough for every provider (Square: 45). */
export function attemptKey(paymentId: string, seq: number, provider: ProviderName, salt = ''): string {
  // crypto.hash: the one-shot form (Node >= 20.12), same digest as createHash at under half the cost.
  const h = hash('sha256', `${paymentId}\0${provider}\0${salt}`, 'base64url').slice(0, 30)
  return `ec_${h}_${seq}`
}

export function requestHash(req: AuthorizeRequest): string {
  const given = req.method.tokens as Record<string, unknown>
  const keys = Object.keys(given)
  // The keys in code-unit order, as `sort()` puts them, by insertion: there are four at most, and
  // `Array#sort` allocates more than the rest of this function (it runs on every payment).
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!
    let j = i - 1
    for (; j >= 0 && keys[j]! > k; j--) keys[j + 1] = keys[j]!
    keys[j + 1] = k
  }
  const tokens = keys.map((k) => [k, given[k]])
  return hash('sha256', JSON.stringify([req.amount.amount, req.amount.currency, req.capture, tokens]), 'hex')
}

/** The first attempt `begin` may record together with a new payment. */
export interface FirstAttempt {
  operation: Operation
  provider: ProviderName
  amount: number | null
}

function attemptPatch(to: AttemptState, res: ProviderResult | undefined, updatedAt: number): Partial<AttemptRow> {
  const patch: Partial<AttemptRow> = { state: to, updatedAt }
  if (res) {
    patch.outcome = res.outcome
    patch.code = res.code
    patch.httpStatus = res.httpStatus ?? null
    patch.message = res.message?.slice(0, 500) ?? null
    if (res.providerReference) patch.providerReference = res.providerReference
  }
  return patch
}

/**
 * The payments ledger: a payment row and one row per provider call, each written before the call with
 * its idempotency key, and a monotonic state machine on top of a `LedgerStore`.
 */
export class Ledger {
  constructor(readonly store: LedgerStore, readonly now: () => number = Date.now) {}

  /**
   * Record a new payment, or return the existing one when the same id was submitted before with the
   * same request. The same id with a different request is a `PaymentConflictError`. With `first`, a
   * new payment's first attempt (seq 1, `pending`, its key) is recorded too, in the same transaction
   * where the store can (one commit before the provider call, not two); `attempt` is undefined when the
   * payment already existed (nothing was written).
   */
  async begin(req: AuthorizeRequest, first?: FirstAttempt): Promise<{ created: boolean; payment: PaymentRow; attempt?: AttemptRow }> {
    const t = this.now()
    const row: PaymentRow = {
      id: req.paymentId,
      amount: req.amount.amount,
      currency: req.amount.currency,
      capture: req.capture,
      requestHash: requestHash(req),
      state: 'pending',
      provider: null,
      providerReference: null,
      winningAttempt: null,
      authorized: 0,
      captured: 0,
      refunded: 0,
      outcome: null,
      code: null,
      // Card secrets never reach storage; the router keeps the original in memory for its replays.
      request: storableRequest(req),
      createdAt: t,
      updatedAt: t,
    }
    if (first) {
      const attempt = this.#attemptRow(req.paymentId, 1, first.operation, first.provider, first.amount, undefined, t)
      const store = this.store
      let created: boolean
      if (store.insertPaymentWithAttempt) created = await store.insertPaymentWithAttempt(row, attempt)
      else if ((created = await store.insertPayment(row))) await store.insertAttempt(attempt)
      if (created) return { created, payment: row, attempt }
    } else if (await this.store.insertPayment(row)) return { created: true, payment: row }
    const existing = (await this.store.getPayment(req.paymentId))!
    if (existing.requestHash !== row.requestHash) {
      throw new PaymentConflictError(`payment ${req.paymentId} already exists with a different amount, currency, capture flag or method`, {
        details: { paymentId: req.paymentId },
      })
    }
    return { created: false, payment: existing }
  }

  async get(id: string): Promise<PaymentRow> {
    const p = await this.store.getPayment(id)
    if (!p) throw new PaymentNotFoundError(`payment ${id} not found`, { details: { paymentId: id } })
    return p
  }

  /** Move a payment; throws `IllegalTransitionError` for a move the state machine forbids or a lost race. */
  async transition(id: string, to: PaymentState, patch: Partial<PaymentRow> = {}): Promise<PaymentRow> {
    const cur = await this.get(id)
    assertMove(id, cur.state, to)
    const ok = await this.store.updatePayment(id, cur.state, { ...patch, state: to, updatedAt: this.now() })
    if (!ok) throw new IllegalTransitionError(`payment ${id} changed state concurrently (expected ${cur.state})`, { details: { paymentId: id, from: cur.state, to } })
    return { ...cur, ...patch, state: to }
  }

  /**
   * Move a payment the caller holds a current row of (under the payment lock), without re-reading it.
   * Returns undefined when the row was stale (another process moved it): re-read and decide again.
   */
  async transitionFrom(row: PaymentRow, to: PaymentState, patch: Partial<PaymentRow> = {}): Promise<PaymentRow | undefined> {
    assertMove(row.id, row.state, to)
    const updatedAt = this.now()
    const ok = await this.store.updatePayment(row.id, row.state, { ...patch, state: to, updatedAt })
    return ok ? { ...row, ...patch, state: to, updatedAt } : undefined
  }

  /** Write an attempt row (state `pending`) before its provider call. */
  async recordAttempt(
    paymentId: string,
    operation: Operation,
    provider: ProviderName,
    amount: number | null,
    fixed?: { seq: number; salt: string },
    /** The next seq when the caller knows it (a payment it just created, under its lock): skips a read. */
    knownSeq?: number
  ): Promise<AttemptRow> {
    let seq = knownSeq
    if (seq === undefined) {
      const existing = await this.store.attempts(paymentId)
      // A fixed seq (reconciliation of attempt N) names one call forever: re-running it reuses its key.
      const again = fixed && existing.find((a) => a.seq === fixed.seq)
      if (again) return again
      seq = fixed?.seq ?? existing.reduce((m, a) => Math.max(m, a.seq < 1000 ? a.seq : 0), 0) + 1
    }
    const row = this.#attemptRow(paymentId, seq, operation, provider, amount, fixed?.salt, this.now())
    await this.store.insertAttempt(row)
    return row
  }

  #attemptRow(paymentId: string, seq: number, operation: Operation, provider: ProviderName, amount: number | null, salt: string | undefined, t: number): AttemptRow {
    return {
      paymentId,
      seq,
      operation,
      provider,
      idempotencyKey: attemptKey(paymentId, seq, provider, salt),
      amount,
      state: 'pending',
      outcome: null,
      code: null,
      providerReference: null,
      httpStatus: null,
      message: null,
      createdAt: t,
      updatedAt: t,
    }
  }

  /** Move an attempt to `to` with the provider's answer; false when it had already moved past (a race lost). */
  async settleAttempt(a: AttemptRow, to: AttemptState, res?: ProviderResult): Promise<boolean> {
    const patch = attemptPatch(to, res, this.now())
    const ok = await this.store.updateAttempt(a.idempotencyKey, attemptSources(to), patch)
    if (ok) Object.assign(a, patch)
    return ok
  }

  /**
   * `transitionFrom(row, to, patch)` and, only when the payment moved, `settleAttempt(a, attemptTo, res)`,
   * in one transaction where the store can. undefined when the row was stale (nothing written).
   */
  async transitionWithAttempt(
    row: PaymentRow,
    to: PaymentState,
    patch: Partial<PaymentRow>,
    a: AttemptRow,
    attemptTo: AttemptState,
    res?: ProviderResult
  ): Promise<PaymentRow | undefined> {
    assertMove(row.id, row.state, to)
    const updatedAt = this.now()
    const pPatch = { ...patch, state: to, updatedAt }
    const aPatch = attemptPatch(attemptTo, res, updatedAt)
    const store = this.store
    let moved: boolean
    let settled = false
    if (store.updatePaymentAndAttempt) {
      ;({ payment: moved, attempt: settled } = await store.updatePaymentAndAttempt(row.id, row.state, pPatch, a.idempotencyKey, attemptSources(attemptTo), aPatch))
    } else if ((moved = await store.updatePayment(row.id, row.state, pPatch))) {
      settled = await store.updateAttempt(a.idempotencyKey, attemptSources(attemptTo), aPatch)
    }
    if (!moved) return undefined
    if (settled) Object.assign(a, aPatch)
    return { ...row, ...pPatch }
  }

  attempts(paymentId: string): Promise<AttemptRow[]> {
    return this.store.attempts(paymentId)
  }
}
