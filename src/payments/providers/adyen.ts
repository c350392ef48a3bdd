/**
 * The Adyen adapter, on the official `@adyen/api-library` (Checkout API v72) through `AdyenHttpClient`.
 * Idempotency: the caller's key (hashed to Adyen's 64-character limit) is the `Idempotency-Key` header
 * of every POST. Adyen has no payment lookup API, so an ambiguous attempt is resolved by replaying the
 * same request under the same key: Adyen answers with the first result if it processed it, or processes
 * it now, exactly once. The adapter keeps the recent requests it sent (`replayCacheSize`) for that.
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
import { AdyenHttpClient, type AdyenHttpClientOptions, type HttpClientExceptionCtor } from './adyen-http-client.js'
import { classifyHttpStatus, classifyTransport, fitKey, requireString, result } from './provider-util.js'

type AdyenSdk = typeof import('@adyen/api-library')
type Checkout = InstanceType<AdyenSdk['CheckoutAPI']>

export interface AdyenAdapterOptions {
  apiKey: string
  merchantAccount: string
  /** HMAC key of the webhook (hex), for `verifyWebhook`. */
  hmacKeyHex?: string
  /** @default 'TEST' */
  environment?: 'TEST' | 'LIVE'
  /** LIVE only: the account's endpoint prefix. */
  liveEndpointUrlPrefix?: string
  /** Send every call to this base URL (the sandbox: `http://host:port/adyen`). */
  baseUrl?: string
  /** The toolkit's pooled HTTP client to send with. @default the payments-wide one (no retries, no breaker) */
  httpClient?: AdyenHttpClientOptions['httpClient']
  /** Per-call timeout when the call context gives none. @default 30000 */
  timeoutMs?: number
  /** How many sent requests are kept to replay for a status lookup. @default 10000 */
  replayCacheSize?: number
}

const KEY_MAX = 64

// refusalReasonCode -> the model (Adyen "Refusal reasons"). Unlisted codes are hard card_declined.
const REFUSALS: Record<string, [OutcomeClass, NormalizedCode]> = {
  '2': ['hard_decline', 'card_declined'],
  '3': ['soft_decline', 'do_not_honor'],
  '4': ['soft_decline', 'try_again_later'],
  '5': ['hard_decline', 'fraud_suspected'],
  '6': ['hard_decline', 'expired_card'],
  '7': ['hard_decline', 'invalid_request'],
  '8': ['hard_decline', 'incorrect_number'],
  '9': ['soft_decline', 'try_again_later'],
  '12': ['soft_decline', 'insufficient_funds'],
  '14': ['hard_decline', 'fraud_suspected'],
  '19': ['soft_decline', 'try_again_later'],
  '20': ['hard_decline', 'fraud_suspected'],
  '21': ['soft_decline', 'processing_error'],
  '22': ['hard_decline', 'fraud_suspected'],
  '24': ['hard_decline', 'incorrect_cvc'],
  '28': ['soft_decline', 'insufficient_funds'],
  '29': ['soft_decline', 'insufficient_funds'],
  '31': ['hard_decline', 'fraud_suspected'],
  '33': ['soft_decline', 'card_declined'],
  '36': ['soft_decline', 'card_declined'],
  '37': ['soft_decline', 'card_declined'],
  '38': ['soft_decline', 'card_declined'],
  '39': ['soft_decline', 'try_again_later'],
  '40': ['soft_decline', 'try_again_later'],
  '41': ['soft_decline', 'card_declined'],
  '42': ['soft_decline', 'card_declined'],
}

interface AuthorizeAnswer {
  pspReference?: string
  resultCode?: string
  refusalReason?: string
  refusalReasonCode?: string
}

interface ModificationAnswer {
  pspReference?: string
  status?: string
}

type Op = 'authorize' | 'capture' | 'void' | 'refund'
interface Sent {
  op: Op
  ref?: string
  body: Record<string, unknown>
  /** The modification's amount has been counted in `Known` (a replay must not count it twice). */
  counted?: boolean
}
/** What the adapter learnt of a payment: Adyen's modification answers do not carry totals. */
interface Known {
  currency: string
  authorized: number
  captured: number
  refunded: number
}

export class AdyenAdapter implements PaymentAdapter {
  readonly name = 'adyen' as const
  readonly #options: AdyenAdapterOptions
  #sdk: Promise<{ sdk: AdyenSdk; checkout: Checkout }> | undefined
  readonly #sent = new Map<string, Sent>()
  readonly #known = new Map<string, Known>()

