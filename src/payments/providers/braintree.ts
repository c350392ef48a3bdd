/**
 * The Braintree adapter, on the official `braintree` SDK (`BraintreeGateway`). Braintree has no
 * idempotency key, so each attempt sends a unique `orderId` (the caller's idempotency key) and, before
 * any retry of an attempt (`ctx.replay`, or a key this adapter already sent) and in every status lookup,
 * searches transactions by that order id: an existing sale is returned instead of charging again.
 * Refunds carry their attempt's key as order id too. The SDK never retries.
 */
import { WebhookPayloadError, WebhookSignatureError } from '../../errors.js'
import type {
  AuthorizeRequest,
  CallContext,
  Money,
  NormalizedCode,
  NormalizedEvent,
  OutcomeClass,
  PaymentAdapter,
  ProviderPaymentStatus,
  ProviderResult,
  StatusLookup,
  WebhookHeaders,
} from '../model.js'
import { loadSdk } from '../load-optional.js'
import type { AdapterOptions } from './index.js'
import { classifyTransport, fitKey, fromDecimal, headerValue, requireString, result, toDecimal } from './provider-util.js'

type BraintreeSdk = typeof import('braintree') & { errorTypes: Record<string, string> }
type Gateway = InstanceType<BraintreeSdk['BraintreeGateway']>

export interface BraintreeAdapterOptions {
  merchantId: string
  publicKey: string
  privateKey: string
  /** 'sandbox' | 'production', or a host for a local emulator (with `port`). @default 'sandbox' */
  environment?: 'sandbox' | 'production' | { host: string; port: number; ssl?: boolean }
  /** Gateway timeout when the call context gives none. @default 60000 */
  timeoutMs?: number
  /**
   * A store-and-pass-back custom field (created in the Braintree control panel) that receives the
   * merchant payment id on every sale. Braintree rejects unknown custom fields, so it is off unless set;
   * the local sandbox accepts `ecom_payment_id`, which `createAdapter` sets when given a `sandboxUrl`.
   */
  paymentIdCustomField?: string
  /** An http(s).Agent for the SDK (`customHttpAgent`), e.g. the pooled HTTP client's keep-alive agent. */
  httpAgent?: unknown
  /** Search by order id before every sale, not only before a retry. @default false */
  searchBeforeEverySale?: boolean
  /** The default merchant account's currency (Braintree answers amounts in it). @default 'USD' */
  currency?: string
  /**
   * Merchant account per currency (`{ EUR: 'mystore_eur' }`): a sale in one of these currencies is sent
   * to its account. A currency with no account, other than `currency`, is refused as a config error
   * rather than charged in the wrong currency.
   */
  merchantAccountIds?: Readonly<Record<string, string>>
}

const ORDER_ID_MAX = 255

// Processor response codes -> normalised codes; the hard/soft split comes from Braintree's own
// processor_response_type when the answer has one.
const PROCESSOR_CODES: Record<string, NormalizedCode> = {
  '2000': 'do_not_honor',
  '2001': 'insufficient_funds',
  '2002': 'insufficient_funds',
  '2003': 'insufficient_funds',
  '2004': 'expired_card',
  '2005': 'incorrect_number',
  '2006': 'expired_card',
  '2007': 'incorrect_number',
  '2008': 'incorrect_number',
  '2010': 'incorrect_cvc',
  '2012': 'fraud_suspected',
  '2013': 'fraud_suspected',
  '2014': 'fraud_suspected',
  '2044': 'do_not_honor',
  '2046': 'card_declined',
  '2047': 'fraud_suspected',
  '3000': 'try_again_later',
}

interface BtTransaction {
  id: string
  status: string
  type?: string
  amount: string
  currencyIsoCode?: string
  orderId?: string | null
  processorResponseCode?: string
  processorResponseText?: string
  processorResponseType?: string
  gatewayRejectionReason?: string | null
  refundIds?: string[]
  refundedTransactionId?: string | null
  statusHistory?: { status: string; amount: string }[]
}

interface BtResult {
  success: boolean
  transaction?: BtTransaction
  message?: string
  errors?: { deepErrors(): { code: string; message: string; attribute?: string }[] }
}

export class BraintreeAdapter implements PaymentAdapter {
  readonly name = 'braintree' as const
  readonly #options: BraintreeAdapterOptions
  readonly #gateways = new Map<number, Gateway>()
  #sdk: Promise<BraintreeSdk> | undefined
  /** Order ids this adapter has sent a sale for: a second sale with one is a retry. */
  readonly #sentOrders = new Set<string>()

