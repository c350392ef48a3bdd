import diagnostics_channel from 'node:diagnostics_channel'
import { debuglog } from 'node:util'
import { IllegalTransitionError, InvalidMoneyError, NoEligibleProviderError, PaymentOperationError, UnknownProviderError } from '../../errors.js'
import { Ledger } from '../ledger/ledger.js'
import { InProcessLock, type PaymentLock } from '../ledger/lock.js'
import { createSqliteStore } from '../ledger/sqlite-store.js'
import { createOrmStore } from '../ledger/orm-store.js'
import type { OrmManager } from '../../orm/manager.js'
import type { AttemptRow, LedgerStore, PaymentRow, PaymentState } from '../ledger/types.js'
import type { StoredRequest } from '../ledger/redact.js'
import { assertMoney } from '../money.js'
import type {
  AuthorizeRequest,
  CallContext,
  Money,
  NormalizedCode,
  NormalizedEvent,
  Operation,
  OutcomeClass,
  PaymentAdapter,
  PaymentMethod,
  ProviderName,
  ProviderResult,
  WebhookHeaders,
} from '../model.js'
import { CircuitBreaker, ProviderHealth, type BreakerOptions, type BreakerState } from './breaker.js'
import { parseRouterConfig, type RouterConfig, type RouterConfigInput } from './config.js'
import { paymentsMetrics, type PaymentsMetrics } from './metrics.js'
import { eligible, rank } from './strategies.js'

const log = debuglog('ecom')
/** Published for every routing decision: `{ paymentId, eligible, ranked, skipped, strategy }`. */
export const routeChannel = diagnostics_channel.channel('ecom:payments:route')

export interface PaymentRequest {
  /** The merchant's payment id: the same id twice returns the first result. */
  readonly paymentId: string
  readonly amount: Money
  readonly method: PaymentMethod
  /** true: a sale (authorize and capture). @default false */
  readonly capture?: boolean
  readonly country?: string
  readonly description?: string
  readonly metadata?: Readonly<Record<string, string>>
}

export interface PaymentResult {
  readonly paymentId: string
  readonly state: PaymentState
  readonly amount: Money
  readonly provider?: ProviderName
  readonly providerReference?: string
  readonly outcome?: OutcomeClass
  readonly code?: NormalizedCode
  readonly authorized: number
  readonly captured: number
  readonly refunded: number
  /** true when this answer is the stored result of an earlier submission of the same payment id. */
  readonly replayed: boolean
}

export interface RouterOptions {
  config: RouterConfigInput | RouterConfig
  adapters: Partial<Record<ProviderName, PaymentAdapter>>
  /** @default the ORM store on `orm` when given, else an in-memory SQLite ledger */
  store?: LedgerStore
  /**
   * The project's ORM layer (a connected `OrmManager` whose schema includes `ledgerModels()`): the
   * ledger records through it (`createOrmStore({ orm })`) unless `store` is given.
   */
  orm?: OrmManager
  /** @default an in-process lock */
  lock?: PaymentLock
  /** scale-out hook (issue 7): makes each provider's breaker, e.g. `RedisBreakerStore#breaker` to share state across instances. @default a process-local CircuitBreaker */
  breaker?: (provider: ProviderName, options: BreakerOptions) => CircuitBreaker
  now?: () => number
  random?: () => number
}

type Resolution =
  | { kind: 'approved'; res: ProviderResult }
  | { kind: 'declined'; res: ProviderResult }
  | { kind: 'absent'; res: ProviderResult }
  | { kind: 'unknown'; res: ProviderResult }

// Requests kept in memory for the sweeper's replays (see #originals).
const MAX_ORIGINALS = 10_000
const APPROVED_STATUSES = new Set(['authorized', 'captured', 'partially_captured', 'voided', 'refunded', 'partially_refunded'])
const TRANSIENT = new Set<NormalizedCode>(['rate_limited', 'provider_unavailable', 'network_error', 'timeout', 'try_again_later'])
const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 }

export async function createRouter(options: RouterOptions): Promise<PaymentRouter> {
  const store = options.store ?? (options.orm ? createOrmStore({ orm: options.orm }) : await createSqliteStore())
  return new PaymentRouter(options, store)
}

/**
 * Routes payments over several providers without ever charging twice: every call is recorded with its
 * idempotency key before it is made; a technical failure (or an allowed soft decline) moves on to the
 * next provider; a hard decline stops; an ambiguous outcome is resolved on the same provider first
 * (status lookup, then a replay with the same key) and, if still unknown, leaves the payment
 * `processing` for the sweeper. Any success that turns out extra is voided or refunded.
 */
