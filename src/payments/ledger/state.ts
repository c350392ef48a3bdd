import { IllegalTransitionError } from '../../errors.js'
import type { AttemptState, PaymentState } from './types.js'

// The only moves a payment may make. A final state has no way out; nothing moves back to pending.
const PAYMENT_MOVES: Record<PaymentState, readonly PaymentState[]> = {
  pending: ['processing', 'authorized', 'captured', 'failed'],
  processing: ['authorized', 'captured', 'failed'],
  authorized: ['captured', 'voided'],
  captured: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
  voided: [],
  failed: [],
}

const ATTEMPT_MOVES: Record<AttemptState, readonly AttemptState[]> = {
  pending: ['succeeded', 'declined', 'failed', 'ambiguous'],
  ambiguous: ['succeeded', 'declined', 'failed', 'abandoned'],
  abandoned: ['succeeded', 'declined', 'closed', 'reconciled'],
  succeeded: ['reconciled'],
  declined: [],
  failed: [],
  reconciled: [],
  closed: [],
}

export function canMove(from: PaymentState, to: PaymentState): boolean {
  return PAYMENT_MOVES[from].includes(to)
}

export function assertMove(paymentId: string, from: PaymentState, to: PaymentState): void {
  if (!canMove(from, to)) {
    throw new IllegalTransitionError(`payment ${paymentId} cannot move from ${from} to ${to}`, { details: { paymentId, from, to } })
  }
}

/** The attempt states a move to `to` may start from. */
const SOURCES = new Map<AttemptState, AttemptState[]>()
export function attemptSources(to: AttemptState): AttemptState[] {
  let s = SOURCES.get(to)
  if (!s) SOURCES.set(to, (s = (Object.keys(ATTEMPT_MOVES) as AttemptState[]).filter((from) => ATTEMPT_MOVES[from].includes(to))))
  return s
}
