/**
 * The Square adapter, on the official `square` SDK (v44+, the Fern-generated `SquareClient`).
 * Idempotency: the caller's key (hashed to Square's 45-character limit) is the `idempotency_key` of
 * CreatePayment, UpdatePayment and RefundPayment. The SDK's own retries are off (`maxRetries: 0`): the
 * router decides. Without a payment id, status is resolved by finding the payment that carries the
 * attempt's marker in its note (a pure read); `cancelAttempt` abandons an attempt with
 * `payments.cancelByIdempotencyKey`.
 */
import { WebhookPayloadError, WebhookSignatureError } from '../../errors.js'
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
import { loadSdk } from '../load-optional.js'
import type { AdapterOptions } from './index.js'
import { SQUARE_SANDBOX_NOTIFICATION_URL } from '../sandbox/square-values.js'
import type { HttpClient } from '../../runtime/http-client.js'
import { paymentsHttpClient, pooledFetch } from './pooled-http.js'
import { classifyHttpStatus, classifyTransport, fitKey, headerValue, requireString, result } from './provider-util.js'

type SquareSdk = typeof import('square')
type SquareClient = InstanceType<SquareSdk['SquareClient']>
type SqPayment = NonNullable<Awaited<ReturnType<SquareClient['payments']['get']>>['payment']>

export interface SquareAdapterOptions {
  accessToken: string
  locationId: string
  /** API base URL. @default 'https://connect.squareup.com' (the sandbox: `http://host:port/square`) */
  baseUrl?: string
  /** Key of the webhook subscription, for `verifyWebhook`. */
  webhookSignatureKey?: string
  /** The notification URL Square signs together with the body; `verifyWebhook(body, headers, url)` may override it. */
  webhookUrl?: string
  /** Per-call timeout when the call context gives none. @default 30000 */
  timeoutMs?: number
  /** A fetch to send requests with. @default a fetch over `httpClient` */
  fetch?: typeof fetch
  /** The toolkit's pooled HTTP client. @default the payments-wide one (no retries, no breaker) */
  httpClient?: HttpClient
  /** How many recent payments a status lookup by idempotency key scans. @default 2000 */
  lookupScanLimit?: number
}

const KEY_MAX = 45
const noteMarker = (key: string) => `ecom-attempt:${key}`

// Square's PAYMENT_METHOD_ERROR codes -> the model. Hard: retrying the same card cannot succeed.
const DECLINES: Record<string, [OutcomeClass, NormalizedCode]> = {
  GENERIC_DECLINE: ['hard_decline', 'card_declined'],
  CARD_DECLINED: ['hard_decline', 'card_declined'],
  INSUFFICIENT_FUNDS: ['soft_decline', 'insufficient_funds'],
  TRANSACTION_LIMIT: ['soft_decline', 'insufficient_funds'],
  CARD_DECLINED_VERIFICATION_REQUIRED: ['soft_decline', 'do_not_honor'],
  CARD_DECLINED_CALL_ISSUER: ['hard_decline', 'do_not_honor'],
  TEMPORARY_ERROR: ['soft_decline', 'try_again_later'],
  CVV_FAILURE: ['hard_decline', 'incorrect_cvc'],
  INVALID_EXPIRATION: ['hard_decline', 'expired_card'],
  INVALID_EXPIRATION_DATE: ['hard_decline', 'expired_card'],
  EXPIRATION_FAILURE: ['hard_decline', 'expired_card'],
  CARD_EXPIRED: ['hard_decline', 'expired_card'],
  INVALID_CARD: ['hard_decline', 'incorrect_number'],
  INVALID_ACCOUNT: ['hard_decline', 'incorrect_number'],
  INVALID_CARD_DATA: ['hard_decline', 'incorrect_number'],
  ADDRESS_VERIFICATION_FAILURE: ['hard_decline', 'card_declined'],
  INVALID_POSTAL_CODE: ['hard_decline', 'card_declined'],
  CARD_NOT_SUPPORTED: ['hard_decline', 'card_declined'],
  ALLOWABLE_PIN_TRIES_EXCEEDED: ['hard_decline', 'fraud_suspected'],
  INVALID_PIN: ['hard_decline', 'card_declined'],
  VOICE_FAILURE: ['hard_decline', 'do_not_honor'],
}