export class PaymentRouter {
  readonly config: RouterConfig
  readonly ledger: Ledger
  readonly #adapters: Partial<Record<ProviderName, PaymentAdapter>>
  readonly #lock: PaymentLock
  readonly #breakers = new Map<ProviderName, CircuitBreaker>()
  readonly #health = new Map<ProviderName, ProviderHealth>()
  readonly #metrics: PaymentsMetrics
  readonly #random: () => number
  /**
   * The requests this process started, as given (the ledger's copy leaves card secrets out), so the
   * sweeper can still re-send one under its key. Bounded: the oldest go first.
   */
  readonly #originals = new Map<string, AuthorizeRequest>()
  readonly now: () => number

  constructor(options: RouterOptions, store: LedgerStore) {
    this.config = parseRouterConfig(options.config)
    this.#adapters = options.adapters
    this.now = options.now ?? Date.now
    this.#random = options.random ?? Math.random
    this.ledger = new Ledger(store, this.now)
    this.#lock = options.lock ?? new InProcessLock()
    this.#metrics = paymentsMetrics()
    for (const name of Object.keys(this.config.providers) as ProviderName[]) {
      if (!this.#adapters[name]) throw new UnknownProviderError(`providers.${name}: configured, but no adapter was given for it`)
      const breakerOptions = { ...this.config.breaker, now: this.now }
      const b = options.breaker?.(name, breakerOptions) ?? new CircuitBreaker(breakerOptions) // scale-out hook (issue 7)
      b.onChange = (s) => this.#metrics.breaker.set({ provider: name }, BREAKER_GAUGE[s])
      this.#breakers.set(name, b)
      this.#health.set(name, new ProviderHealth(this.config.health.latencyAlpha, this.config.health.successWindow))
    }
  }

  /** The routing decision alone: providers to try, best first (rules, strategy, open breakers skipped). */
  route(req: PaymentRequest): ProviderName[] {
    const areq = toAuthorize(req, req.capture ?? false)
    const ranked = this.#rank(areq)
    const usable = ranked.filter((n) => this.#breakers.get(n)!.available())
    this.#publishRoute(areq.paymentId, ranked, usable)
    return usable
  }

  #rank(areq: AuthorizeRequest): ProviderName[] {
    const input = { req: areq, config: this.config, health: this.#health, random: this.#random }
    return rank(input, eligible(input))
  }

  #publishRoute(paymentId: string, ranked: ProviderName[], usable: ProviderName[]): void {
    if (routeChannel.hasSubscribers) {
      routeChannel.publish({ paymentId, ranked, usable, skipped: ranked.filter((n) => !usable.includes(n)), strategy: this.config.strategy })
    }
  }

  breakerState(provider: ProviderName): BreakerState | undefined {
    return this.#breakers.get(provider)?.state
  }

  health(): Record<string, { breaker: BreakerState; latencyMs?: number; successRate?: number }> {
    const out: Record<string, { breaker: BreakerState; latencyMs?: number; successRate?: number }> = {}
    for (const [n, b] of this.#breakers) out[n] = { breaker: b.state, latencyMs: this.#health.get(n)!.latencyMs, successRate: this.#health.get(n)!.successRate }
    return out
  }

  /** Authorize (or sell, with `capture: true`). */
  authorize(req: PaymentRequest): Promise<PaymentResult> {
    return this.#authorize(req, req.capture ?? false)
  }

  async #authorize(req: Omit<PaymentRequest, 'capture'>, capture: boolean): Promise<PaymentResult> {
    assertMoney(req.amount, 'req.amount')
    if (req.amount.amount === 0) throw new InvalidMoneyError('req.amount.amount must be greater than 0')
    const areq = toAuthorize(req, capture)
    return this.#lock.withLock(req.paymentId, async () => {
      // Routed first so the first attempt is written with the payment, in one transaction; a replay
      // (the payment exists) writes nothing, and its routing decision is neither published nor used.
      const ranked = this.#rank(areq)
      const order = ranked.filter((n) => this.#breakers.get(n)!.available())
      const first = order[0]
      const { created, payment, attempt } = first
        ? await this.ledger.begin(areq, { operation: areq.capture ? 'sale' : 'authorize', provider: first, amount: areq.amount.amount })
        : await this.ledger.begin(areq)
      if (!created) return this.#result(payment, true)
      this.#originals.set(areq.paymentId, areq)
      if (this.#originals.size > MAX_ORIGINALS) this.#originals.delete(this.#originals.keys().next().value as string)
      this.#publishRoute(areq.paymentId, ranked, order)
      if (order.length === 0) {
        const failed = await this.ledger.transition(payment.id, 'failed', { outcome: 'technical_failure', code: 'provider_unavailable' })
        this.#metrics.results.labels('failed').inc()
        throw new NoEligibleProviderError(`no provider is eligible for payment ${req.paymentId} (rules, method tokens or open breakers)`, {
          details: { paymentId: req.paymentId, result: this.#result(failed, false) },
        })
      }
      const r = await this.#runAttempts(payment, areq, order, attempt)
      // Settled here: no replay will need the original any more (a `processing` one keeps it).
      if (r.state !== 'processing' && r.state !== 'pending') this.#originals.delete(areq.paymentId)
      this.#metrics.results.labels(r.state).inc()
      return r
    })
  }

  sale(req: Omit<PaymentRequest, 'capture'>): Promise<PaymentResult> {
    return this.#authorize(req, true)
  }

  async get(paymentId: string): Promise<PaymentResult> {
    return this.#result(await this.ledger.get(paymentId), false)
  }

  /** `first`: the attempt `begin` recorded with the payment for `order[0]` (seq 1), not yet sent. */
  async #runAttempts(payment: PaymentRow, req: AuthorizeRequest, order: ProviderName[], first?: AttemptRow): Promise<PaymentResult> {
    let last: ProviderResult | undefined
    let tried = 0
    let seq = first ? first.seq : 0
    const op: Operation = req.capture ? 'sale' : 'authorize'
    for (let i = 0; i < order.length; i++) {
      const provider = order[i]!
      const pre = i === 0 ? first : undefined
      if (tried >= this.config.failover.maxAttempts) break
      if (!this.#breakers.get(provider)!.acquire()) {
        // The breaker closed its door while the rows were written (a half-open probe taken meanwhile):
        // the recorded attempt was never sent, which is a definite technical failure.
        if (pre) {
          last = { outcome: 'technical_failure', code: 'provider_unavailable', provider, message: 'circuit breaker refused the call; it was never sent' }
          await this.ledger.settleAttempt(pre, 'failed', last)
        }
        continue
      }
      tried++
      // A payment created by this call, under its lock: attempt seqs are 1, 2, ... in this loop.
      const attempt = pre ?? (await this.ledger.recordAttempt(payment.id, op, provider, req.amount.amount, undefined, ++seq))
      let res = await this.#call(provider, op, attempt, (a, ctx) => a.authorize(req, ctx))
      if (res.outcome === 'ambiguous') {
        await this.ledger.settleAttempt(attempt, 'ambiguous', res)
        const r = await this.#resolve(payment, attempt, req)
        if (r.kind === 'unknown') {
          const p = await this.ledger.transition(payment.id, 'processing', { provider, outcome: 'ambiguous', code: r.res.code })
          log('payment %s processing: attempt %d on %s unresolved', payment.id, attempt.seq, provider)
          return this.#result(p, false)
        }
        if (r.kind === 'absent') {
          if (!this.config.ambiguity.failoverWhenNotFound) {
            const p = await this.ledger.transition(payment.id, 'processing', { provider, outcome: 'ambiguous', code: r.res.code })
            return this.#result(p, false)
          }
          await this.ledger.settleAttempt(attempt, 'abandoned', r.res)
          this.#metrics.failovers.inc({ provider, reason: 'not_found' })
          last = r.res
          continue
        }
        res = r.res
      }
      if (res.outcome === 'approved') return this.#result(await this.#settle(payment, attempt, res), false)
      last = res
      if (res.outcome === 'technical_failure') {
        await this.ledger.settleAttempt(attempt, 'failed', res)
        this.#metrics.failovers.inc({ provider, reason: res.code })
        continue
      }
      await this.ledger.settleAttempt(attempt, 'declined', res)
      if (res.outcome === 'soft_decline' && this.#softFailover(res.code)) {
        this.#metrics.failovers.inc({ provider, reason: res.code })
        continue
      }
      break // hard decline, or a soft decline policy does not fail over
    }
    const p = await this.ledger.transition(payment.id, 'failed', {
      outcome: last?.outcome ?? 'technical_failure',
      code: last?.code ?? 'provider_unavailable',
      provider: last?.provider ?? null,
    })
    return this.#result(p, false)
  }

  #softFailover(code: NormalizedCode): boolean {
    const p = this.config.failover.onSoftDecline
    return p === true || (Array.isArray(p) && p.includes(code))
  }

