import { WebhookSignatureError } from '../../errors.js'
import type {
  AuthorizeRequest,
  CallContext,
  Money,
  NormalizedCode,
  NormalizedEvent,
  NormalizedEventType,
  OutcomeClass,
  PaymentAdapter,
  ProviderPaymentStatus,
  ProviderResult,
  StatusLookup,
  WebhookHeaders,
} from '../model.js'
import { classifyHttpStatus, classifyTransportError } from './classify.js'
import { loadSdk } from '../load-optional.js'
import type { HttpClient } from '../../runtime/http-client.js'
import { paymentsHttpClient } from './pooled-http.js'
import { createStripeHttpClient, type StripeNetLike } from './stripe-http-client.js'
import type { AdapterOptions } from './index.js'

/** The slice of a PaymentIntent the adapter reads (kept structural so the SDK's types stay optional). */
interface Intent {
  id: string
  status: string
  amount: number
  amount_received: number
  amount_capturable: number
  currency: string
  metadata?: Record<string, string>
  last_payment_error?: { code?: string; decline_code?: string; message?: string } | null
}

interface StripeErrorLike {
  type?: string
  statusCode?: number
  code?: string
  decline_code?: string
  message?: string
  detail?: unknown
  raw?: { payment_intent?: Intent; decline_code?: string }
}

// Stripe decline codes: which failures another attempt might fix (soft) and which it never will (hard).
const DECLINES: Record<string, { outcome: OutcomeClass; code: NormalizedCode }> = {
  generic_decline: { outcome: 'hard_decline', code: 'card_declined' },
  card_declined: { outcome: 'hard_decline', code: 'card_declined' },
  insufficient_funds: { outcome: 'soft_decline', code: 'insufficient_funds' },
  expired_card: { outcome: 'hard_decline', code: 'expired_card' },
  incorrect_cvc: { outcome: 'hard_decline', code: 'incorrect_cvc' },
  invalid_cvc: { outcome: 'hard_decline', code: 'incorrect_cvc' },
  incorrect_number: { outcome: 'hard_decline', code: 'incorrect_number' },
  invalid_number: { outcome: 'hard_decline', code: 'incorrect_number' },
  fraudulent: { outcome: 'hard_decline', code: 'fraud_suspected' },
  lost_card: { outcome: 'hard_decline', code: 'fraud_suspected' },
  stolen_card: { outcome: 'hard_decline', code: 'fraud_suspected' },
  pickup_card: { outcome: 'hard_decline', code: 'fraud_suspected' },
  do_not_honor: { outcome: 'soft_decline', code: 'do_not_honor' },
  processing_error: { outcome: 'soft_decline', code: 'processing_error' },
  try_again_later: { outcome: 'soft_decline', code: 'try_again_later' },
  card_velocity_exceeded: { outcome: 'soft_decline', code: 'try_again_later' },
}

export function mapDecline(code: string | undefined, declineCode: string | undefined): { outcome: OutcomeClass; code: NormalizedCode } {
  return DECLINES[declineCode ?? ''] ?? DECLINES[code ?? ''] ?? { outcome: 'hard_decline', code: 'card_declined' }
}

function intentStatus(pi: Intent): ProviderPaymentStatus {
  switch (pi.status) {
    case 'requires_capture':
      return 'authorized'
    case 'succeeded':
      return pi.amount_received < pi.amount ? 'partially_captured' : 'captured'
    case 'canceled':
      return 'voided'
    case 'requires_payment_method':
      return pi.last_payment_error ? 'failed' : 'pending'
    default:
      return 'pending'
  }
}

/** A refund's payment status from its expanded charge; without one (never expanded), from the request. */
export function refundStatus(charge: unknown, amount: Money | undefined): ProviderPaymentStatus {
  const c = charge as { amount?: number; amount_refunded?: number; refunded?: boolean } | string | null | undefined
  if (c && typeof c === 'object') {
    if (c.refunded === true) return 'refunded'
    if (typeof c.amount === 'number' && typeof c.amount_refunded === 'number') return c.amount_refunded >= c.amount ? 'refunded' : 'partially_refunded'
  }
  return amount ? 'partially_refunded' : 'refunded'
}

const EVENTS: Record<string, NormalizedEventType> = {
  'payment_intent.amount_capturable_updated': 'payment.authorized',
  'payment_intent.succeeded': 'payment.captured',
  'payment_intent.canceled': 'payment.voided',
  'payment_intent.payment_failed': 'payment.failed',
  'charge.refunded': 'payment.refunded',
}

/**
 * Run an SDK call with V8's stack capture off for its synchronous part. stripe-node takes
 * `new Error().stack` on every request (to add the caller's site to a failed request's error); this
 * adapter turns every SDK error into a `ProviderResult` and never shows a stack, so that capture is
 * pure cost per payment: ten frames formatted, and each of them source-mapped when source maps are on
 * (tsx, `--enable-source-maps`), tens of µs per call. Only the synchronous part runs without stacks
 * (the limit is restored before anything else can run); errors raised there still carry their
 * message and code, which is all `fromError` reads.
 */
