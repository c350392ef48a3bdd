/**
 * Square Payments API emulator on `/square/v2/...`: snake_case JSON, Bearer auth, `idempotency_key`
 * in the body, Square's `{ errors: [{ category, code, detail }] }` error shape, the sandbox's published
 * test nonces, and `payment.*` / `refund.*` webhooks signed with HMAC-SHA256 over URL + body.
 */
import { createHmac } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SQUARE_SANDBOX_NOTIFICATION_URL } from './square-values.js'
import type { EmulatedPayment, ProviderEmulator, SandboxCredentials } from './types.js'
import {
  IdempotencyStore,
  type EmulatorHost,
  header,
  jsonAnswer,
  mintId,
  parseJson,
  requestUrl,
  send,
  type StoredAnswer,
} from './emulator-util.js'

/** Square sandbox payment tokens and the error each one produces (Square "Sandbox test values"). */
export const SQUARE_TEST_NONCES = Object.freeze({
  ok: 'cnon:card-nonce-ok',
  declined: 'cnon:card-nonce-declined',
  rejectedCvv: 'cnon:card-nonce-rejected-cvv',
  rejectedPostalCode: 'cnon:card-nonce-rejected-postalcode',
  rejectedExpiration: 'cnon:card-nonce-rejected-expiration',
  alreadyUsed: 'cnon:card-nonce-already-used',
  requiresVerification: 'cnon:card-nonce-requires-verification',
  insufficientFunds: 'cnon:gift-card-nonce-insufficient-funds',
})

const NONCE_ERRORS: Record<string, { code: string; detail: string; category?: string }> = {
  [SQUARE_TEST_NONCES.declined]: { code: 'GENERIC_DECLINE', detail: 'Authorization error: \'GENERIC_DECLINE\'' },
  [SQUARE_TEST_NONCES.rejectedCvv]: { code: 'CVV_FAILURE', detail: 'Authorization error: \'CVV_FAILURE\'' },
  [SQUARE_TEST_NONCES.rejectedPostalCode]: {
    code: 'ADDRESS_VERIFICATION_FAILURE',
    detail: 'Authorization error: \'ADDRESS_VERIFICATION_FAILURE\'',
  },
  [SQUARE_TEST_NONCES.rejectedExpiration]: { code: 'INVALID_EXPIRATION', detail: 'Authorization error: \'INVALID_EXPIRATION\'' },
  [SQUARE_TEST_NONCES.alreadyUsed]: {
    code: 'CARD_TOKEN_USED',
    detail: 'Card nonce already used; please request new nonce.',
    category: 'INVALID_REQUEST_ERROR',
  },
  [SQUARE_TEST_NONCES.requiresVerification]: {
    code: 'CARD_DECLINED_VERIFICATION_REQUIRED',
    detail: 'Authorization error: \'CARD_DECLINED_VERIFICATION_REQUIRED\'',
  },
  [SQUARE_TEST_NONCES.insufficientFunds]: { code: 'INSUFFICIENT_FUNDS', detail: 'Authorization error: \'INSUFFICIENT_FUNDS\'' },
}

interface SqPayment {
  id: string
  status: 'APPROVED' | 'COMPLETED' | 'CANCELED' | 'FAILED'
  currency: string
  /** What was approved at creation. */
  approved: number
  /** The payment's amount now (an update before completion may lower it). */
  amount: number
  refunded: number
  refundIds: string[]
  locationId: string
  referenceId?: string
  note?: string
  idempotencyKey: string
  createdAt: string
  updatedAt: string
  version: number
}

interface SqRefund {
  id: string
  paymentId: string
  amount: number
  currency: string
  status: 'COMPLETED'
  createdAt: string
}

export { SQUARE_SANDBOX_NOTIFICATION_URL }

export class SquareEmulator implements ProviderEmulator {
  readonly name = 'square' as const
  readonly #host: EmulatorHost
  readonly #creds: SandboxCredentials['square']
  readonly #payments = new Map<string, SqPayment>()
  readonly #refunds = new Map<string, SqRefund>()
  readonly #byKey = new Map<string, string>()
  readonly #idem = new IdempotencyStore()

  constructor(host: EmulatorHost) {
    this.#host = host
    this.#creds = host.credentials.square
  }

  matches(pathname: string): boolean {
    return pathname === '/square' || pathname.startsWith('/square/')
  }

  errorResponse(res: ServerResponse, status: 429 | 500 | 503): void {
    const [category, code, detail] =
      status === 429 ? ['RATE_LIMIT_ERROR', 'RATE_LIMITED', 'Rate limit exceeded.']
        : status === 503 ? ['API_ERROR', 'SERVICE_UNAVAILABLE', 'The service is temporarily unavailable.']
          : ['API_ERROR', 'INTERNAL_SERVER_ERROR', 'An internal error has occurred, and the API was unable to service your request.']
    send(res, errors(status, category, code, detail))
  }