  constructor(options: AdyenAdapterOptions) {
    const o = options as unknown as Record<string, unknown>
    requireString(o, 'adyen', 'apiKey')
    requireString(o, 'adyen', 'merchantAccount')
    this.#options = { ...options }
  }

  #load(): Promise<{ sdk: AdyenSdk; checkout: Checkout }> {
    this.#sdk ??= loadSdk('@adyen/api-library', () => import('@adyen/api-library')).then((sdk) => {
      const httpClient = new AdyenHttpClient(sdk.HttpClientException as unknown as HttpClientExceptionCtor, {
        ...(this.#options.baseUrl ? { baseUrl: this.#options.baseUrl } : {}),
        ...(this.#options.httpClient ? { httpClient: this.#options.httpClient } : {}),
        timeoutMs: this.#options.timeoutMs ?? 30_000,
      })
      const client = new sdk.Client(
        {
          apiKey: this.#options.apiKey,
          environment: (this.#options.environment ?? 'TEST') as never,
          ...(this.#options.liveEndpointUrlPrefix ? { liveEndpointUrlPrefix: this.#options.liveEndpointUrlPrefix } : {}),
        } as never,
        httpClient as never,
      )
      return { sdk, checkout: new sdk.CheckoutAPI(client) }
    })
    return this.#sdk
  }

  async authorize(req: AuthorizeRequest, ctx: CallContext): Promise<ProviderResult> {
    const token = req.method.tokens.adyen
    if (token === undefined) {
      return result('adyen', { outcome: 'technical_failure', code: 'config_error', message: 'the payment method has no Adyen token' })
    }
    const body: Record<string, unknown> = {
      merchantAccount: this.#options.merchantAccount,
      reference: req.paymentId,
      amount: { value: req.amount.amount, currency: req.amount.currency },
      paymentMethod: typeof token === 'string' ? { type: 'scheme', storedPaymentMethodId: token } : { type: 'scheme', ...token },
      ...(req.capture ? { captureDelayHours: 0 } : { additionalData: { manualCapture: 'true' } }),
      ...(req.country ? { countryCode: req.country } : {}),
      ...(req.description ? { shopperStatement: req.description.slice(0, 22) } : {}),
      ...(req.metadata ? { metadata: { ...req.metadata } } : {}),
    }
    return this.#send(ctx.idempotencyKey, { op: 'authorize', body }, ctx)
  }

  async capture(ref: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult> {
    const value = amount ?? this.#remaining(ref, 'capture')
    if (!value) return missingAmount('capture')
    return this.#send(ctx.idempotencyKey, { op: 'capture', ref, body: { merchantAccount: this.#options.merchantAccount, amount: { value: value.amount, currency: value.currency } } }, ctx)
  }

  async void(ref: string, ctx: CallContext): Promise<ProviderResult> {
    return this.#send(ctx.idempotencyKey, { op: 'void', ref, body: { merchantAccount: this.#options.merchantAccount } }, ctx)
  }

  async refund(ref: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult> {
    const value = amount ?? this.#remaining(ref, 'refund')
    if (!value) return missingAmount('refund')
    return this.#send(ctx.idempotencyKey, { op: 'refund', ref, body: { merchantAccount: this.#options.merchantAccount, amount: { value: value.amount, currency: value.currency } } }, ctx)
  }

  /** Replays the attempt's request under its key; Adyen answers it at most once. */
  async status(lookup: StatusLookup, ctx: CallContext): Promise<ProviderResult> {
    const sent = this.#sent.get(fitKey(lookup.idempotencyKey, KEY_MAX))
    if (!sent) {
      return result('adyen', {
        outcome: 'ambiguous',
        code: 'unknown',
        status: 'unknown',
        ...(lookup.providerReference ? { providerReference: lookup.providerReference } : {}),
        message: 'Adyen has no lookup API and this process did not send the attempt: wait for its webhook',
      })
    }
    return this.#send(lookup.idempotencyKey, sent, ctx)
  }

  async verifyWebhook(rawBody: Buffer | string, _headers: WebhookHeaders): Promise<NormalizedEvent> {
    const { sdk } = await this.#load()
    const key = this.#options.hmacKeyHex
    if (!key) throw new WebhookSignatureError('adyen: hmacKeyHex is needed to verify a webhook')
    let parsed: { notificationItems?: { NotificationRequestItem?: Record<string, unknown> }[] }
    try {
      parsed = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8')) as typeof parsed
    } catch (err) {
      throw new WebhookSignatureError('adyen: the webhook body is not JSON', { cause: err })
    }
    const items = (parsed.notificationItems ?? []).map((i) => i.NotificationRequestItem).filter((i) => i !== undefined)
    if (items.length === 0) throw new WebhookPayloadError('adyen: the webhook has no notificationItems')
    const validator = new sdk.hmacValidator()
    for (const item of items) {
      let ok = false
      try {
        ok = validator.validateHMAC(item as never, key)
      } catch {
        ok = false
      }
      if (!ok) throw new WebhookSignatureError('adyen: additionalData.hmacSignature does not match the notification item')
    }
    return toEvent(items[0] as unknown as AdyenItem)
  }

  #remaining(ref: string, op: 'capture' | 'refund'): Money | undefined {
    const k = this.#known.get(ref)
    if (!k) return undefined
    return { amount: op === 'capture' ? k.authorized - k.captured : k.captured - k.refunded, currency: k.currency }
  }

  async #send(callerKey: string, sent: Sent, ctx: CallContext): Promise<ProviderResult> {
    const { sdk, checkout } = await this.#load()
    const idempotencyKey = fitKey(callerKey, KEY_MAX)
    const prior = this.#sent.get(idempotencyKey)
    if (prior && prior !== sent && prior.op === sent.op && prior.ref === sent.ref) sent.counted = prior.counted
    this.#remember(idempotencyKey, sent)
    const opts = {
      idempotencyKey,
      timeout: ctx.timeoutMs ?? this.#options.timeoutMs ?? 30_000,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    }
    const api = checkout.ModificationsApi
    const body = sent.body as never
    try {
      switch (sent.op) {
        case 'authorize':
          return this.#authorized((await checkout.PaymentsApi.payments(body, opts)) as AuthorizeAnswer, sent)
        case 'capture':
          return this.#modified('capture', (await api.captureAuthorisedPayment(sent.ref!, body, opts)) as ModificationAnswer, sent)
        case 'void':
          return this.#modified('void', (await api.cancelAuthorisedPaymentByPspReference(sent.ref!, body, opts)) as ModificationAnswer, sent)
        case 'refund':
          return this.#modified('refund', (await api.refundCapturedPayment(sent.ref!, body, opts)) as ModificationAnswer, sent)
      }
    } catch (err) {
      return classifyError(sdk, err, sent.ref)
    }
  }

  #remember(key: string, sent: Sent): void {
    this.#sent.delete(key)
    this.#sent.set(key, sent)
    const max = this.#options.replayCacheSize ?? 10_000
    while (this.#sent.size > max) this.#sent.delete(this.#sent.keys().next().value as string)
    while (this.#known.size > max) this.#known.delete(this.#known.keys().next().value as string)
  }

  #authorized(res: AuthorizeAnswer, sent: Sent): ProviderResult {
    const req = sent.body as { amount: { value: number; currency: string }; captureDelayHours?: number }
    const amount = { amount: req.amount.value, currency: req.amount.currency }
    const base = { providerReference: res.pspReference, amount, providerCode: res.resultCode }
    switch (res.resultCode) {
      case 'Authorised': {
        const sale = req.captureDelayHours === 0
        if (res.pspReference) {
          this.#known.set(res.pspReference, { currency: amount.currency, authorized: amount.amount, captured: sale ? amount.amount : 0, refunded: 0 })
        }
        return result('adyen', { ...base, outcome: 'approved', code: 'approved', status: sale ? 'captured' : 'authorized' })
      }
      case 'Refused': {
        const [outcome, code] = REFUSALS[res.refusalReasonCode ?? ''] ?? ['hard_decline', 'card_declined']
        return result('adyen', { ...base, outcome, code, status: 'failed', providerCode: `Refused:${res.refusalReasonCode ?? ''}`, message: res.refusalReason })
      }
      case 'Cancelled':
        return result('adyen', { ...base, outcome: 'hard_decline', code: 'card_declined', status: 'failed' })
      case 'Error':
        return result('adyen', { ...base, outcome: 'soft_decline', code: 'processing_error', status: 'failed', message: res.refusalReason })
      case 'Pending':
      case 'Received':
        return result('adyen', { ...base, outcome: 'ambiguous', code: 'unknown', status: 'pending' })
      default:
        // RedirectShopper, ChallengeShopper, ...: a shopper action this server-side flow cannot do.
        return result('adyen', { ...base, outcome: 'hard_decline', code: 'invalid_request', status: 'failed', message: `Adyen asks for a shopper action (${res.resultCode ?? 'none'})` })
    }
  }

  #modified(op: 'capture' | 'void' | 'refund', res: ModificationAnswer, sent: Sent): ProviderResult {
    const ref = sent.ref!
    const req = sent.body as { amount?: { value: number; currency: string } }
    const amount = req.amount ? { amount: req.amount.value, currency: req.amount.currency } : undefined
    const k = this.#known.get(ref)
    let status: ProviderPaymentStatus
    if (op === 'void') status = 'voided'
    else if (op === 'capture') {
      if (k && amount && !sent.counted) k.captured = Math.min(k.authorized, k.captured + amount.amount)
      status = k && k.captured < k.authorized ? 'partially_captured' : 'captured'
    } else {
      if (k && amount && !sent.counted) k.refunded = Math.min(k.captured, k.refunded + amount.amount)
      status = k && k.refunded < k.captured ? 'partially_refunded' : 'refunded'
    }
    sent.counted = true
    // Adyen accepts modifications asynchronously ("received"); the webhook tells the final word.
    return result('adyen', { outcome: 'approved', code: 'approved', providerReference: ref, status, amount, providerCode: res.status, message: res.pspReference ? `modification ${res.pspReference}` : undefined })
  }
}

function missingAmount(op: string): ProviderResult {
  return result('adyen', { outcome: 'technical_failure', code: 'invalid_request', message: `Adyen needs the amount to ${op} a payment this process did not authorize` })
}

function classifyError(sdk: AdyenSdk, err: unknown, ref: string | undefined): ProviderResult {
  if (err instanceof sdk.HttpClientException) {
    const status = err.statusCode
    const base = { httpStatus: status, providerCode: err.errorCode ?? err.apiError?.errorCode, message: err.apiError?.message ?? err.message, ...(ref ? { providerReference: ref } : {}) }
    const byStatus = classifyHttpStatus(status)
    if (byStatus) return result('adyen', { ...base, ...byStatus })
    // 400/422 validation (including an idempotency key reused with another body): nothing executed.
    return result('adyen', { ...base, outcome: 'technical_failure', code: 'invalid_request' })
  }
  const t = classifyTransport(err)
  return result('adyen', { outcome: t.outcome, code: t.code, message: t.message, ...(ref ? { providerReference: ref } : {}) })
}

interface AdyenItem {
  pspReference: string
  originalReference?: string
  merchantReference?: string
  eventCode: string
  eventDate?: string
  success: string
  amount?: { value?: number; currency?: string }
}

const EVENT_TYPES: Record<string, NormalizedEventType> = {
  AUTHORISATION: 'payment.authorized',
  CAPTURE: 'payment.captured',
  CANCELLATION: 'payment.voided',
  REFUND: 'payment.refunded',
}

function toEvent(item: AdyenItem): NormalizedEvent {
  const success = item.success === 'true'
  const type: NormalizedEventType = !success ? (item.eventCode === 'AUTHORISATION' ? 'payment.failed' : 'payment.updated') : (EVENT_TYPES[item.eventCode] ?? 'payment.updated')
  return {
    id: `${item.pspReference}:${item.eventCode}:${item.success}`,
    provider: 'adyen',
    type,
    providerReference: item.originalReference || item.pspReference,
    ...(item.merchantReference ? { paymentId: item.merchantReference } : {}),
    ...(item.amount?.currency && item.amount.value !== undefined ? { amount: { amount: Number(item.amount.value), currency: item.amount.currency } } : {}),
    createdAt: item.eventDate ? new Date(item.eventDate) : new Date(),
  }
}

/**
 * The registry's factory: `credentials` in the sandbox's shape; `sandboxUrl` sends every call to
 * `<sandboxUrl>/adyen`. Extras: `httpClient`, `replayCacheSize`, `environment`, `liveEndpointUrlPrefix`.
 */
export async function createAdapter(options: AdapterOptions<'adyen'>): Promise<PaymentAdapter> {
  const { credentials: c } = options
  return new AdyenAdapter({
    apiKey: c.apiKey,
    merchantAccount: c.merchantAccount,
    hmacKeyHex: c.hmacKeyHex,
    ...(options.sandboxUrl ? { baseUrl: `${options.sandboxUrl.replace(/\/+$/, '')}/adyen` } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.httpClient ? { httpClient: options.httpClient as AdyenAdapterOptions['httpClient'] } : {}),
    ...(typeof options.replayCacheSize === 'number' ? { replayCacheSize: options.replayCacheSize } : {}),
    ...(options.environment === 'LIVE' ? { environment: 'LIVE' as const } : {}),
    ...(typeof options.liveEndpointUrlPrefix === 'string' ? { liveEndpointUrlPrefix: options.liveEndpointUrlPrefix } : {}),
  })
}
