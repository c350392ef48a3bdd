/**
 * Adyen Checkout API emulator on `/adyen/v<N>/...`: JSON, `X-API-Key` auth, the `Idempotency-Key`
 * header, Adyen's `{ status, errorCode, message, errorType }` errors, holder-name triggers for refusal
 * reasons (Adyen "Testing result codes and refusal reasons"), asynchronous modifications answered with
 * `status: "received"`, and standard notifications signed with HMAC-SHA256 (hex key) over
 * `pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`.
 */
import { createHmac, randomInt } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { EmulatedPayment, ProviderEmulator, SandboxCredentials } from './types.js'
import { IdempotencyStore, header, jsonAnswer, parseJson, requestUrl, send, type EmulatorHost, type StoredAnswer } from './emulator-util.js'

/** Adyen's test card (any holder name not listed below is authorised). */
export const ADYEN_TEST_CARD = Object.freeze({
  type: 'scheme',
  number: '4111111145551142',
  expiryMonth: '03',
  expiryYear: '2030',
  cvc: '737',
  holderName: 'John Smith',
})

/**
 * holderName -> [refusalReasonCode, refusalReason] for resultCode Refused (Adyen "Values for testing
 * refusal reasons"). `ERROR` and `UNKNOWN` give resultCode Error, `PENDING` gives Received, `APPROVED`
 * (or any other name) Authorised.
 */
export const ADYEN_HOLDER_NAME_TRIGGERS: Readonly<Record<string, readonly [string, string]>> = Object.freeze({
  DECLINED: ['2', 'Refused'],
  REFERRAL: ['3', 'Referral'],
  BLOCK_CARD: ['5', 'Blocked Card'],
  CARD_EXPIRED: ['6', 'Expired Card'],
  INVALID_AMOUNT: ['7', 'Invalid Amount'],
  INVALID_CARD_NUMBER: ['8', 'Invalid Card Number'],
  ISSUER_UNAVAILABLE: ['9', 'Issuer Unavailable'],
  NOT_SUPPORTED: ['10', 'Not supported'],
  NOT_3D_AUTHENTICATED: ['11', '3D Not Authenticated'],
  NOT_ENOUGH_BALANCE: ['12', 'Not enough balance'],
  ACQUIRER_FRAUD: ['14', 'Acquirer Fraud'],
  CANCELLED: ['15', 'Cancelled'],
  SHOPPER_CANCELLED: ['16', 'Shopper Cancelled'],
  PIN_INVALID: ['17', 'Invalid Pin'],
  PIN_TRIES_EXCEEDED: ['18', 'Pin tries exceeded'],
  PIN_VALIDATION_NOT_POSSIBLE: ['19', 'Pin validation not possible'],
  FRAUD: ['20', 'FRAUD'],
  NOT_SUBMITTED: ['21', 'Not Submitted'],
  FRAUD_CANCELLED: ['22', 'FRAUD-CANCELLED'],
  TRANSACTION_NOT_PERMITTED: ['23', 'Transaction Not Permitted'],
  CVC_DECLINED: ['24', 'CVC Declined'],
  RESTRICTED_CARD: ['25', 'Restricted Card'],
  REVOCATION_OF_AUTH: ['26', 'Revocation Of Auth'],
  DECLINED_NON_GENERIC: ['27', 'Declined Non Generic'],
  WITHDRAWAL_AMOUNT_EXCEEDED: ['28', 'Withdrawal amount exceeded'],
  WITHDRAWAL_COUNT_EXCEEDED: ['29', 'Withdrawal count exceeded'],
  ISSUER_SUSPECTED_FRAUD: ['31', 'Issuer Suspected Fraud'],
  AVS_DECLINED: ['32', 'AVS Declined'],
  CARD_REQUIRES_ONLINE_PIN: ['33', 'Card requires online pin'],
})

/** holderName -> [refusalReasonCode, refusalReason] for resultCode Error (same table). */
export const ADYEN_ERROR_TRIGGERS: Readonly<Record<string, readonly [string, string]>> = Object.freeze({
  ERROR: ['4', 'Acquirer Error'],
  UNKNOWN: ['0', 'Unknown'],
})

interface AdPayment {
  psp: string
  reference: string
  currency: string
  authorized: number
  captured: number
  refunded: number
  status: 'authorised' | 'refused' | 'cancelled'
}

export class AdyenEmulator implements ProviderEmulator {
  readonly name = 'adyen' as const
  readonly #host: EmulatorHost
  readonly #creds: SandboxCredentials['adyen']
  readonly #payments = new Map<string, AdPayment>()
  readonly #idem = new IdempotencyStore()