export class SquareAdapter implements PaymentAdapter {
  readonly name = 'square' as const
  readonly #options: SquareAdapterOptions
  #client: Promise<{ sdk: SquareSdk; client: SquareClient }> | undefined

  constructor(options: SquareAdapterOptions) {
    const o = options as unknown as Record<string, unknown>
    requireString(o, 'square', 'accessToken')
    requireString(o, 'square', 'locationId')
    this.#options = { ...options }
  }

  #sdk(): Promise<{ sdk: SquareSdk; client: SquareClient }> {
    this.#client ??= loadSdk('square', () => import('square')).then((sdk) => ({
      sdk,
      client: new sdk.SquareClient({
        token: this.#options.accessToken,
        baseUrl: this.#options.baseUrl ?? 'https://connect.squareup.com',
        maxRetries: 0,
        // The toolkit's pooled client unless another fetch is given (see pooled-http.ts).
        fetch: this.#options.fetch ?? pooledFetch(this.#options.httpClient ?? paymentsHttpClient()),
      }),
    }))
    return this.#client
  }

  #req(ctx: CallContext) {
    const ms = ctx.timeoutMs ?? this.#options.timeoutMs ?? 30_000
    return { maxRetries: 0, timeoutInSeconds: ms / 1000, ...(ctx.signal ? { abortSignal: ctx.signal } : {}) }
  }

  async authorize(req: AuthorizeRequest, ctx: CallContext): Promise<ProviderResult> {
    const token = req.method.tokens.square
    if (typeof token !== 'string') {
      return result('square', { outcome: 'technical_failure', code: 'config_error', message: 'the payment method has no Square token' })
    }
    const key = fitKey(ctx.idempotencyKey, KEY_MAX)
    return this.#call(async ({ client }) => {
      const res = await client.payments.create(
        {
          idempotencyKey: key,
          sourceId: token,
          amountMoney: { amount: BigInt(req.amount.amount), currency: req.amount.currency as never },
          autocomplete: req.capture,
          locationId: this.#options.locationId,
          referenceId: req.paymentId.slice(0, 40),
          note: noteMarker(key),
        },
        this.#req(ctx),
      )
      if (!ctx.replay || !res.payment?.id) return paymentResult(res.payment)
      // A replay is answered with the stored first response; the payment may have moved since (a
      // status lookup may have canceled it by key): report what it is now.
      const now = (await client.payments.get({ paymentId: res.payment.id }, this.#req(ctx))).payment
      if (now?.status === 'CANCELED') {
        return result('square', { outcome: 'technical_failure', code: 'processing_error', providerReference: now.id ?? undefined, status: 'voided', providerCode: 'CANCELED', message: 'the attempt\'s payment was canceled (by idempotency key); it holds no funds' })
      }
      return paymentResult(now)
    })
  }

  async capture(ref: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(async ({ client }) => {
      let partial = false
      if (amount) {
        const { payment } = await client.payments.get({ paymentId: ref }, this.#req(ctx))
        const current = Number(payment?.amountMoney?.amount ?? 0)
        if (payment?.status === 'APPROVED' && amount.amount < current) {
          // Square completes the whole payment: a partial capture lowers the amount first.
          await client.payments.update(
            { paymentId: ref, idempotencyKey: fitKey(`${ctx.idempotencyKey}:amount`, KEY_MAX), payment: { amountMoney: { amount: BigInt(amount.amount), currency: amount.currency as never } } },
            this.#req(ctx),
          )
          partial = true
        }
      }
      const res = await client.payments.complete({ paymentId: ref }, this.#req(ctx))
      const out = paymentResult(res.payment)
      return partial && out.status === 'captured' ? { ...out, status: 'partially_captured' } : out
    })
  }

  async void(ref: string, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(async ({ client }) => paymentResult((await client.payments.cancel({ paymentId: ref }, this.#req(ctx))).payment))
  }

  async refund(ref: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(async ({ client }) => {
      const { payment } = await client.payments.get({ paymentId: ref }, this.#req(ctx))
      const total = Number(payment?.totalMoney?.amount ?? payment?.amountMoney?.amount ?? 0)
      const already = Number(payment?.refundedMoney?.amount ?? 0)
      const currency = String(payment?.totalMoney?.currency ?? payment?.amountMoney?.currency ?? amount?.currency)
      if (!amount && payment?.status === 'COMPLETED' && already >= total) {
        // A retried full refund whose first send went through: nothing is left to refund.
        return result('square', { outcome: 'approved', code: 'approved', providerReference: ref, status: 'refunded', amount: { amount: total, currency } })
      }
      const value = amount ?? { amount: total - already, currency }
      const res = await client.refunds.refundPayment(
        {
          idempotencyKey: fitKey(ctx.idempotencyKey, KEY_MAX),
          paymentId: ref,
          amountMoney: { amount: BigInt(value.amount), currency: value.currency as never },
        },
        this.#req(ctx),
      )
      const status = res.refund?.status
      if (status === 'REJECTED' || status === 'FAILED') {
        return result('square', { outcome: 'hard_decline', code: 'processing_error', providerReference: ref, providerCode: status })
      }
      // The refund has committed: the answer comes from the refund itself and the read made before it,
      // never from another call that could fail after the money moved. A replay under the same key
      // answers the stored refund, which the earlier read already counted when its id is listed there.
      const refunded = Number(res.refund?.amountMoney?.amount ?? value.amount)
      const counted = res.refund?.id !== undefined && (payment?.refundIds ?? []).includes(res.refund.id)
      const refundedNow = counted ? already : already + refunded
      return result('square', {
        outcome: 'approved',
        code: 'approved',
        providerReference: ref,
        status: refundedNow >= total ? 'refunded' : 'partially_refunded',
        amount: { amount: refunded, currency: String(res.refund?.amountMoney?.currency ?? value.currency) },
        providerCode: status ?? undefined,
      })
    })
  }

  async status(lookup: StatusLookup, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(async ({ sdk, client }) => {
      if (lookup.providerReference) {
        return paymentResult((await client.payments.get({ paymentId: lookup.providerReference }, this.#req(ctx))).payment)
      }
      const key = fitKey(lookup.idempotencyKey, KEY_MAX)
      const found = await this.#findByKey(client, key, ctx)
      if (found) return paymentResult(found)
      // A pure read: no payment carries the attempt's marker among the recent ones. Canceling by key
      // here would be unsafe: a cancel whose own answer is lost can land after a replay has made the
      // payment, voiding what the router then believes authorized. `cancelAttempt` does it on purpose.
      return result('square', { outcome: 'technical_failure', code: 'unknown', status: 'not_found', message: 'no recent Square payment carries this attempt\'s idempotency key' })
    })
  }

  /**
   * Abandon an attempt: `payments.cancelByIdempotencyKey`. Square voids the payment made with the key
   * if it is still only authorized, and does nothing when none exists. Answers `voided` when nothing
   * made with the key holds funds any more; a payment that cannot be canceled (completed) answers
   * `ambiguous`/`unknown`. Call it before giving up on an unresolved Square attempt, never concurrently
   * with a replay of the same attempt.
   */
  async cancelAttempt(lookup: StatusLookup, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(async ({ sdk, client }) => {
      const key = fitKey(lookup.idempotencyKey, KEY_MAX)
      try {
        await client.payments.cancelByIdempotencyKey({ idempotencyKey: key }, this.#req(ctx))
      } catch (err) {
        if (err instanceof sdk.SquareError && err.statusCode !== undefined && err.statusCode < 500 && err.statusCode !== 429) {
          return result('square', { outcome: 'ambiguous', code: 'unknown', status: 'unknown', httpStatus: err.statusCode, message: 'a Square payment made with this idempotency key cannot be canceled' })
        }
        throw err
      }
      return result('square', { outcome: 'approved', code: 'approved', status: 'voided', message: 'nothing made with this idempotency key holds funds' })
    })
  }

  async #findByKey(client: SquareClient, key: string, ctx: CallContext): Promise<SqPayment | undefined> {
    const marker = noteMarker(key)
    const limit = this.#options.lookupScanLimit ?? 2000
    let seen = 0
    const page = await client.payments.list({ locationId: this.#options.locationId, sortOrder: 'DESC', limit: 100 }, this.#req(ctx))
    for await (const p of page) {
      if (p.note === marker) return p
      if (++seen >= limit) break
    }
    return undefined
  }

  async verifyWebhook(rawBody: Buffer | string, headers: WebhookHeaders, url?: string): Promise<NormalizedEvent> {
    const { sdk } = await this.#sdk()
    const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8')
    const signature = headerValue(headers, 'x-square-hmacsha256-signature')
    const notificationUrl = url ?? this.#options.webhookUrl
    const key = this.#options.webhookSignatureKey
    if (!key || !notificationUrl) {
      throw new WebhookSignatureError('square: webhookSignatureKey and the notification URL are needed to verify a webhook')
    }
    const ok = signature
      ? await sdk.WebhooksHelper.verifySignature({ requestBody: body, signatureHeader: signature, signatureKey: key, notificationUrl })
      : false
    if (!ok) throw new WebhookSignatureError('square: x-square-hmacsha256-signature does not match the body')
    return parseEvent(body)
  }

  async #call(run: (s: { sdk: SquareSdk; client: SquareClient }) => Promise<ProviderResult>): Promise<ProviderResult> {
    const s = await this.#sdk()
    try {
      return await run(s)
    } catch (err) {
      return classifyError(s.sdk, err)
    }
  }
}

function paymentStatus(p: SqPayment | undefined): ProviderPaymentStatus {
  switch (p?.status) {
    case 'APPROVED':
      return 'authorized'
    case 'COMPLETED': {
      const refunded = Number(p.refundedMoney?.amount ?? 0)
      if (refunded > 0) return refunded >= Number(p.totalMoney?.amount ?? 0) ? 'refunded' : 'partially_refunded'
      return 'captured'
    }
    case 'CANCELED':
      return 'voided'
    case 'FAILED':
      return 'failed'
    case 'PENDING':
      return 'pending'
    default:
      return 'unknown'
  }
}

function paymentResult(p: SqPayment | undefined): ProviderResult {
  const status = paymentStatus(p)
  const amount = p?.amountMoney ? { amount: Number(p.amountMoney.amount), currency: String(p.amountMoney.currency) } : undefined
  const base = { providerReference: p?.id ?? undefined, status, amount, providerCode: p?.status ?? undefined }
  if (status === 'pending' || status === 'unknown') return result('square', { ...base, outcome: 'ambiguous', code: 'unknown' })
  if (status === 'failed') return result('square', { ...base, outcome: 'hard_decline', code: 'card_declined' })
  return result('square', { ...base, outcome: 'approved', code: 'approved' })
}

function classifyError(sdk: SquareSdk, err: unknown): ProviderResult {
  if (err instanceof sdk.SquareTimeoutError) {
    return result('square', { outcome: 'ambiguous', code: 'timeout', message: err.message })
  }
  if (err instanceof sdk.SquareError && err.statusCode !== undefined) {
    const first = err.errors[0]
    const body = (err.body ?? {}) as { payment?: { id?: string } }
    const base = {
      httpStatus: err.statusCode,
      providerCode: first?.code,
      message: first?.detail ?? err.message,
      providerReference: body.payment?.id,
    }
    if (first?.category === 'PAYMENT_METHOD_ERROR') {
      const [outcome, code] = DECLINES[first.code] ?? ['hard_decline', 'card_declined']
      return result('square', { ...base, outcome, code, status: 'failed' })
    }
    const byStatus = classifyHttpStatus(err.statusCode)
    if (byStatus) return result('square', { ...base, ...byStatus })
    if (err.statusCode === 404) return result('square', { ...base, outcome: 'technical_failure', code: 'invalid_request', status: 'not_found' })
    // A 4xx without a decline: Square rejected the request before doing anything.
    return result('square', { ...base, outcome: 'technical_failure', code: 'invalid_request' })
  }
  const t = classifyTransport(err)
  return result('square', { outcome: t.outcome, code: t.code, message: t.message })
}

const EVENT_TYPES: Record<string, NormalizedEventType> = {
  APPROVED: 'payment.authorized',
  COMPLETED: 'payment.captured',
  CANCELED: 'payment.voided',
  FAILED: 'payment.failed',
}

function parseEvent(body: string): NormalizedEvent {
  let event: {
    event_id?: string
    type?: string
    created_at?: string
    data?: { id?: string; object?: { payment?: Record<string, unknown>; refund?: Record<string, unknown> } }
  }
  try {
    event = JSON.parse(body) as typeof event
  } catch (err) {
    throw new WebhookPayloadError('square: the webhook body is not JSON', { cause: err })
  }
  if (!event.event_id || !event.type) throw new WebhookPayloadError('square: the webhook has no event_id or type')
  const payment = event.data?.object?.payment as { id?: string; status?: string; reference_id?: string; amount_money?: { amount: number; currency: string } } | undefined
  const refund = event.data?.object?.refund as { payment_id?: string; amount_money?: { amount: number; currency: string } } | undefined
  const money = (payment ?? refund)?.amount_money
  return {
    id: event.event_id,
    provider: 'square',
    type: refund ? 'payment.refunded' : (EVENT_TYPES[payment?.status ?? ''] ?? 'payment.updated'),
    ...(payment?.id ?? refund?.payment_id ? { providerReference: (payment?.id ?? refund?.payment_id) as string } : {}),
    ...(payment?.reference_id ? { paymentId: payment.reference_id } : {}),
    ...(money ? { amount: { amount: Number(money.amount), currency: money.currency } } : {}),
    createdAt: new Date(event.created_at ?? Date.now()),
  }
}

/**
 * The registry's factory: `credentials` in the sandbox's shape; `sandboxUrl` points the SDK at
 * `<sandboxUrl>/square`. Extras: `webhookUrl`, `fetch`, `httpClient`, `lookupScanLimit`, `baseUrl`.
 */
export async function createAdapter(options: AdapterOptions<'square'>): Promise<PaymentAdapter> {
  const { credentials: c } = options
  const baseUrl = typeof options.baseUrl === 'string' ? options.baseUrl : options.sandboxUrl ? `${options.sandboxUrl.replace(/\/+$/, '')}/square` : undefined
  return new SquareAdapter({
    accessToken: c.accessToken,
    locationId: c.locationId,
    webhookSignatureKey: c.webhookSignatureKey,
    ...(baseUrl ? { baseUrl } : {}),
    webhookUrl: typeof options.webhookUrl === 'string' ? options.webhookUrl : options.sandboxUrl ? SQUARE_SANDBOX_NOTIFICATION_URL : undefined,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(typeof options.fetch === 'function' ? { fetch: options.fetch as typeof fetch } : {}),
    ...(options.httpClient ? { httpClient: options.httpClient as HttpClient } : {}),
    ...(typeof options.lookupScanLimit === 'number' ? { lookupScanLimit: options.lookupScanLimit } : {}),
  })
}