  constructor(options: BraintreeAdapterOptions) {
    const o = options as unknown as Record<string, unknown>
    for (const k of ['merchantId', 'publicKey', 'privateKey']) requireString(o, 'braintree', k)
    this.#options = { ...options }
  }

  async #gateway(ctx?: CallContext): Promise<{ sdk: BraintreeSdk; gateway: Gateway }> {
    this.#sdk ??= loadSdk('braintree', () => import('braintree')).then((m) => ((m as { default?: unknown }).default ?? m) as BraintreeSdk)
    const sdk = await this.#sdk
    const timeout = ctx?.timeoutMs ?? this.#options.timeoutMs ?? 60_000
    let gateway = this.#gateways.get(timeout)
    if (!gateway) {
      // One gateway per timeout (the SDK's timeout is per gateway); callers use a handful of values.
      if (this.#gateways.size >= 16) this.#gateways.clear()
      const env = this.#options.environment ?? 'sandbox'
      const environment =
        env === 'sandbox' ? sdk.Environment.Sandbox : env === 'production' ? sdk.Environment.Production
          : new (sdk.Environment as unknown as new (host: string, port: string, authUrl: string, ssl: boolean) => InstanceType<BraintreeSdk['Environment']>)(env.host, String(env.port), `http://${env.host}:${env.port}`, env.ssl ?? false)
      gateway = new sdk.BraintreeGateway({
        environment,
        merchantId: this.#options.merchantId,
        publicKey: this.#options.publicKey,
        privateKey: this.#options.privateKey,
        ...(this.#options.httpAgent ? { customHttpAgent: this.#options.httpAgent } : {}),
      } as never)
      ;(gateway as unknown as { config: { timeout: number } }).config.timeout = timeout
      this.#gateways.set(timeout, gateway)
    }
    return { sdk, gateway }
  }

  async authorize(req: AuthorizeRequest, ctx: CallContext): Promise<ProviderResult> {
    const nonce = req.method.tokens.braintree
    if (typeof nonce !== 'string') {
      return result('braintree', { outcome: 'technical_failure', code: 'config_error', message: 'the payment method has no Braintree nonce' })
    }
    const currency = req.amount.currency
    const account = this.#options.merchantAccountIds?.[currency]
    if (!account && currency !== this.#currency()) {
      return result('braintree', { outcome: 'technical_failure', code: 'config_error', message: `no Braintree merchant account for ${currency} (the default account settles in ${this.#currency()})` })
    }
    const orderId = fitKey(ctx.idempotencyKey, ORDER_ID_MAX)
    return this.#call(ctx, async (gateway) => {
      if (ctx.replay || this.#options.searchBeforeEverySale || this.#sentOrders.has(orderId)) {
        const existing = await this.#findSale(gateway, orderId)
        if (existing) return saleResult(existing, this.#currency(req.amount.currency))
      }
      this.#remember(orderId)
      const res = (await gateway.transaction.sale({
        amount: toDecimal(req.amount),
        paymentMethodNonce: nonce,
        orderId,
        ...(account ? { merchantAccountId: account } : {}),
        ...(this.#options.paymentIdCustomField ? { customFields: { [this.#options.paymentIdCustomField]: req.paymentId } } : {}),
        options: { submitForSettlement: req.capture },
      } as never)) as unknown as BtResult
      if (!res.success && res.transaction?.gatewayRejectionReason === 'duplicate') {
        // Braintree's duplicate check fired: the first sale of this order exists; answer with it.
        const existing = await this.#findSale(gateway, orderId)
        if (existing) return saleResult(existing, req.amount.currency)
      }
      return fromResult(res, req.amount.currency)
    })
  }

  async capture(ref: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(ctx, async (gateway) => {
      const res = (await gateway.transaction.submitForSettlement(ref, amount ? toDecimal(amount) : undefined)) as unknown as BtResult
      if (!res.success && !res.transaction) {
        // A retry of a capture that went through the first time: Braintree refuses to submit twice.
        const now = (await gateway.transaction.find(ref)) as unknown as BtTransaction
        if (statusOf(now) === 'captured') return this.#captured(now, amount)
      }
      const out = fromResult(res, amount?.currency ?? this.#currency())
      return out.outcome === 'approved' && res.transaction ? this.#captured(res.transaction, amount) : out
    })
  }

  #captured(t: BtTransaction, amount: Money | undefined): ProviderResult {
    const currency = t.currencyIsoCode ?? amount?.currency ?? this.#currency()
    const settled = fromDecimal(t.amount, currency)
    const authorized = t.statusHistory?.find((h) => h.status === 'authorized')
    const partial = authorized !== undefined && fromDecimal(authorized.amount, currency) > settled
    return { ...saleResult(t, currency), status: partial ? 'partially_captured' : 'captured', amount: { amount: settled, currency } }
  }

  async void(ref: string, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(ctx, async (gateway) => {
      const res = (await gateway.transaction.void(ref)) as unknown as BtResult
      if (!res.success && !res.transaction) {
        const now = (await gateway.transaction.find(ref)) as unknown as BtTransaction
        if (now.status === 'voided') return saleResult(now, now.currencyIsoCode ?? this.#currency())
      }
      return fromResult(res, this.#currency())
    })
  }

  /**
   * Refunds carry the attempt's key as their order id, so a retry finds the refund it already made
   * (Braintree has no idempotency key) instead of refunding twice.
   */
  async refund(ref: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult> {
    const orderId = fitKey(ctx.idempotencyKey, ORDER_ID_MAX)
    return this.#call(ctx, async (gateway) => {
      // Read the sale before refunding: once the refund commits, the answer comes from the refund and
      // this read, never from another call that could fail after the money moved.
      const sale = (await gateway.transaction.find(ref)) as unknown as BtTransaction
      const saleCurrency = sale.currencyIsoCode ?? amount?.currency ?? this.#currency()
      const before = await this.#refundedTotal(gateway, sale, saleCurrency)
      let credit: BtTransaction | undefined
      if (ctx.replay || this.#sentOrders.has(orderId)) {
        credit = (await this.#search(gateway, orderId)).find((t) => t.type === 'credit' && t.refundedTransactionId === ref)
      }
      if (!credit) {
        this.#remember(orderId)
        const res = (await gateway.transaction.refund(ref, { ...(amount ? { amount: toDecimal(amount) } : {}), orderId } as never)) as unknown as BtResult
        if (!res.success || !res.transaction) return fromResult(res, amount?.currency ?? this.#currency())
        credit = res.transaction
      }
      const currency = credit.currencyIsoCode ?? saleCurrency
      const refunded = fromDecimal(credit.amount, currency)
      // A credit found by the search may predate the read above (then it is already counted).
      const counted = (sale.refundIds ?? []).includes(credit.id)
      const status = saleStatus(sale, currency, counted ? before : before + refunded)
      return result('braintree', {
        outcome: 'approved',
        code: 'approved',
        providerReference: ref,
        status,
        amount: { amount: refunded, currency },
        providerCode: credit.processorResponseCode,
        message: `refund ${credit.id}`,
      })
    })
  }

  async status(lookup: StatusLookup, ctx: CallContext): Promise<ProviderResult> {
    return this.#call(ctx, async (gateway) => {
      const sale = lookup.providerReference
        ? ((await gateway.transaction.find(lookup.providerReference)) as unknown as BtTransaction)
        : await this.#findSale(gateway, fitKey(lookup.idempotencyKey, ORDER_ID_MAX))
      if (!sale) return result('braintree', { outcome: 'technical_failure', code: 'unknown', status: 'not_found', message: 'no Braintree transaction has this order id' })
      const currency = sale.currencyIsoCode ?? this.#currency()
      const out = saleResult(sale, currency)
      if (out.outcome !== 'approved') return out
      return { ...out, status: saleStatus(sale, currency, await this.#refundedTotal(gateway, sale, currency)) }
    })
  }

  async verifyWebhook(rawBody: Buffer | string, headers: WebhookHeaders): Promise<NormalizedEvent> {
    const { sdk, gateway } = await this.#gateway()
    const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8')
    const type = headerValue(headers, 'content-type') ?? ''
    let signature: string | undefined
    let payload: string | undefined
    if (type.includes('json')) {
      try {
        const j = JSON.parse(text) as { bt_signature?: string; bt_payload?: string }
        signature = j.bt_signature
        payload = j.bt_payload
      } catch {
        // fall through to the signature error below
      }
    } else {
      const form = new URLSearchParams(text)
      signature = form.get('bt_signature') ?? undefined
      payload = form.get('bt_payload') ?? undefined
    }
    let notification: { kind: string; timestamp: string | Date; transaction?: BtTransaction }
    try {
      notification = (await gateway.webhookNotification.parse(signature ?? '', payload ?? '')) as unknown as typeof notification
    } catch (err) {
      if ((err as { type?: string }).type === sdk.errorTypes.invalidSignatureError || (err as Error).name === 'invalidSignatureError') {
        throw new WebhookSignatureError(`braintree: ${(err as Error).message}`, { cause: err })
      }
      throw new WebhookPayloadError(`braintree: ${(err as Error).message}`, { cause: err })
    }
    const t = notification.transaction
    const currency = t?.currencyIsoCode ?? this.#currency()
    const isCredit = t?.type === 'credit'
    return {
      id: `${notification.kind}:${t?.id ?? ''}:${new Date(notification.timestamp).toISOString()}`,
      provider: 'braintree',
      type: notification.kind === 'transaction_settled' ? (isCredit ? 'payment.refunded' : 'payment.captured')
        : notification.kind === 'transaction_settlement_declined' ? 'payment.failed' : 'payment.updated',
      ...(t ? { providerReference: isCredit && t.refundedTransactionId ? t.refundedTransactionId : t.id } : {}),
      ...(t?.amount ? { amount: { amount: fromDecimal(t.amount, currency), currency } } : {}),
      createdAt: new Date(notification.timestamp),
    }
  }

  #currency(fallback?: string): string {
    return this.#options.currency ?? fallback ?? 'USD'
  }

  #remember(orderId: string): void {
    this.#sentOrders.add(orderId)
    if (this.#sentOrders.size > 100_000) this.#sentOrders.delete(this.#sentOrders.values().next().value as string)
  }

  async #findSale(gateway: Gateway, orderId: string): Promise<BtTransaction | undefined> {
    const sales = (await this.#search(gateway, orderId)).filter((t) => t.type !== 'credit')
    // A successful sale wins over declined ones (a retry after a decline is a new attempt and key).
    return sales.find((t) => !DECLINED.has(t.status)) ?? sales[0]
  }

  async #search(gateway: Gateway, orderId: string): Promise<BtTransaction[]> {
    const found: BtTransaction[] = await new Promise((resolve, reject) => {
      const out: BtTransaction[] = []
      const stream = gateway.transaction.search((s: { orderId(): { is(v: string): void } }) => s.orderId().is(orderId)) as unknown as NodeJS.ReadableStream
      stream.on('data', (t: BtTransaction) => out.push(t))
      stream.on('end', () => resolve(out))
      stream.on('error', reject)
    })
    return found.filter((t) => t.orderId === orderId)
  }

  async #refundedTotal(gateway: Gateway, sale: BtTransaction, currency: string): Promise<number> {
    let total = 0
    for (const id of sale.refundIds ?? []) {
      const credit = (await gateway.transaction.find(id)) as unknown as BtTransaction
      if (!DECLINED.has(credit.status) && credit.status !== 'voided') total += fromDecimal(credit.amount, currency)
    }
    return total
  }

  async #call(ctx: CallContext, run: (gateway: Gateway) => Promise<ProviderResult>): Promise<ProviderResult> {
    const { sdk, gateway } = await this.#gateway(ctx)
    try {
      return await run(gateway)
    } catch (err) {
      return classifyError(sdk, err)
    }
  }
}

