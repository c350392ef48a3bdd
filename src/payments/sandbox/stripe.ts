import { createHmac, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { IdempotencyStore, type StoredResponse } from './idempotency.js'
import type { EmulatorContext } from './index.js'
import type { EmulatedPayment, ProviderEmulator } from './types.js'

/**
 * Stripe emulator: form-encoded requests on `/v1`, PaymentIntents (create with confirm, confirm,
 * capture, cancel, retrieve, search by metadata), refunds, the idempotency store (replay with
 * `Idempotent-Replayed: true`, a different body under a used key is a 400 `idempotency_error`, a key
 * still executing is a 409), Stripe test PaymentMethods and `Stripe-Signature` signed webhooks.
 */

interface Decline {
  code: string
  decline_code?: string
  message: string
}

// Stripe's published test PaymentMethods and what they do.
const TEST_PMS: Record<string, Decline | null> = {
  pm_card_visa: null,
  pm_card_mastercard: null,
  pm_card_amex: null,
  pm_card_visa_debit: null,
  pm_card_chargeDeclined: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  pm_card_chargeDeclinedInsufficientFunds: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  pm_card_chargeDeclinedExpiredCard: { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' },
  pm_card_chargeDeclinedIncorrectCvc: { code: 'incorrect_cvc', decline_code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  pm_card_chargeDeclinedFraudulent: { code: 'card_declined', decline_code: 'fraudulent', message: 'Your card was declined.' },
  pm_card_chargeDeclinedProcessingError: { code: 'processing_error', decline_code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  pm_card_chargeDeclinedLostCard: { code: 'card_declined', decline_code: 'lost_card', message: 'Your card was declined.' },
}

interface Intent {
  id: string
  object: 'payment_intent'
  amount: number
  amount_capturable: number
  amount_received: number
  currency: string
  status: 'requires_payment_method' | 'requires_confirmation' | 'requires_capture' | 'succeeded' | 'canceled'
  capture_method: 'automatic' | 'manual'
  payment_method: string | null
  metadata: Record<string, string>
  description: string | null
  latest_charge: string | null
  last_payment_error: (Decline & { type: string }) | null
  created: number
  livemode: false
  refunded: number
}

type Params = Record<string, unknown>

/** Parse Stripe's form encoding (`metadata[a]=b`, `expand[0]=x`) into nested objects. */
export function parseForm(body: string): Params {
  const out: Params = {}
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const keys = rawKey.replace(/\]/g, '').split('[')
    let node = out
    for (let i = 0; i < keys.length - 1; i++) node = (node[keys[i]!] ??= {}) as Params
    node[keys[keys.length - 1]!] = value
  }
  return out
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url')}`

export function createEmulator(ctx: EmulatorContext): ProviderEmulator {
  const intents = new Map<string, Intent>()
  const refunds = new Map<string, { id: string; object: 'refund'; amount: number; charge: string | null; payment_intent: string; status: 'succeeded'; currency: string; created: number }>()
  const idem = new IdempotencyStore()

  function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): StoredResponse {
    const text = JSON.stringify(body)
    const headers = { 'content-type': 'application/json', 'request-id': id('req'), ...extra }
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) })
    res.end(text)
    return { status, headers, body: text }
  }

  const err = (res: ServerResponse, status: number, type: string, message: string, extra: Params = {}) =>
    send(res, status, { error: { type, message, ...extra } })

  function webhook(type: string, object: unknown): void {
    const payload = JSON.stringify({
      id: id('evt'),
      object: 'event',
      api_version: '2025-01-01',
      created: Math.floor(Date.now() / 1000),
      type,
      livemode: false,
      data: { object },
    })
    const t = Math.floor(Date.now() / 1000)
    const sig = createHmac('sha256', ctx.credentials.stripe.webhookSecret).update(`${t}.${payload}`).digest('hex')
    ctx.emitWebhook({ provider: 'stripe', body: payload, headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${sig}` } })
  }

  const view = (pi: Intent) => {
    const { refunded: _r, ...rest } = pi
    return rest
  }

  /** Confirm: charge the payment method, committing the outcome before answering. */
  function confirm(res: ServerResponse, pi: Intent): StoredResponse {
    const pm = pi.payment_method ?? ''
    if (!(pm in TEST_PMS)) {
      return err(res, 400, 'invalid_request_error', `No such PaymentMethod: '${pm}'`, { code: 'resource_missing', param: 'payment_method' })
    }
    const decline = TEST_PMS[pm]
    if (decline) {
      pi.status = 'requires_payment_method'
      pi.last_payment_error = { ...decline, type: 'card_error' }
      webhook('payment_intent.payment_failed', view(pi))
      return err(res, 402, 'card_error', decline.message, { code: decline.code, decline_code: decline.decline_code, payment_intent: view(pi), charge: id('ch') })
    }
    pi.latest_charge = id('ch')
    if (pi.capture_method === 'manual') {
      pi.status = 'requires_capture'
      pi.amount_capturable = pi.amount
      webhook('payment_intent.amount_capturable_updated', view(pi))
    } else {
      pi.status = 'succeeded'
      pi.amount_received = pi.amount
      webhook('payment_intent.succeeded', view(pi))
    }
    return send(res, 200, view(pi))
  }

  function route(method: string, path: string, p: Params, res: ServerResponse): StoredResponse {
    const seg = path.split('/').filter(Boolean) // ['v1', 'payment_intents', id?, action?]
    if (seg[1] === 'payment_intents') {
      if (method === 'GET' && seg[2] === 'search') return search(res, String(p.query ?? ''))
      if (method === 'POST' && seg.length === 2) {
        const amount = Number(p.amount)
        if (!Number.isInteger(amount) || amount < 1) return err(res, 400, 'invalid_request_error', 'Invalid integer: amount', { param: 'amount', code: 'parameter_invalid_integer' })
        if (typeof p.currency !== 'string') return err(res, 400, 'invalid_request_error', 'Missing required param: currency.', { param: 'currency', code: 'parameter_missing' })
        const pi: Intent = {
          id: id('pi'),
          object: 'payment_intent',
          amount,
          amount_capturable: 0,
          amount_received: 0,
          currency: p.currency.toLowerCase(),
          status: 'requires_confirmation',
          capture_method: p.capture_method === 'manual' ? 'manual' : 'automatic',
          payment_method: typeof p.payment_method === 'string' ? p.payment_method : null,
          metadata: (p.metadata as Record<string, string>) ?? {},
          description: typeof p.description === 'string' ? p.description : null,
          latest_charge: null,
          last_payment_error: null,
          created: Math.floor(Date.now() / 1000),
          livemode: false,
          refunded: 0,
        }
        intents.set(pi.id, pi)
        if (p.confirm === 'true') return confirm(res, pi)
        return send(res, 200, view(pi))
      }
      const pi = intents.get(seg[2] ?? '')
      if (!pi) return err(res, 404, 'invalid_request_error', `No such payment_intent: '${seg[2]}'`, { code: 'resource_missing', param: 'intent' })
      if (method === 'GET' && seg.length === 3) return send(res, 200, view(pi))
      const action = seg[3]
      if (method === 'POST' && action === 'confirm') {
        if (typeof p.payment_method === 'string') pi.payment_method = p.payment_method
        if (pi.status !== 'requires_confirmation' && pi.status !== 'requires_payment_method') return unexpected(res, pi, 'confirm')
        return confirm(res, pi)
      }
      if (method === 'POST' && action === 'capture') {
        if (pi.status !== 'requires_capture') return unexpected(res, pi, 'capture')
        const amt = p.amount_to_capture === undefined ? pi.amount_capturable : Number(p.amount_to_capture)
        if (!Number.isInteger(amt) || amt < 1 || amt > pi.amount_capturable) {
          return err(res, 400, 'invalid_request_error', 'The amount_to_capture is invalid.', { param: 'amount_to_capture', code: 'amount_too_large' })
        }
        pi.amount_received = amt
        pi.amount_capturable = 0
        pi.status = 'succeeded'
        webhook('payment_intent.succeeded', view(pi))
        return send(res, 200, view(pi))
      }
      if (method === 'POST' && action === 'cancel') {
        if (pi.status === 'succeeded' || pi.status === 'canceled') return unexpected(res, pi, 'cancel')
        pi.status = 'canceled'
        pi.amount_capturable = 0
        webhook('payment_intent.canceled', view(pi))
        return send(res, 200, view(pi))
      }
    }
    if (seg[1] === 'refunds') {
      if (method === 'POST' && seg.length === 2) {
        const pi = intents.get(String(p.payment_intent ?? ''))
        if (!pi) return err(res, 400, 'invalid_request_error', `No such payment_intent: '${String(p.payment_intent)}'`, { code: 'resource_missing', param: 'payment_intent' })
        if (pi.status !== 'succeeded') return err(res, 400, 'invalid_request_error', `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`, { code: 'charge_not_refundable' })
        const left = pi.amount_received - pi.refunded
        const amt = p.amount === undefined ? left : Number(p.amount)
        if (!Number.isInteger(amt) || amt < 1 || amt > left) {
          return err(res, 400, 'invalid_request_error', `Refund amount (${amt}) is greater than unrefunded amount on charge (${left})`, { code: left === 0 ? 'charge_already_refunded' : 'amount_too_large', param: 'amount' })
        }
        pi.refunded += amt
        const r = { id: id('re'), object: 'refund' as const, amount: amt, charge: pi.latest_charge, payment_intent: pi.id, status: 'succeeded' as const, currency: pi.currency, created: Math.floor(Date.now() / 1000) }
        refunds.set(r.id, r)
        const charge = { id: pi.latest_charge, object: 'charge', payment_intent: pi.id, amount: pi.amount_received, amount_refunded: pi.refunded, currency: pi.currency, metadata: pi.metadata, refunded: pi.refunded === pi.amount_received }
        webhook('charge.refunded', charge)
        // `expand[]=charge` answers the charge as of this refund (what Stripe does), stored with the answer.
        const expand = Object.values((p.expand ?? {}) as Params)
        return send(res, 200, expand.includes('charge') ? { ...r, charge } : r)
      }
      const r = refunds.get(seg[2] ?? '')
      if (method === 'GET' && r) return send(res, 200, r)
      return err(res, 404, 'invalid_request_error', `No such refund: '${seg[2]}'`, { code: 'resource_missing' })
    }
    return err(res, 404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`)
  }

  function unexpected(res: ServerResponse, pi: Intent, action: string): StoredResponse {
    return err(res, 400, 'invalid_request_error', `This PaymentIntent's ${action} could not be performed because it has a status of ${pi.status}.`, {
      code: 'payment_intent_unexpected_state',
      payment_intent: view(pi),
    })
  }

  // The search query language subset the adapter uses: metadata['key']:'value' [AND ...].
  function search(res: ServerResponse, query: string): StoredResponse {
    const terms = [...query.matchAll(/metadata\['([^']+)'\]:'([^']*)'/g)].map((m) => [m[1]!, m[2]!] as const)
    const data = [...intents.values()].filter((pi) => terms.length > 0 && terms.every(([k, v]) => pi.metadata[k] === v)).map(view)
    return send(res, 200, { object: 'search_result', data, has_more: false, next_page: null, url: '/v1/payment_intents/search' })
  }

  return {
    name: 'stripe',
    matches: (pathname) => pathname === '/v1' || pathname.startsWith('/v1/'),
    async handle(req: IncomingMessage, res: ServerResponse, body: Buffer) {
      const u = new URL(req.url ?? '/', 'http://x')
      const auth = req.headers.authorization ?? ''
      if (auth !== `Bearer ${ctx.credentials.stripe.apiKey}`) {
        err(res, 401, 'invalid_request_error', 'Invalid API Key provided.')
        return
      }
      const method = req.method ?? 'GET'
      const raw = body.toString('utf8')
      const params = method === 'GET' ? parseForm(u.search.slice(1)) : parseForm(raw)
      const key = req.headers['idempotency-key']
      if (method !== 'POST' || typeof key !== 'string' || key === '') {
        route(method, u.pathname, params, res)
        return
      }
      const scoped = `${auth} ${key}`
      const check = idem.begin(scoped, IdempotencyStore.fingerprint(method, u.pathname, raw))
      if (check.kind === 'conflict') {
        err(res, 400, 'idempotency_error', `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`)
        return
      }
      if (check.kind === 'in_flight') {
        err(res, 409, 'idempotency_error', 'There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.', { code: 'idempotency_key_in_use' })
        return
      }
      if (check.kind === 'replay') {
        const r = check.response
        res.writeHead(r.status, { ...r.headers, 'idempotent-replayed': 'true', 'content-length': String(Buffer.byteLength(r.body)) })
        res.end(r.body)
        return
      }
      const stored = route(method, u.pathname, params, res)
      // Stripe saves the result once the endpoint started executing; validation failures are not saved.
      if (stored.status === 400 || stored.status === 401 || stored.status === 404) idem.abandon(scoped)
      else idem.finish(scoped, stored)
    },
    errorResponse(res, status) {
      if (status === 429) err(res, 429, 'invalid_request_error', 'Too many requests hit the API too quickly.', { code: 'rate_limit' })
      else err(res, status, 'api_error', status === 503 ? 'Stripe is temporarily unavailable.' : 'An unknown error occurred.')
    },
    payments(): EmulatedPayment[] {
      return [...intents.values()].map((pi) => {
        const authorized = pi.status === 'requires_capture' || pi.status === 'succeeded' || (pi.status === 'canceled' && pi.latest_charge) ? pi.amount : 0
        const status: EmulatedPayment['status'] =
          pi.status === 'requires_capture' ? 'authorized'
          : pi.status === 'succeeded' ? (pi.refunded > 0 && pi.refunded === pi.amount_received ? 'refunded' : 'captured')
          : pi.status === 'canceled' ? 'voided'
          : 'failed'
        return {
          provider: 'stripe',
          reference: pi.id,
          paymentId: pi.metadata.ecom_payment_id,
          currency: pi.currency.toUpperCase(),
          authorized,
          captured: pi.amount_received,
          refunded: pi.refunded,
          status,
        }
      })
    },
    reset() {
      intents.clear()
      refunds.clear()
      idem.clear()
    },
  }
}
