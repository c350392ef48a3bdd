import type { NormalizedCode, Operation, OutcomeClass, ProviderName } from '../model.js'

/**
 * Payment states. `pending`: recorded, no provider answer yet. `processing`: an attempt is ambiguous
 * and still unresolved (the sweeper owns it). `failed`, `voided` and `refunded` are final; `captured`
 * and `partially_refunded` only move forward to more refunds.
 */
export type PaymentState =
  | 'pending'
  | 'processing'
  | 'authorized'
  | 'captured'
  | 'partially_refunded'
  | 'refunded'
  | 'voided'
  | 'failed'

export const FINAL_STATES: ReadonlySet<PaymentState> = new Set(['failed', 'voided', 'refunded'])
/** States a payment may rest in once the router and sweeper are done with it. */
export const SETTLED_STATES: ReadonlySet<PaymentState> = new Set(['authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'failed'])

/**
 * Attempt (and operation) states. `pending` is written before the provider is called. `ambiguous`: the
 * call may have executed. `abandoned`: resolution found nothing and the router moved on, but a late
 * commit is still possible, so the sweeper keeps watching it. `reconciled`: it succeeded when it should
 * not have (a late success after a failover) and was voided or refunded. `closed`: abandoned and proven
 * never to have executed.
 */
export type AttemptState = 'pending' | 'succeeded' | 'declined' | 'failed' | 'ambiguous' | 'abandoned' | 'reconciled' | 'closed'

export interface PaymentRow {
  id: string
  amount: number
  currency: string
  capture: boolean
  /** sha256 of the request's amount, currency, capture flag and method tokens: a replay must match. */
  requestHash: string
  state: PaymentState
  provider: ProviderName | null
  providerReference: string | null
  /** The attempt seq that won; null until one did. */
  winningAttempt: number | null
  authorized: number
  captured: number
  refunded: number
  outcome: OutcomeClass | null
  code: NormalizedCode | null
  /** JSON of the original request (method tokens included), for the sweeper's replays. */
  request: string
  createdAt: number
  updatedAt: number
}

export interface AttemptRow {
  paymentId: string
  /** 1, 2, ... per payment, over every operation. */
  seq: number
  operation: Operation
  provider: ProviderName
  idempotencyKey: string
  amount: number | null
  state: AttemptState
  outcome: OutcomeClass | null
  code: NormalizedCode | null
  providerReference: string | null
  httpStatus: number | null
  message: string | null
  createdAt: number
  updatedAt: number
}

/**
 * Where the ledger keeps its rows. Implementations: the embedded SQLite store (default) and the ORM store
 * (`createOrmStore`, on the project's ORM layer). Every write is conditional where it says so, so two
 * processes sharing a store never move a payment backwards.
 */
export interface LedgerStore {
  /** false when a payment with this id already exists (nothing written). */
  insertPayment(row: PaymentRow): Promise<boolean>
  getPayment(id: string): Promise<PaymentRow | undefined>
  /** Apply `patch` only while the payment is in `fromState`; false when it was not. */
  updatePayment(id: string, fromState: PaymentState, patch: Partial<PaymentRow>): Promise<boolean>
  insertAttempt(row: AttemptRow): Promise<void>
  /** Apply `patch` only while the attempt is in one of `fromStates`; false when it was not. */
  updateAttempt(idempotencyKey: string, fromStates: readonly AttemptState[], patch: Partial<AttemptRow>): Promise<boolean>
  attempts(paymentId: string): Promise<AttemptRow[]>
  paymentsInState(states: readonly PaymentState[], limit: number): Promise<PaymentRow[]>
  attemptsInState(states: readonly AttemptState[], limit: number): Promise<AttemptRow[]>
  /**
   * Optional, for stores that can write both rows atomically (the SQLite store does): insert the payment
   * and, only when it was new, its first attempt, in one transaction (one commit, one fsync). false when
   * a payment with this id already exists (nothing written). Without it the ledger makes the two calls.
   */
  insertPaymentWithAttempt?(payment: PaymentRow, attempt: AttemptRow): Promise<boolean>
  /**
   * Optional, likewise: `updatePayment` and, only when it applied, `updateAttempt`, in one transaction.
   * Answers whether each applied (`attempt` is false when the payment did not move: nothing written).
   */
  updatePaymentAndAttempt?(
    id: string,
    fromState: PaymentState,
    patch: Partial<PaymentRow>,
    idempotencyKey: string,
    fromStates: readonly AttemptState[],
    attemptPatch: Partial<AttemptRow>
  ): Promise<{ payment: boolean; attempt: boolean }>
  /** Counts per payment state, for metrics and tests. */
  countByState(): Promise<Record<string, number>>
  close(): Promise<void>
}