const DECLINED = new Set(['processor_declined', 'gateway_rejected', 'failed', 'settlement_declined'])

function saleStatus(t: BtTransaction, currency: string, refunded: number): ProviderPaymentStatus {
  const s = statusOf(t)
  if (s !== 'captured' || refunded <= 0) return s
  return refunded >= fromDecimal(t.amount, currency) ? 'refunded' : 'partially_refunded'
}

function statusOf(t: BtTransaction): ProviderPaymentStatus {
  switch (t.status) {
    case 'authorized':
      return 'authorized'
    case 'submitted_for_settlement':
    case 'settling':
    case 'settled':
    case 'settlement_pending':
      return 'captured'
    case 'voided':
    case 'authorization_expired':
      return 'voided'
    case 'authorizing':
    case 'settlement_confirmed':
      return 'pending'
    default:
      return DECLINED.has(t.status) ? 'failed' : 'unknown'
  }
}

function saleResult(t: BtTransaction, currency: string): ProviderResult {
  const base = {
    providerReference: t.id,
    amount: { amount: fromDecimal(t.amount, currency), currency },
    providerCode: t.processorResponseCode || t.gatewayRejectionReason || t.status,
    message: t.processorResponseText,
  }
  if (DECLINED.has(t.status)) return declineResult(t, base)
  const status = statusOf(t)
  if (status === 'pending' || status === 'unknown') return result('braintree', { ...base, outcome: 'ambiguous', code: 'unknown', status })
  return result('braintree', { ...base, outcome: 'approved', code: 'approved', status })
}

