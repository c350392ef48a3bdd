/**
 * The payments model every provider adapter maps to and the router and ledger reason about.
 * Amounts are integer minor units; a currency's exponent says how many of them make a major unit.
 */

/** ISO 4217 exponents. Currencies not listed here are rejected rather than guessed. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  AED: 2, AUD: 2, BRL: 2, CAD: 2, CHF: 2, CNY: 2, CZK: 2, DKK: 2, EUR: 2, GBP: 2, HKD: 2, HUF: 2,
  ILS: 2, INR: 2, MXN: 2, NOK: 2, NZD: 2, PLN: 2, SEK: 2, SGD: 2, THB: 2, TRY: 2, USD: 2, ZAR: 2,
  CLP: 0, ISK: 0, JPY: 0, KRW: 0, VND: 0, XAF: 0, XOF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
})

export interface Money {
  /** Integer minor units (cents for USD, yen for JPY, fils for KWD). */
  readonly amount: number
  /** ISO 4217 code, upper case. */
  readonly currency: string
}

export type ProviderName = 'stripe' | 'square' | 'adyen' | 'braintree'
export const PROVIDER_NAMES: readonly ProviderName[] = ['stripe', 'square', 'adyen', 'braintree']

export type Operation = 'authorize' | 'sale' | 'capture' | 'void' | 'refund' | 'status'

/**
 * Every provider answer falls in exactly one class. The router's safety rests on this split:
 * - technical_failure: the request surely did not execute (connection refused, DNS, 4xx config error,
 *   a 429 or 5xx that the provider documents as not processed). Safe to try another provider.
 * - ambiguous: it may have executed (timeout or reset after the request was sent, a 5xx without a
 *   verdict). Must be resolved on the same provider before anything else happens.
 */
export type OutcomeClass = 'approved' | 'hard_decline' | 'soft_decline' | 'technical_failure' | 'ambiguous'

export type NormalizedCode =
  | 'approved'
  | 'card_declined'
  | 'insufficient_funds'
  | 'expired_card'
  | 'incorrect_cvc'
  | 'incorrect_number'
  | 'fraud_suspected'
  | 'do_not_honor'
  | 'try_again_later'
  | 'rate_limited'
  | 'processing_error'
  | 'config_error'
  | 'invalid_request'
  | 'network_error'
  | 'timeout'
  | 'provider_unavailable'
  | 'unknown'

/** What the provider says the payment is, after the operation. */
export type ProviderPaymentStatus =
  | 'authorized'
  | 'captured'
  | 'partially_captured'
  | 'voided'
  | 'refunded'
  | 'partially_refunded'
  | 'failed'
  | 'pending'
  | 'not_found'
  | 'unknown'

/**
 * A payment method the router can send to more than one provider: one token per provider that holds
 * (or accepts) it. A provider with no token for the method is not eligible for the payment.
 * In the sandbox the tokens are each provider's published test values (see `testCard()` in the
 * sandbox module).
 */
export interface PaymentMethod {
  readonly type: 'card'
  readonly tokens: Readonly<Partial<Record<ProviderName, ProviderToken>>>
  /** Card brand and country, for routing rules. */
  readonly brand?: string
  readonly country?: string
}

/** A provider's token: a string (Stripe pm_/tok_, Square nonce, Braintree nonce) or Adyen's card object. */
export type ProviderToken = string | Readonly<Record<string, string>>

export interface AuthorizeRequest {
  /** The merchant's payment id; the ledger's key. */
  readonly paymentId: string
  readonly amount: Money
  readonly method: PaymentMethod
  /** true: authorize and capture in one step (a sale). */
  readonly capture: boolean
  readonly country?: string
  readonly description?: string
  readonly metadata?: Readonly<Record<string, string>>
}

/** Per call: the stable idempotency key is made by the caller (the router) and persisted before the call. */
export interface CallContext {
  readonly paymentId: string
  readonly attempt: number
  readonly idempotencyKey: string
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
  /**
   * Set when the router re-sends an attempt whose first send was ambiguous, with the same key. Adapters
   * whose provider has no idempotency key (Braintree) must search for the attempt before sending again.
   * (Added compatibly by the core: optional, absent on first sends.)
   */
  readonly replay?: boolean
}

export interface ProviderResult {
  readonly outcome: OutcomeClass
  readonly code: NormalizedCode
  readonly provider: ProviderName
  /** The provider's id for the payment (PaymentIntent, Square payment, pspReference, transaction id). */
  readonly providerReference?: string
  readonly status?: ProviderPaymentStatus
  /** The amount this operation moved, where the provider says. */
  readonly amount?: Money
  /** The provider's own code and message, for logs and support; never secrets. */
  readonly providerCode?: string
  readonly message?: string
  /** HTTP status where there was one. */
  readonly httpStatus?: number
}

/** How an ambiguous attempt can be looked up again on the same provider. */
export interface StatusLookup {
  readonly paymentId: string
  readonly idempotencyKey: string
  readonly providerReference?: string
}

export type NormalizedEventType =
  | 'payment.authorized'
  | 'payment.captured'
  | 'payment.voided'
  | 'payment.refunded'
  | 'payment.failed'
  | 'payment.updated'

export interface NormalizedEvent {
  readonly id: string
  readonly provider: ProviderName
  readonly type: NormalizedEventType
  readonly providerReference?: string
  readonly paymentId?: string
  readonly amount?: Money
  readonly createdAt: Date
}

export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>

/** One adapter per official SDK. Adapters never throw for provider answers: they classify them. */
export interface PaymentAdapter {
  readonly name: ProviderName
  /** Authorize, or sale when `req.capture` is true. */
  authorize(req: AuthorizeRequest, ctx: CallContext): Promise<ProviderResult>
  /** Full capture when `amount` is omitted. */
  capture(providerReference: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult>
  void(providerReference: string, ctx: CallContext): Promise<ProviderResult>
  /** Full refund when `amount` is omitted. */
  refund(providerReference: string, amount: Money | undefined, ctx: CallContext): Promise<ProviderResult>
  /**
   * Resolve what happened to an attempt: by reference when known, else by the attempt's idempotency
   * key (replay on Stripe/Adyen, cancel-by-idempotency-key or lookup on Square, search by order_id on
   * Braintree). `status: 'not_found'` means the provider surely has no such payment.
   */
  status(lookup: StatusLookup, ctx: CallContext): Promise<ProviderResult>
  /** Verify a webhook with the SDK's own verifier; throws `WebhookSignatureError` when forged. */
  verifyWebhook(rawBody: Buffer | string, headers: WebhookHeaders, url?: string): Promise<NormalizedEvent>
}

export function currencyExponent(currency: string): number | undefined {
  return CURRENCY_EXPONENTS[currency]
}