  constructor(host: EmulatorHost) {
    this.#host = host
    this.#creds = host.credentials.adyen
  }

  matches(pathname: string): boolean {
    return pathname === '/adyen' || pathname.startsWith('/adyen/')
  }

  errorResponse(res: ServerResponse, status: 429 | 500 | 503): void {
    const message = status === 429 ? 'Too many requests' : status === 503 ? 'Service Unavailable' : 'An unexpected error occurred'
    send(res, apiError(status, status === 429 ? '429' : '000', message, status === 429 ? 'security' : 'internal'))
  }

  payments(): EmulatedPayment[] {
    return [...this.#payments.values()].map((p) => ({
      provider: 'adyen' as const,
      reference: p.psp,
      paymentId: p.reference,
      currency: p.currency,
      authorized: p.status === 'refused' ? 0 : p.authorized,
      captured: p.captured,
      refunded: p.refunded,
      status:
        p.status === 'refused' ? 'failed' : p.status === 'cancelled' ? 'voided'
          : p.captured === 0 ? 'authorized' : p.refunded > 0 && p.refunded >= p.captured ? 'refunded' : 'captured',
    }))
  }

  reset(): void {
    this.#payments.clear()
    this.#idem.clear()
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    send(res, this.#route(req, body))
  }

  #route(req: IncomingMessage, raw: Buffer): StoredAnswer {
    if (header(req, 'x-api-key') !== this.#creds.apiKey) return apiError(401, '000', 'HTTP Status Response - Unauthorized', 'security')
    const path = requestUrl(req).pathname.replace(/^\/adyen(\/checkout)?/, '').replace(/\/+$/, '')
    const body = parseJson(raw)
    if (body === undefined) return apiError(400, '702', 'Structure of request is invalid', 'validation')
    const m = path.match(/^\/v\d+\/payments(?:\/([^/]+)\/(captures|cancels|refunds))?$/)
    if (!m || req.method !== 'POST') return apiError(404, '000', `Unknown endpoint ${req.method} ${path}`, 'validation')
    if (body.merchantAccount !== this.#creds.merchantAccount) return apiError(403, '901', 'Invalid Merchant Account', 'security')
    const run = () => (m[1] ? this.#modify(m[1], m[2] as 'captures' | 'cancels' | 'refunds', body) : this.#pay(body))
    const key = header(req, 'idempotency-key')
    if (!key) return run()
    if (key.length > 64) return apiError(422, '000', 'Idempotency-Key exceeds 64 characters', 'validation')
    const fp = IdempotencyStore.fingerprint(path, raw)
    const seen = this.#idem.check('merchant', key, fp)
    if (seen.kind === 'replay') return seen.answer
    if (seen.kind === 'conflict') return apiError(422, '704', 'request already processed or in progress', 'validation')
    const answer = run()
    if (answer.status < 500) this.#idem.store('merchant', key, fp, answer)
    return answer
  }

  #pay(body: Record<string, unknown>): StoredAnswer {
    const amount = body.amount as { value?: unknown; currency?: unknown } | undefined
    const value = Number(amount?.value)
    if (!amount || !Number.isSafeInteger(value) || value <= 0 || typeof amount.currency !== 'string') {
      return apiError(422, '137', 'Invalid amount specified', 'validation')
    }
    if (typeof body.reference !== 'string' || body.reference.length === 0) return apiError(422, '130', 'Reference Missing', 'validation')
    const method = body.paymentMethod as Record<string, unknown> | undefined
    if (!method || typeof method.type !== 'string') return apiError(422, '100', 'paymentMethod is missing', 'validation')
    const holder = typeof method.holderName === 'string' ? method.holderName.toUpperCase() : ''
    const p: AdPayment = { psp: pspReference(), reference: body.reference, currency: amount.currency, authorized: value, captured: 0, refunded: 0, status: 'authorised' }
    const base = { pspReference: p.psp, merchantReference: p.reference, amount: { value, currency: p.currency } }
    const error = ADYEN_ERROR_TRIGGERS[holder]
    if (error) {
      const [code, reason] = error
      p.status = 'refused'
      this.#payments.set(p.psp, p)
      this.#notify(p, 'AUTHORISATION', false, value, reason)
      return jsonAnswer(200, { ...base, resultCode: 'Error', refusalReason: reason, refusalReasonCode: code })
    }
    if (holder === 'PENDING') {
      // Received: the outcome comes later by webhook; the emulator keeps it unresolved (no funds held).
      p.status = 'refused'
      this.#payments.set(p.psp, p)
      return jsonAnswer(200, { ...base, resultCode: 'Received' })
    }
    const trigger = ADYEN_HOLDER_NAME_TRIGGERS[holder]
    if (trigger) {
      p.status = 'refused'
      this.#payments.set(p.psp, p)
      this.#notify(p, 'AUTHORISATION', false, value, trigger[1])
      return jsonAnswer(200, { ...base, resultCode: 'Refused', refusalReason: trigger[1], refusalReasonCode: trigger[0] })
    }
    this.#payments.set(p.psp, p)
    this.#notify(p, 'AUTHORISATION', true, value)
    const manual = (body.additionalData as Record<string, unknown> | undefined)?.manualCapture === 'true'
    if (body.captureDelayHours === 0 || !manual) {
      p.captured = value
      this.#notify(p, 'CAPTURE', true, value, undefined, p.psp)
    }
    return jsonAnswer(200, { ...base, resultCode: 'Authorised', additionalData: { authCode: String(randomInt(100000, 999999)) } })
  }

  #modify(psp: string, kind: 'captures' | 'cancels' | 'refunds', body: Record<string, unknown>): StoredAnswer {
    const p = this.#payments.get(psp)
    if (!p || p.status === 'refused') return apiError(422, '167', 'Original pspReference required for this operation', 'validation')
    const amount = body.amount as { value?: unknown; currency?: unknown } | undefined
    const value = Number(amount?.value)
    const modPsp = pspReference()
    const base = { merchantAccount: this.#creds.merchantAccount, paymentPspReference: psp, pspReference: modPsp, status: 'received' }
    if (kind === 'cancels') {
      if (p.status === 'cancelled') return jsonAnswer(201, base)
      if (p.captured > 0) return apiError(422, '000', 'Payment is captured and cannot be cancelled', 'validation')
      p.status = 'cancelled'
      this.#notify({ ...p, psp: modPsp }, 'CANCELLATION', true, p.authorized, undefined, psp)
      return jsonAnswer(201, base)
    }
    if (!amount || !Number.isSafeInteger(value) || value <= 0 || amount.currency !== p.currency) {
      return apiError(422, '137', 'Invalid amount specified', 'validation')
    }
    if (kind === 'captures') {
      if (p.status === 'cancelled' || p.captured + value > p.authorized) {
        return apiError(422, '000', 'Capture amount exceeds the authorised amount or the payment is cancelled', 'validation')
      }
      p.captured += value
      this.#notify({ ...p, psp: modPsp }, 'CAPTURE', true, value, undefined, psp)
    } else {
      if (p.refunded + value > p.captured) return apiError(422, '000', 'Refund amount exceeds the captured amount', 'validation')
      p.refunded += value
      this.#notify({ ...p, psp: modPsp }, 'REFUND', true, value, undefined, psp)
    }
    return jsonAnswer(201, { ...base, amount: { value, currency: p.currency } })
  }

  #notify(p: AdPayment, eventCode: string, success: boolean, value: number, reason?: string, originalReference?: string): void {
    const item: Record<string, unknown> = {
      additionalData: {},
      amount: { value, currency: p.currency },
      eventCode,
      eventDate: new Date().toISOString(),
      merchantAccountCode: this.#creds.merchantAccount,
      merchantReference: p.reference,
      ...(originalReference ? { originalReference } : {}),
      pspReference: p.psp,
      reason: reason ?? '',
      success: String(success),
    }
    const signed = [p.psp, originalReference ?? '', this.#creds.merchantAccount, p.reference, value, p.currency, eventCode, String(success)].join(':')
    ;(item.additionalData as Record<string, string>).hmacSignature = createHmac('sha256', Buffer.from(this.#creds.hmacKeyHex, 'hex'))
      .update(signed, 'utf8')
      .digest('base64')
    const body = JSON.stringify({ live: 'false', notificationItems: [{ NotificationRequestItem: item }] })
    this.#host.emitWebhook({ provider: 'adyen', body, headers: { 'content-type': 'application/json' } })
  }
}

function apiError(status: number, errorCode: string, message: string, errorType: string): StoredAnswer {
  return jsonAnswer(status, { status, errorCode, message, errorType, pspReference: pspReference() })
}

function pspReference(): string {
  let s = ''
  for (let i = 0; i < 16; i++) s += 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[randomInt(32)]
  return s
}

/** The sandbox registry's factory. */
export function createEmulator(host: EmulatorHost): AdyenEmulator {
  return new AdyenEmulator(host)
}