function withoutCallSite<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return fn()
  } finally {
    Error.stackTraceLimit = limit
  }
}

interface HttpClientLike {
  makeRequest(...args: unknown[]): Promise<unknown>
}

/**
 * stripe-node retries a request once on ECONNRESET/EPIPE even with maxNetworkRetries 0 (its
 * `_shouldRetry`). That retry hides the first outcome: a request that committed and then lost its
 * connection, retried into a 503 or 429, would come back looking like a definite refusal, and the router
 * would fail over and charge twice (the chaos test found exactly this). Renaming the error code turns
 * the SDK's retry off, so the reset reaches the router as what it is: ambiguous.
 */
function noHiddenRetry(client: HttpClientLike): HttpClientLike {
  const wrapped = Object.create(client) as HttpClientLike
  wrapped.makeRequest = (...args: unknown[]) =>
    client.makeRequest(...args).catch((err: NodeJS.ErrnoException) => {
      if (err?.code === 'ECONNRESET' || err?.code === 'EPIPE') {
        const e = new Error(err.message, { cause: err }) as NodeJS.ErrnoException
        e.code = 'ECOM_CONNECTION_LOST_AFTER_SEND'
        throw e
      }
      throw err
    })
  return wrapped
}

/**
 * The Stripe adapter on the official `stripe` SDK. The SDK never retries on its own (maxNetworkRetries
 * 0: the router decides) and every POST carries the router's idempotency key, never the SDK's random
 * one, so the SDK's single closed-connection retry and our own replays both dedupe on Stripe's side.
 * The attempt's key also goes into the PaymentIntent's metadata so an ambiguous attempt can be found
 * again by search (Stripe's search is eventually consistent on the real API: a miss right after the
 * call is answered `pending`, not `not_found`, within `searchGraceMs`).
 */