  payments(): EmulatedPayment[] {
    return [...this.#payments.values()].map((p) => {
      const captured = p.status === 'COMPLETED' ? p.amount : 0
      const status: EmulatedPayment['status'] =
        p.status === 'FAILED' ? 'failed' : p.status === 'CANCELED' ? 'voided' : p.status === 'APPROVED' ? 'authorized'
          : p.refunded > 0 && p.refunded >= captured ? 'refunded' : 'captured'
      return {
        provider: 'square',
        reference: p.id,
        ...(p.referenceId === undefined ? {} : { paymentId: p.referenceId }),
        currency: p.currency,
        authorized: p.status === 'FAILED' ? 0 : p.approved,
        captured,
        refunded: p.refunded,
        status,
      }
    })
  }

  reset(): void {
    this.#payments.clear()
    this.#refunds.clear()
    this.#byKey.clear()
    this.#idem.clear()
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    send(res, this.#route(req, body))
  }

  #route(req: IncomingMessage, raw: Buffer): StoredAnswer {
    if (header(req, 'authorization') !== `Bearer ${this.#creds.accessToken}`) {
      return errors(401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED', 'This request could not be authorized.')
    }
    const url = requestUrl(req)
    const path = url.pathname.replace(/^\/square/, '').replace(/\/+$/, '')
    const method = req.method ?? 'GET'
    const body = parseJson(raw)
    if (body === undefined) return errors(400, 'INVALID_REQUEST_ERROR', 'INVALID_CONTENT_TYPE', 'Invalid JSON body.')
    let m: RegExpMatchArray | null
    if (method === 'POST' && path === '/v2/payments') return this.#idempotent('create', body, raw, () => this.#create(body))
    if (method === 'GET' && path === '/v2/payments') return this.#list(url)
    if (method === 'POST' && path === '/v2/payments/cancel') return this.#cancelByKey(body)
    if (method === 'POST' && path === '/v2/refunds') return this.#idempotent('refund', body, raw, () => this.#refund(body))
    if ((m = path.match(/^\/v2\/refunds\/([^/]+)$/)) && method === 'GET') {
      const r = this.#refunds.get(m[1]!)
      return r ? jsonAnswer(200, { refund: refundJson(r, this.#payments.get(r.paymentId)!) }) : notFound('refund')
    }
    if ((m = path.match(/^\/v2\/payments\/([^/]+)$/))) {
      const p = this.#payments.get(m[1]!)
      if (!p) return notFound('payment')
      if (method === 'GET') return jsonAnswer(200, { payment: paymentJson(p) })
      if (method === 'PUT') return this.#idempotent(`update:${p.id}`, body, raw, () => this.#update(p, body))
    }
    if ((m = path.match(/^\/v2\/payments\/([^/]+)\/(complete|cancel)$/)) && method === 'POST') {
      const p = this.#payments.get(m[1]!)
      if (!p) return notFound('payment')
      return m[2] === 'complete' ? this.#complete(p) : this.#cancel(p)
    }
    return errors(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Unknown endpoint ${method} ${path}.`)
  }

  #idempotent(scope: string, body: Record<string, unknown>, raw: Buffer, run: () => StoredAnswer): StoredAnswer {
    const key = body.idempotency_key
    if (typeof key !== 'string' || key.length === 0) {
      return errors(400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'Field must be set', 'idempotency_key')
    }
    if (key.length > 45) return errors(400, 'INVALID_REQUEST_ERROR', 'VALUE_TOO_LONG', 'Field must be at most 45 characters', 'idempotency_key')
    const fp = IdempotencyStore.fingerprint(raw)
    const seen = this.#idem.check(scope, key, fp)
    if (seen.kind === 'replay') return seen.answer
    if (seen.kind === 'conflict') {
      return errors(400, 'INVALID_REQUEST_ERROR', 'IDEMPOTENCY_KEY_REUSED', 'The idempotency key can only be retried with the same request data.', 'idempotency_key')
    }
    const answer = run()
    // Square keeps the answer of a processed request, declines included, but not of a rejected one.
    if (answer.status < 500 && answer.status !== 401 && answer.status !== 429) this.#idem.store(scope, key, fp, answer)
    return answer
  }

  #create(body: Record<string, unknown>): StoredAnswer {
    const money = body.amount_money as { amount?: unknown; currency?: unknown } | undefined
    const amount = Number(money?.amount)
    if (!money || !Number.isSafeInteger(amount) || amount <= 0 || typeof money.currency !== 'string') {
      return errors(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'amount_money must be a positive amount with a currency', 'amount_money')
    }
    const source = body.source_id
    if (typeof source !== 'string') return errors(400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'Field must be set', 'source_id')
    if (body.location_id !== undefined && body.location_id !== this.#creds.locationId) {
      return errors(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Location \`${String(body.location_id)}\` not found.`, 'location_id')
    }
    const trigger = NONCE_ERRORS[source]
    if (!trigger && !source.startsWith('cnon:card-nonce-ok') && !source.startsWith('cnon:')) {
      return errors(400, 'INVALID_REQUEST_ERROR', 'INVALID_CARD_DATA', 'Invalid card data.', 'source_id')
    }
    const now = new Date().toISOString()
    const p: SqPayment = {
      id: mintId('', 18),
      status: 'APPROVED',
      currency: money.currency,
      approved: amount,
      amount,
      refunded: 0,
      refundIds: [],
      locationId: this.#creds.locationId,
      ...(typeof body.reference_id === 'string' ? { referenceId: body.reference_id } : {}),
      ...(typeof body.note === 'string' ? { note: body.note } : {}),
      idempotencyKey: body.idempotency_key as string,
      createdAt: now,
      updatedAt: now,
      version: 1,
    }
    if (trigger && trigger.category === 'INVALID_REQUEST_ERROR') {
      return errors(400, trigger.category, trigger.code, trigger.detail, 'source_id')
    }
    this.#byKey.set(p.idempotencyKey, p.id)
    if (trigger) {
      p.status = 'FAILED'
      this.#payments.set(p.id, p)
      this.#notify('payment.created', p)
      return jsonAnswer(400, {
        errors: [{ category: 'PAYMENT_METHOD_ERROR', code: trigger.code, detail: trigger.detail }],
        payment: paymentJson(p),
      })
    }
    if (body.autocomplete !== false) p.status = 'COMPLETED'
    this.#payments.set(p.id, p)
    this.#notify('payment.created', p)
    return jsonAnswer(200, { payment: paymentJson(p) })
  }

  #list(url: URL): StoredAnswer {
    const location = url.searchParams.get('location_id') ?? this.#creds.locationId
    const asc = url.searchParams.get('sort_order') === 'ASC'
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 100)
    const offset = Number(url.searchParams.get('cursor') ?? 0) || 0
    const all = [...this.#payments.values()].filter((p) => p.locationId === location)
    if (!asc) all.reverse()
    const page = all.slice(offset, offset + limit)
    const next = offset + limit < all.length ? { cursor: String(offset + limit) } : {}
    return jsonAnswer(200, { payments: page.map(paymentJson), ...next })
  }

  #update(p: SqPayment, body: Record<string, unknown>): StoredAnswer {
    const change = (body.payment ?? {}) as { amount_money?: { amount?: unknown; currency?: unknown } }
    if (p.status !== 'APPROVED') {
      return errors(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', `Payment ${p.id} is in ${p.status} state and cannot be updated.`)
    }
    if (change.amount_money) {
      const amount = Number(change.amount_money.amount)
      if (!Number.isSafeInteger(amount) || amount <= 0 || amount > p.approved || change.amount_money.currency !== p.currency) {
        return errors(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'amount_money must be positive, in the payment currency and at most the approved amount', 'payment.amount_money')
      }
      p.amount = amount
    }
    this.#touch(p)
    this.#notify('payment.updated', p)
    return jsonAnswer(200, { payment: paymentJson(p) })
  }

  #complete(p: SqPayment): StoredAnswer {
    if (p.status === 'COMPLETED') return jsonAnswer(200, { payment: paymentJson(p) })
    if (p.status !== 'APPROVED') {
      return errors(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', `Payment ${p.id} is in ${p.status} state and cannot be completed.`)
    }
    p.status = 'COMPLETED'
    this.#touch(p)
    this.#notify('payment.updated', p)
    return jsonAnswer(200, { payment: paymentJson(p) })
  }

  #cancel(p: SqPayment): StoredAnswer {
    if (p.status === 'CANCELED') return jsonAnswer(200, { payment: paymentJson(p) })
    if (p.status !== 'APPROVED') {
      return errors(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', `Payment ${p.id} is in ${p.status} state and cannot be canceled.`)
    }
    p.status = 'CANCELED'
    this.#touch(p)
    this.#notify('payment.updated', p)
    return jsonAnswer(200, { payment: paymentJson(p) })
  }

  /** Square: cancels an APPROVED payment made with that key; an unknown key is a no-op success. */
  #cancelByKey(body: Record<string, unknown>): StoredAnswer {
    const key = body.idempotency_key
    if (typeof key !== 'string') return errors(400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'Field must be set', 'idempotency_key')
    const id = this.#byKey.get(key)
    const p = id === undefined ? undefined : this.#payments.get(id)
    if (p && p.status !== 'FAILED') {
      const answer = this.#cancel(p)
      if (answer.status !== 200) return answer
    }
    return jsonAnswer(200, {})
  }

  #refund(body: Record<string, unknown>): StoredAnswer {
    const p = typeof body.payment_id === 'string' ? this.#payments.get(body.payment_id) : undefined
    if (!p) return notFound('payment')
    const money = body.amount_money as { amount?: unknown; currency?: unknown } | undefined
    const amount = Number(money?.amount)
    if (p.status !== 'COMPLETED') {
      return errors(400, 'INVALID_REQUEST_ERROR', 'PAYMENT_NOT_REFUNDABLE', `Payment ${p.id} is in ${p.status} state and cannot be refunded.`)
    }
    if (!money || !Number.isSafeInteger(amount) || amount <= 0 || money.currency !== p.currency || amount > p.amount - p.refunded) {
      return errors(400, 'INVALID_REQUEST_ERROR', 'REFUND_AMOUNT_INVALID', 'The requested refund amount exceeds the amount available to refund.', 'amount_money')
    }
    p.refunded += amount
    this.#touch(p)
    const r: SqRefund = { id: `${p.id}_${mintId('', 10)}`, paymentId: p.id, amount, currency: p.currency, status: 'COMPLETED', createdAt: new Date().toISOString() }
    this.#refunds.set(r.id, r)
    p.refundIds.push(r.id)
    this.#notify('refund.created', p, r)
    return jsonAnswer(200, { refund: refundJson(r, p) })
  }

  #touch(p: SqPayment): void {
    p.updatedAt = new Date().toISOString()
    p.version++
  }

  #notify(type: string, p: SqPayment, refund?: SqRefund): void {
    const url = this.#host.webhookUrl?.() ?? SQUARE_SANDBOX_NOTIFICATION_URL
    const object = refund ? { refund: refundJson(refund, p) } : { payment: paymentJson(p) }
    const body = JSON.stringify({
      merchant_id: 'ECOMSANDBOXMERCHANT',
      type,
      event_id: mintId('', 16),
      created_at: new Date().toISOString(),
      data: { type: refund ? 'refund' : 'payment', id: refund ? refund.id : p.id, object },
    })
    const signature = createHmac('sha256', this.#creds.webhookSignatureKey).update(url + body).digest('base64')
    this.#host.emitWebhook({
      provider: 'square',
      body,
      headers: { 'content-type': 'application/json', 'x-square-hmacsha256-signature': signature },
    })
  }
}