function declineResult(t: BtTransaction, base: Omit<ProviderResult, 'provider' | 'outcome' | 'code'>): ProviderResult {
  if (t.status === 'gateway_rejected') {
    const reason = t.gatewayRejectionReason ?? ''
    const code: NormalizedCode = reason === 'cvv' ? 'incorrect_cvc' : reason === 'fraud' || reason === 'risk_threshold' ? 'fraud_suspected' : reason === 'avs' || reason === 'avs_and_cvv' ? 'card_declined' : 'invalid_request'
    return result('braintree', { ...base, outcome: 'hard_decline', code, status: 'failed', providerCode: `gateway_rejected:${reason}` })
  }
  const pcode = t.processorResponseCode ?? ''
  const code = PROCESSOR_CODES[pcode] ?? 'card_declined'
  const outcome: OutcomeClass = t.processorResponseType === 'hard_declined' ? 'hard_decline' : 'soft_decline'
  return result('braintree', { ...base, outcome, code, status: 'failed' })
}

function fromResult(res: BtResult, currency: string): ProviderResult {
  if (res.transaction) return saleResult(res.transaction, res.transaction.currencyIsoCode ?? currency)
  const first = res.errors?.deepErrors()[0]
  // Validation errors: Braintree did nothing.
  return result('braintree', { outcome: 'technical_failure', code: 'invalid_request', httpStatus: 422, providerCode: first?.code, message: first?.message ?? res.message })
}