  /** One provider call with health, breaker and metrics; an adapter that throws counts as ambiguous. */
  async #call(provider: ProviderName, operation: Operation, attempt: AttemptRow, fn: (a: PaymentAdapter, ctx: CallContext) => Promise<ProviderResult>, replay = false): Promise<ProviderResult> {
    const adapter = this.#adapters[provider]!
    const ctx: CallContext = {
      paymentId: attempt.paymentId,
      attempt: attempt.seq,
      idempotencyKey: attempt.idempotencyKey,
      timeoutMs: this.config.providers[provider]?.timeoutMs ?? this.config.timeoutMs,
      replay,
    }
    const t0 = performance.now()
    let res: ProviderResult
    try {
      res = await fn(adapter, ctx)
    } catch (err) {
      res = { outcome: 'ambiguous', code: 'unknown', provider, message: `adapter threw: ${(err as Error).message}` }
    }
    const ms = performance.now() - t0
    const healthy = res.outcome !== 'technical_failure' && res.outcome !== 'ambiguous'
    this.#health.get(provider)?.record(healthy, ms)
    const b = this.#breakers.get(provider)
    if (healthy) b?.success()
    else b?.failure()
    this.#metrics.attempts.labels(provider, operation, res.outcome).inc()
    this.#metrics.duration.labels(provider, operation).observe(ms / 1000)
    return res
  }

  /**
   * Resolve an ambiguous authorize/sale attempt on its own provider: look it up (by reference or by
   * key), then re-send it with the same key. Never touches another provider.
   */
  /** Whether an attempt may be re-sent now (see `providers.<name>.replayGuardMs`); `force` when nothing can be in flight. */
  #mayReplay(attempt: AttemptRow, force: boolean): boolean {
    const guard = this.config.providers[attempt.provider]?.replayGuardMs ?? (attempt.provider === 'braintree' ? 30_000 : 0)
    return force || guard === 0 || this.now() - attempt.createdAt >= guard
  }

  async #resolve(payment: PaymentRow, attempt: AttemptRow, req: AuthorizeRequest, force = false, replayable = true): Promise<Resolution> {
    const provider = attempt.provider
    const op: Operation = req.capture ? 'sale' : 'authorize'
    const lookup = await this.#call(provider, 'status', attempt, (a, ctx) =>
      a.status({ paymentId: payment.id, idempotencyKey: attempt.idempotencyKey, providerReference: attempt.providerReference ?? undefined }, ctx)
    )
    // Voided or refunded (e.g. Square's cancel-by-idempotency-key during the lookup): it holds nothing.
    if (lookup.status === 'voided' || lookup.status === 'refunded') return { kind: 'absent', res: lookup }
    if (lookup.status && APPROVED_STATUSES.has(lookup.status)) return { kind: 'approved', res: { ...lookup, outcome: 'approved', code: 'approved' } }
    if (lookup.status === 'failed' && (lookup.outcome === 'hard_decline' || lookup.outcome === 'soft_decline')) return { kind: 'declined', res: lookup }
    let last = lookup
    const replays = replayable && this.#mayReplay(attempt, force) ? this.config.ambiguity.replays : 0
    for (let i = 0; i < replays; i++) {
      const res = await this.#call(provider, op, attempt, (a, ctx) => a.authorize(req, ctx), true)
      if (res.outcome === 'approved') {
        // A replay answers from the provider's idempotency store: the original response, possibly stale
        // (Square's cancel-by-idempotency-key during the lookup voids it). Confirm the current state.
        const now = res.providerReference
          ? await this.#call(provider, 'status', attempt, (a, ctx) =>
              a.status({ paymentId: payment.id, idempotencyKey: attempt.idempotencyKey, providerReference: res.providerReference }, ctx)
            )
          : res
        if (now.status === 'voided' || now.status === 'refunded') return { kind: 'absent', res: now }
        if (now.status && APPROVED_STATUSES.has(now.status)) return { kind: 'approved', res: { ...res, status: now.status } }
        return { kind: 'unknown', res: now }
      }
      if (res.outcome === 'hard_decline' || res.outcome === 'soft_decline') return { kind: 'declined', res }
      last = res
      if (res.outcome === 'technical_failure') break
    }
    // Absent: the provider says it has no such payment and the re-send was refused before executing.
    if (lookup.status === 'not_found' && last.outcome === 'technical_failure') return { kind: 'absent', res: last }
    return { kind: 'unknown', res: last }
  }

  /** Record an approved attempt: it wins if the payment is still open, else it is extra and reconciled. */
  async #settle(payment: PaymentRow, attempt: AttemptRow, res: ProviderResult): Promise<PaymentRow> {
    // `payment` is the row read under this payment's lock; the conditional update catches another
    // process having moved it meanwhile, and then the row is read again.
    let cur = payment
    for (let i = 0; i < 2 && (cur.state === 'pending' || cur.state === 'processing'); i++) {
      // The payment's move and the attempt's, in one transaction where the store can.
      const patch = {
        provider: attempt.provider,
        providerReference: res.providerReference ?? null,
        winningAttempt: attempt.seq,
        authorized: payment.amount,
        captured: payment.capture ? (res.amount?.amount ?? payment.amount) : 0,
        outcome: 'approved' as const,
        code: 'approved' as const,
      }
      const won = await this.ledger.transitionWithAttempt(cur, payment.capture ? 'captured' : 'authorized', patch, attempt, 'succeeded', res)
      if (won) return won
      cur = await this.ledger.get(payment.id)
    }
    if (attempt.state === 'pending' || attempt.state === 'ambiguous') await this.ledger.settleAttempt(attempt, 'abandoned', res)
    else if (res.providerReference) attempt.providerReference = res.providerReference
    await this.reconcileExtra(cur, attempt, res)
    return cur
  }

  /**
   * Void (if only authorized) or refund (if captured) an approved attempt that is not the payment's
   * winner: a late success after a failover. The reconciling call has a fixed key per attempt, so a
   * retry after an ambiguous void/refund replays rather than repeats it.
   */
  async reconcileExtra(payment: PaymentRow, attempt: AttemptRow, found: ProviderResult, force = false): Promise<boolean> {
    const ref = found.providerReference ?? attempt.providerReference
    if (!ref) return false
    const captured = found.status === 'captured' || found.status === 'partially_captured'
    const alreadyUndone = found.status === 'voided' || found.status === 'refunded'
    if (!alreadyUndone) {
      const op: Operation = captured ? 'refund' : 'void'
      const rec = await this.ledger.recordAttempt(payment.id, op, attempt.provider, captured ? (found.amount?.amount ?? null) : null, {
        seq: (captured ? 2000 : 1000) + attempt.seq,
        salt: `reconcile-${op}`,
      })
      if (rec.state === 'succeeded') {
        // already done by an earlier sweep
      } else {
        const replay = rec.state !== 'pending' || rec.createdAt !== rec.updatedAt
        if (replay && !this.#mayReplay(rec, force)) return false
        const res = await this.#call(attempt.provider, op, rec, (a, ctx) => (captured ? a.refund(ref, undefined, ctx) : a.void(ref, ctx)), replay)
        if (res.outcome !== 'approved') {
          // The original stays abandoned, so the next sweep looks it up again and re-sends this call with
          // the same key (or, if the provider's status changed, the other undo call).
          if (rec.state === 'pending') await this.ledger.settleAttempt(rec, res.outcome === 'ambiguous' ? 'ambiguous' : 'failed', res)
          log('payment %s: reconciling attempt %d on %s failed (%s)', payment.id, attempt.seq, attempt.provider, res.code)
          return false
        }
        await this.ledger.settleAttempt(rec, 'succeeded', res)
      }
      this.#metrics.reconciliations.inc({ provider: attempt.provider, action: op })
    }
    attempt.providerReference = ref
    await this.ledger.settleAttempt(attempt, 'reconciled', { ...found, providerReference: ref })
    return true
  }

  // ---- capture, void, refund ---------------------------------------------------------------

  capture(paymentId: string, amount?: Money): Promise<PaymentResult> {
    return this.#operation(paymentId, 'capture', amount)
  }

  void(paymentId: string): Promise<PaymentResult> {
    return this.#operation(paymentId, 'void', undefined)
  }

  refund(paymentId: string, amount?: Money): Promise<PaymentResult> {
    return this.#operation(paymentId, 'refund', amount)
  }

  async #operation(paymentId: string, op: 'capture' | 'void' | 'refund', amount: Money | undefined): Promise<PaymentResult> {
    if (amount) assertMoney(amount, 'amount')
    return this.#lock.withLock(paymentId, async () => {
      const p = await this.ledger.get(paymentId)
      if (amount && amount.currency !== p.currency) throw new InvalidMoneyError(`amount.currency must be ${p.currency}, got ${amount.currency}`)
      const allowed = op === 'capture' || op === 'void' ? p.state === 'authorized' : p.state === 'captured' || p.state === 'partially_refunded'
      if (!allowed) {
        // Same operation again after it completed: answer the stored result.
        if ((op === 'capture' && p.state === 'captured' && (!amount || amount.amount === p.captured)) || (op === 'void' && p.state === 'voided')) {
          return this.#result(p, true)
        }
        throw new IllegalTransitionError(`cannot ${op} payment ${paymentId} in state ${p.state}`, { details: { paymentId, state: p.state, operation: op } })
      }
      const value = amount?.amount
      if (op === 'capture' && value !== undefined && (value < 1 || value > p.authorized)) {
        throw new InvalidMoneyError(`amount.amount must be from 1 to the authorized ${p.authorized}, got ${value}`)
      }
      if (op === 'refund' && value !== undefined && (value < 1 || value > p.captured - p.refunded)) {
        throw new InvalidMoneyError(`amount.amount must be from 1 to the refundable ${p.captured - p.refunded}, got ${value}`)
      }
      // An earlier ambiguous call of the same operation is replayed with its key, never re-issued.
      const prior = (await this.ledger.attempts(paymentId)).find(
        (a) => a.operation === op && a.seq < 1000 && (a.state === 'ambiguous' || a.state === 'pending') && a.amount === (value ?? null)
      )
      const attempt = prior ?? (await this.ledger.recordAttempt(paymentId, op, p.provider!, value ?? null))
      const res = await this.#runOperation(p, attempt, op, amount, Boolean(prior))
      if (res.outcome === 'approved') return this.#result(await this.#applyOperation(p, attempt, op, res), false)
      // No failover exists for these operations, so a transient refusal is simply "not confirmed yet":
      // the call stays open and is re-sent with the same key (by the sweeper, or by calling again). That
      // also covers adapters whose operation makes a second call after the first committed.
      const transient = res.outcome === 'technical_failure' && TRANSIENT.has(res.code)
      if (res.outcome === 'ambiguous' || transient) {
        await this.ledger.settleAttempt(attempt, 'ambiguous', res)
        throw new PaymentOperationError(`${op} of payment ${paymentId} is unconfirmed (${res.code}); calling ${op} again replays it with the same key, and the sweeper resolves it`, {
          details: { paymentId, operation: op, result: res },
        })
      }
      await this.ledger.settleAttempt(attempt, res.outcome === 'technical_failure' ? 'failed' : 'declined', res)
      throw new PaymentOperationError(`${op} of payment ${paymentId} failed: ${res.outcome} (${res.code})`, { details: { paymentId, operation: op, result: res } })
    })
  }

  async #runOperation(p: PaymentRow, attempt: AttemptRow, op: 'capture' | 'void' | 'refund', amount: Money | undefined, replay: boolean, force = false): Promise<ProviderResult> {
    const ref = p.providerReference!
    const send = (again: boolean) =>
      this.#call(attempt.provider, op, attempt, (a, ctx) => (op === 'capture' ? a.capture(ref, amount, ctx) : op === 'void' ? a.void(ref, ctx) : a.refund(ref, amount, ctx)), again)
    if (replay && !this.#mayReplay(attempt, force)) {
      return { outcome: 'ambiguous', code: 'unknown', provider: attempt.provider, message: 're-send deferred until the first send cannot still be executing' }
    }
    let res = await send(replay)
    if (res.outcome !== 'ambiguous') return res
    const first = res
    for (let i = 0; i < (this.#mayReplay(attempt, force) ? this.config.ambiguity.replays : 0); i++) {
      res = await send(true)
      // A re-send refused before executing says nothing about the first send: still unconfirmed.
      if (res.outcome === 'technical_failure') return first
      if (res.outcome !== 'ambiguous') return res
    }
    return res
  }

  async #applyOperation(p: PaymentRow, attempt: AttemptRow, op: 'capture' | 'void' | 'refund', res: ProviderResult): Promise<PaymentRow> {
    await this.ledger.settleAttempt(attempt, 'succeeded', res)
    if (op === 'capture') return this.ledger.transition(p.id, 'captured', { captured: res.amount?.amount ?? attempt.amount ?? p.authorized })
    if (op === 'void') return this.ledger.transition(p.id, 'voided', {})
    const refunded = p.refunded + (attempt.amount ?? p.captured - p.refunded)
    return this.ledger.transition(p.id, refunded >= p.captured ? 'refunded' : 'partially_refunded', { refunded })
  }

  // ---- the sweeper's work ------------------------------------------------------------------

  /**
   * Resolve what is still open: `processing` payments (their ambiguous attempt, on its provider),
   * abandoned attempts (a late success is voided or refunded), unconfirmed captures/voids/refunds, and
   * attempts left `pending` by a crash. `final: true` closes abandoned attempts the provider still does
   * not know (use it only when nothing can still be in flight, e.g. in tests after faults are cleared).
   */
  async sweep(options: { limit?: number; final?: boolean; pendingGraceMs?: number } = {}): Promise<SweepReport> {
    const limit = options.limit ?? 500
    const report: SweepReport = { resolved: 0, stillProcessing: 0, reconciled: 0, closed: 0, operations: 0 }
    const grace = options.pendingGraceMs ?? 60_000
    for (const a of await this.ledger.store.attemptsInState(['pending'], limit)) {
      if (this.now() - a.createdAt >= grace) await this.ledger.settleAttempt(a, 'ambiguous')
    }
    for (const p of await this.ledger.store.paymentsInState(['processing', 'pending'], limit)) {
      if (p.state === 'pending' && this.now() - p.createdAt < grace) continue
      const done = await this.resolvePayment(p.id, options.final ?? false)
      if (done) report.resolved++
      else report.stillProcessing++
    }
    for (const a of await this.ledger.store.attemptsInState(['abandoned'], limit)) {
      const r = await this.#lock.withLock(a.paymentId, () => this.#watchAbandoned(a, options.final ?? false))
      if (r === 'reconciled') report.reconciled++
      if (r === 'closed') report.closed++
    }
    for (const a of await this.ledger.store.attemptsInState(['ambiguous'], limit)) {
      // Merchant operations only: reconciling calls (seq >= 1000) are re-driven by the abandoned watch.
      if (a.seq < 1000 && (a.operation === 'capture' || a.operation === 'void' || a.operation === 'refund')) {
        if (await this.#lock.withLock(a.paymentId, () => this.#resolveOperation(a, options.final ?? false))) report.operations++
      } else if (a.seq < 1000) {
        // An authorize/sale attempt left open on a payment that is already settled (a crash between the
        // payment's move and the attempt's): it is the winner, or it goes under the late-success watch.
        await this.#lock.withLock(a.paymentId, async () => {
          const p = await this.ledger.get(a.paymentId)
          if (p.state === 'pending' || p.state === 'processing') return
          await this.ledger.settleAttempt(a, p.winningAttempt === a.seq ? 'succeeded' : 'abandoned')
        })
      }
    }
    return report
  }

  /** Try to settle one `processing` (or stale `pending`) payment; true when it left that state. */
  async resolvePayment(paymentId: string, force = false): Promise<boolean> {
    return this.#lock.withLock(paymentId, async () => {
      const p = await this.ledger.get(paymentId)
      if (p.state !== 'processing' && p.state !== 'pending') return true
      // The ledger's copy lacks card secrets when the caller sent raw card fields: such a copy is never
      // re-sent (it is not the request the key was first used with); lookups and webhooks settle it.
      const stored = JSON.parse(p.request) as StoredRequest
      const original = this.#originals.get(paymentId)
      const req: AuthorizeRequest = original ?? stored
      const replayable = original !== undefined || stored.redacted !== true
      const open = (await this.ledger.attempts(paymentId)).filter((a) => a.seq < 1000 && (a.state === 'ambiguous' || a.state === 'pending'))
      if (open.length === 0) {
        await this.ledger.transition(p.id, 'failed', { outcome: 'technical_failure', code: 'provider_unavailable' })
        return true
      }
      let allAbsent = true
      for (const a of open) {
        if (a.state === 'pending') await this.ledger.settleAttempt(a, 'ambiguous')
        const r = await this.#resolve(p, a, req, force, replayable)
        if (r.kind === 'approved') {
          await this.#settle(p, a, r.res)
          this.#metrics.reconciliations.inc({ provider: a.provider, action: 'resolved' })
          continue
        }
        if (r.kind === 'declined') {
          await this.ledger.settleAttempt(a, 'declined', r.res)
          continue
        }
        if (r.kind === 'absent') {
          await this.ledger.settleAttempt(a, 'abandoned', r.res)
          continue
        }
        allAbsent = false
      }
      const now = await this.ledger.get(paymentId)
      if (now.state !== 'processing' && now.state !== 'pending') return true
      if (!allAbsent) return false
      // Nothing executed anywhere: the sweeper does not start new charges, so the payment fails.
      const last = (await this.ledger.attempts(paymentId)).filter((a) => a.seq < 1000).at(-1)
      await this.ledger.transition(p.id, 'failed', { outcome: last?.outcome ?? 'technical_failure', code: last?.code ?? 'provider_unavailable' })
      return true
    })
  }

  async #watchAbandoned(a: AttemptRow, final: boolean): Promise<'reconciled' | 'closed' | 'waiting'> {
    const p = await this.ledger.get(a.paymentId)
    const lookup = await this.#call(a.provider, 'status', a, (ad, ctx) =>
      ad.status({ paymentId: a.paymentId, idempotencyKey: a.idempotencyKey, providerReference: a.providerReference ?? undefined }, ctx)
    )
    if (lookup.status && APPROVED_STATUSES.has(lookup.status)) {
      if (p.winningAttempt === a.seq) return 'waiting'
      return (await this.reconcileExtra(p, a, lookup, final)) ? 'reconciled' : 'waiting'
    }
    if (lookup.status === 'failed') {
      await this.ledger.settleAttempt(a, 'declined', lookup)
      return 'closed'
    }
    if (lookup.status === 'not_found' && (final || this.now() - a.updatedAt >= this.config.ambiguity.lateWindowMs)) {
      await this.ledger.settleAttempt(a, 'closed', lookup)
      return 'closed'
    }
    return 'waiting'
  }

  async #resolveOperation(a: AttemptRow, force: boolean): Promise<boolean> {
    const p = await this.ledger.get(a.paymentId)
    const op = a.operation as 'capture' | 'void' | 'refund'
    const stillApplies = op === 'refund' ? p.state === 'captured' || p.state === 'partially_refunded' : p.state === 'authorized'
    if (!stillApplies) {
      await this.ledger.settleAttempt(a, 'failed')
      return true
    }
    const amount = a.amount === null ? undefined : { amount: a.amount, currency: p.currency }
    const res = await this.#runOperation(p, a, op, amount, true, force)
    if (res.outcome === 'approved') {
      await this.#applyOperation(p, a, op, res)
      return true
    }
    if (res.outcome === 'ambiguous' || res.outcome === 'technical_failure') return false
    await this.ledger.settleAttempt(a, 'declined', res)
    return true
  }

  /** Verify a provider webhook with its SDK; a payment left `processing` is resolved on the spot. */
  async handleWebhook(provider: ProviderName, rawBody: Buffer | string, headers: WebhookHeaders, url?: string): Promise<NormalizedEvent> {
    const adapter = this.#adapters[provider]
    if (!adapter) throw new UnknownProviderError(`no adapter for provider "${provider}"`)
    const event = await adapter.verifyWebhook(rawBody, headers, url)
    if (event.paymentId) {
      const p = await this.ledger.store.getPayment(event.paymentId)
      if (p?.state === 'processing') await this.resolvePayment(p.id)
    }
    return event
  }

  #result(p: PaymentRow, replayed: boolean): PaymentResult {
    return {
      paymentId: p.id,
      state: p.state,
      amount: { amount: p.amount, currency: p.currency },
      provider: p.provider ?? undefined,
      providerReference: p.providerReference ?? undefined,
      outcome: p.outcome ?? undefined,
      code: p.code ?? undefined,
      authorized: p.authorized,
      captured: p.captured,
      refunded: p.refunded,
      replayed,
    }
  }

  async close(): Promise<void> {
    await this.ledger.store.close()
  }
}

export interface SweepReport {
  resolved: number
  stillProcessing: number
  reconciled: number
  closed: number
  operations: number
}

function toAuthorize(req: Omit<PaymentRequest, 'capture'>, capture: boolean): AuthorizeRequest {
  return {
    paymentId: req.paymentId,
    amount: { amount: req.amount.amount, currency: String(req.amount.currency).toUpperCase() },
    method: req.method,
    capture,
    country: req.country,
    description: req.description,
    metadata: req.metadata,
  }
}