function errors(status: number, category: string, code: string, detail: string, field?: string): StoredAnswer {
  return jsonAnswer(status, { errors: [{ category, code, detail, ...(field ? { field } : {}) }] })
}

function notFound(what: string): StoredAnswer {
  return errors(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', `Could not find ${what}.`)
}

function paymentJson(p: SqPayment): Record<string, unknown> {
  const money = (amount: number) => ({ amount, currency: p.currency })
  const cardStatus = { APPROVED: 'AUTHORIZED', COMPLETED: 'CAPTURED', CANCELED: 'VOIDED', FAILED: 'FAILED' }[p.status]
  return {
    id: p.id,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    amount_money: money(p.amount),
    total_money: money(p.amount),
    approved_money: money(p.status === 'FAILED' ? 0 : p.approved),
    ...(p.refunded > 0 ? { refunded_money: money(p.refunded), refund_ids: [...p.refundIds] } : {}),
    status: p.status,
    delay_duration: 'PT168H',
    delay_action: 'CANCEL',
    source_type: 'CARD',
    card_details: {
      status: cardStatus,
      card: { card_brand: 'VISA', last_4: '1111', exp_month: 12, exp_year: 2030, card_type: 'CREDIT', bin: '411111' },
      entry_method: 'KEYED',
      cvv_status: 'CVV_ACCEPTED',
      avs_status: 'AVS_ACCEPTED',
    },
    location_id: p.locationId,
    ...(p.referenceId === undefined ? {} : { reference_id: p.referenceId }),
    ...(p.note === undefined ? {} : { note: p.note }),
    version_token: `v${p.version}`,
  }
}

function refundJson(r: SqRefund, p: SqPayment): Record<string, unknown> {
  return {
    id: r.id,
    status: r.status,
    amount_money: { amount: r.amount, currency: r.currency },
    payment_id: r.paymentId,
    location_id: p.locationId,
    created_at: r.createdAt,
    updated_at: r.createdAt,
  }
}

/** The sandbox registry's factory. */
export function createEmulator(host: EmulatorHost): SquareEmulator {
  return new SquareEmulator(host)
}