function classifyError(sdk: BraintreeSdk, err: unknown): ProviderResult {
  const type = (err as { type?: string }).type
  const t = sdk.errorTypes
  const message = (err as Error).message
  switch (type) {
    case t.tooManyRequestsError:
      return result('braintree', { outcome: 'technical_failure', code: 'rate_limited', httpStatus: 429, message })
    case t.authenticationError:
    case t.authorizationError:
      return result('braintree', { outcome: 'technical_failure', code: 'config_error', message })
    case t.notFoundError:
      return result('braintree', { outcome: 'technical_failure', code: 'invalid_request', status: 'not_found', httpStatus: 404, message })
    case t.serviceUnavailableError:
      return result('braintree', { outcome: 'technical_failure', code: 'provider_unavailable', httpStatus: 503, message })
    case t.serverError:
    case t.gatewayTimeoutError:
    case t.requestTimeoutError:
      return result('braintree', { outcome: 'ambiguous', code: 'processing_error', message })
  }
  // UnexpectedError wraps transport failures in its message ("Unexpected request error: Error: connect ECONNREFUSED").
  const tr = classifyTransport(err)
  return result('braintree', { outcome: tr.outcome, code: tr.code, message: tr.message })
}

/**
 * The registry's factory: `credentials` in the sandbox's shape; `sandboxUrl` makes a plain-HTTP
 * `braintree.Environment` on its host and port. Extras: `environment`, `searchBeforeEverySale`, `currency`.
 */
export async function createAdapter(options: AdapterOptions<'braintree'>): Promise<PaymentAdapter> {
  const { credentials: c } = options
  let environment: BraintreeAdapterOptions['environment'] = options.environment === 'production' ? 'production' : 'sandbox'
  if (options.sandboxUrl) {
    const u = new URL(options.sandboxUrl)
    environment = { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)), ssl: u.protocol === 'https:' }
  }
  return new BraintreeAdapter({
    merchantId: c.merchantId,
    publicKey: c.publicKey,
    privateKey: c.privateKey,
    environment,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.searchBeforeEverySale === true ? { searchBeforeEverySale: true } : {}),
    ...(typeof options.currency === 'string' ? { currency: options.currency } : {}),
    ...(options.merchantAccountIds && typeof options.merchantAccountIds === 'object' ? { merchantAccountIds: options.merchantAccountIds as Record<string, string> } : {}),
    ...(options.httpAgent ? { httpAgent: options.httpAgent } : {}),
    ...(typeof options.paymentIdCustomField === 'string' ? { paymentIdCustomField: options.paymentIdCustomField }
      : options.sandboxUrl ? { paymentIdCustomField: 'ecom_payment_id' } : {}),
  })
}