export async function createAdapter(options: AdapterOptions<'stripe'>): Promise<PaymentAdapter> {
  const mod = await loadSdk('stripe', () => import('stripe'))
  const StripeCtor = (mod as { default: new (key: string, cfg: Record<string, unknown>) => any }).default
  const timeout = options.timeoutMs ?? 10_000
  const cfg: Record<string, unknown> = { maxNetworkRetries: 0, timeout, telemetry: false }
  if (options.sandboxUrl) {
    const u = new URL(options.sandboxUrl)
    cfg.host = u.hostname
    cfg.port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
    cfg.protocol = u.protocol.replace(':', '')
  }
  // The toolkit's pooled client (or the one given as `httpClient`), wrapped so stripe-node's hidden
  // closed-connection retry never fires (noHiddenRetry).
  const pool = (options.httpClient as HttpClient | undefined) ?? paymentsHttpClient()
  cfg.httpClient = noHiddenRetry(createStripeHttpClient(StripeCtor as unknown as StripeNetLike, pool) as HttpClientLike)
  const stripe = new StripeCtor(options.credentials.apiKey, cfg)
  const webhookSecret = options.credentials.webhookSecret
  const searchGraceMs = typeof options.searchGraceMs === 'number' ? options.searchGraceMs : options.sandboxUrl ? 0 : 60_000

  const reqOpts = (ctx: CallContext) => ({ idempotencyKey: ctx.idempotencyKey, timeout: ctx.timeoutMs ?? timeout })

  function approved(pi: Intent, amount?: Money): ProviderResult {
    return {
      outcome: 'approved',
      code: 'approved',
      provider: 'stripe',
      providerReference: pi.id,
      status: intentStatus(pi),
      amount: amount ?? { amount: pi.amount_received || pi.amount_capturable || pi.amount, currency: pi.currency.toUpperCase() },
      providerCode: pi.status,
    }
  }

  function fromError(err: unknown): ProviderResult {
    const e = err as StripeErrorLike
    const base = { provider: 'stripe' as const, providerCode: e.decline_code ?? e.code ?? e.type, message: e.message, httpStatus: e.statusCode }
    if (e.type === 'StripeCardError') {
      const m = mapDecline(e.code, e.decline_code ?? e.raw?.decline_code)
      const pi = e.raw?.payment_intent
      return { ...base, ...m, status: 'failed', providerReference: pi?.id }
    }
    if (e.type === 'StripeConnectionError') return { ...base, ...classifyTransportError(e.detail ?? err) }
    if (typeof e.statusCode === 'number') {
      const c = classifyHttpStatus(e.statusCode)
      if (e.statusCode === 400 && e.type === 'StripeIdempotencyError') return { ...base, outcome: 'technical_failure', code: 'invalid_request' }
      return { ...base, ...c }
    }
    return { ...base, ...classifyTransportError(err) }
  }

  async function call(fn: () => Promise<Intent>, amount?: (pi: Intent) => Money): Promise<ProviderResult> {
    try {
      const pi = await withoutCallSite(fn)
      if (pi.status === 'requires_action') {
        return { outcome: 'soft_decline', code: 'try_again_later', provider: 'stripe', providerReference: pi.id, status: 'pending', providerCode: 'requires_action' }
      }
      return approved(pi, amount?.(pi))
    } catch (err) {
      return fromError(err)
    }
  }

  const adapter: PaymentAdapter = {
    name: 'stripe',
    authorize(req: AuthorizeRequest, ctx: CallContext) {
      const token = req.method.tokens.stripe
      if (typeof token !== 'string') {
        return Promise.resolve({ outcome: 'technical_failure', code: 'invalid_request', provider: 'stripe', message: 'no Stripe token for this payment method' })
      }
      const params = {
        amount: req.amount.amount,
        currency: req.amount.currency.toLowerCase(),
        payment_method: token,
        payment_method_types: ['card'],
        confirm: true,
        capture_method: req.capture ? 'automatic' : 'manual',
        description: req.description,
        metadata: { ...req.metadata, ecom_payment_id: req.paymentId, ecom_attempt: String(ctx.attempt), ecom_idempotency_key: ctx.idempotencyKey },
      }
      return call(() => stripe.paymentIntents.create(params, reqOpts(ctx)))
    },
    capture(ref, amount, ctx) {
      const params = amount ? { amount_to_capture: amount.amount } : {}
      return call(
        () => stripe.paymentIntents.capture(ref, params, reqOpts(ctx)),
        (pi) => ({ amount: pi.amount_received, currency: pi.currency.toUpperCase() })
      )
    },
    void(ref, ctx) {
      return call(async () => stripe.paymentIntents.cancel(ref, {}, reqOpts(ctx)), (pi) => ({ amount: 0, currency: pi.currency.toUpperCase() }))
    },
    async refund(ref, amount, ctx) {
      try {
        // The refund's own answer says whether it completed the refund: the charge, expanded, as of this
        // refund (a replay under the same key answers the same stored body, so it agrees with the first).
        const r = await withoutCallSite(() => stripe.refunds.create({ payment_intent: ref, ...(amount ? { amount: amount.amount } : {}), expand: ['charge'] }, reqOpts(ctx)))
        return {
          outcome: r.status === 'failed' ? 'hard_decline' : 'approved',
          code: r.status === 'failed' ? 'processing_error' : 'approved',
          provider: 'stripe',
          providerReference: ref,
          status: refundStatus(r.charge, amount),
          amount: { amount: r.amount, currency: String(r.currency).toUpperCase() },
          providerCode: r.id,
        }
      } catch (err) {
        return fromError(err)
      }
    },
    async status(lookup: StatusLookup, ctx: CallContext): Promise<ProviderResult> {
      try {
        let pi: Intent | undefined
        if (lookup.providerReference) {
          const ref = lookup.providerReference
          pi = await withoutCallSite(() => stripe.paymentIntents.retrieve(ref, {}, { timeout: ctx.timeoutMs ?? timeout }))
        } else {
          const key = lookup.idempotencyKey.replace(/'/g, "\\'")
          const found = await withoutCallSite(() => stripe.paymentIntents.search({ query: `metadata['ecom_idempotency_key']:'${key}'` }, { timeout: ctx.timeoutMs ?? timeout }))
          pi = found.data[0]
          if (!pi) {
            if (searchGraceMs > 0) return { outcome: 'ambiguous', code: 'unknown', provider: 'stripe', status: 'unknown', message: 'not yet searchable' }
            return { outcome: 'technical_failure', code: 'unknown', provider: 'stripe', status: 'not_found' }
          }
        }
        const status = intentStatus(pi!)
        if (status === 'failed') {
          const e = pi!.last_payment_error ?? {}
          return { ...mapDecline(e.code, e.decline_code), provider: 'stripe', providerReference: pi!.id, status, providerCode: e.decline_code ?? e.code }
        }
        if (status === 'pending') return { outcome: 'ambiguous', code: 'unknown', provider: 'stripe', providerReference: pi!.id, status, providerCode: pi!.status }
        return approved(pi!)
      } catch (err) {
        const r = fromError(err)
        if (r.httpStatus === 404) return { ...r, outcome: 'technical_failure', status: 'not_found' }
        return { ...r, status: 'unknown' }
      }
    },
    async verifyWebhook(rawBody: Buffer | string, headers: WebhookHeaders): Promise<NormalizedEvent> {
      const sig = headers['stripe-signature']
      let event: { id: string; type: string; created: number; data: { object: Record<string, any> } }
      try {
        event = stripe.webhooks.constructEvent(rawBody, Array.isArray(sig) ? sig[0] : sig ?? '', webhookSecret)
      } catch (err) {
        throw new WebhookSignatureError(`stripe webhook signature verification failed: ${(err as Error).message}`, { cause: err })
      }
      const obj = event.data.object
      const isCharge = obj.object === 'charge'
      const amount = isCharge ? obj.amount_refunded : obj.amount_received || obj.amount_capturable || obj.amount
      return {
        id: event.id,
        provider: 'stripe',
        type: EVENTS[event.type] ?? 'payment.updated',
        providerReference: isCharge ? obj.payment_intent : obj.id,
        paymentId: obj.metadata?.ecom_payment_id,
        amount: typeof amount === 'number' && typeof obj.currency === 'string' ? { amount, currency: obj.currency.toUpperCase() } : undefined,
        createdAt: new Date(event.created * 1000),
      }
    },
  }
  return adapter
}
