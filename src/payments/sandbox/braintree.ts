/**
 * Braintree gateway emulator on `/merchants/<merchantId>/...`: JSON requests (as the Node SDK sends
 * them), XML answers, Basic auth with the public/private key pair, Braintree's published test nonces and
 * test amounts (2000.00-2999.99 processor declined with that code, 3000.00-3000.99 failed, 5001.00
 * gateway rejected), duplicate-transaction checking, `transaction_settled` webhooks signed the
 * Braintree way (`publicKey|hex(HMAC-SHA1(SHA1(privateKey), bt_payload))`), form-posted.
 *
 * Braintree has no idempotency key. Its own guard is duplicate checking: a sale with the same order id,
 * amount and payment method as an earlier successful one is gateway-rejected with reason `duplicate`.
 * The emulator settles at once, so a submitted transaction can be refunded right away. It knows one
 * custom field, `ecom_payment_id` (the merchant payment id, reported by `payments()`); any other custom
 * field is rejected as Braintree rejects fields not configured in the control panel. A sale's
 * `merchant_account_id` ending in `_<currency>` settles in that currency (default USD), with that
 * currency's decimals; the test amounts apply in major units of any currency, as on Braintree.
 */
import { createHash, createHmac } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { currencyExponent } from '../model.js'
import type { EmulatedPayment, ProviderEmulator, SandboxCredentials } from './types.js'
import { header, mintId, parseJson, requestUrl, send, type EmulatorHost, type StoredAnswer } from './emulator-util.js'
import { XmlNode, xmlDocument, type XmlValue } from './braintree-xml.js'

/** Braintree's published test nonces (the ones the emulator honours). */
export const BRAINTREE_TEST_NONCES = Object.freeze({
  valid: 'fake-valid-nonce',
  validVisa: 'fake-valid-visa-nonce',
  validMastercard: 'fake-valid-mastercard-nonce',
  processorDeclinedVisa: 'fake-processor-declined-visa-nonce',
  processorDeclinedMastercard: 'fake-processor-declined-mastercard-nonce',
  processorFailureJcb: 'fake-processor-failure-jcb-nonce',
  luhnInvalid: 'fake-luhn-invalid-nonce',
  consumed: 'fake-consumed-nonce',
  gatewayRejectedFraud: 'fake-gateway-rejected-fraud-nonce',
})

/** Processor response codes the emulator knows by name, with Braintree's hard/soft typing. */
export const BRAINTREE_PROCESSOR_RESPONSES: Readonly<Record<string, readonly [string, 'soft_declined' | 'hard_declined']>> = Object.freeze({
  '2000': ['Do Not Honor', 'soft_declined'],
  '2001': ['Insufficient Funds', 'soft_declined'],
  '2002': ['Limit Exceeded', 'soft_declined'],
  '2003': ["Cardholder's Activity Limit Exceeded", 'soft_declined'],
  '2004': ['Expired Card', 'hard_declined'],
  '2005': ['Invalid Credit Card Number', 'hard_declined'],
  '2006': ['Invalid Expiration Date', 'hard_declined'],
  '2007': ['No Account', 'hard_declined'],
  '2010': ['Card Issuer Declined CVV', 'hard_declined'],
  '2012': ['Processor Declined - Possible Lost Card', 'hard_declined'],
  '2013': ['Processor Declined - Possible Stolen Card', 'hard_declined'],
  '2014': ['Processor Declined - Fraud Suspected', 'hard_declined'],
  '2015': ['Transaction Not Allowed', 'hard_declined'],
  '2038': ['Processor Declined', 'soft_declined'],
  '2044': ['Declined - Call Issuer', 'hard_declined'],
  '2046': ['Declined', 'soft_declined'],
  '2047': ['Call Issuer. Pick Up Card', 'hard_declined'],
})

const NONCE_CARDS: Record<string, { type: string; bin: string; last4: string }> = {
  'fake-valid-mastercard-nonce': { type: 'MasterCard', bin: '555555', last4: '4444' },
  'fake-processor-declined-mastercard-nonce': { type: 'MasterCard', bin: '510510', last4: '5100' },
  'fake-processor-failure-jcb-nonce': { type: 'JCB', bin: '356600', last4: '0505' },
}

type BtStatus = 'authorized' | 'submitted_for_settlement' | 'settled' | 'voided' | 'processor_declined' | 'failed' | 'gateway_rejected'

interface BtTransaction {
  id: string
  type: 'sale' | 'credit'
  status: BtStatus
  /** The transaction amount now: a partial settlement lowers it, as on Braintree. */
  amount: number
  authorized: number
  history: { status: BtStatus; amount: number; timestamp: string }[]
  currency: string
  orderId?: string
  /** The merchant payment id from the `ecom_payment_id` custom field, when sent. */
  paymentId?: string
  nonce: string
  processorResponseCode: string
  processorResponseText: string
  processorResponseType: 'approved' | 'soft_declined' | 'hard_declined'
  gatewayRejectionReason?: string
  /** Sales: what was submitted for settlement. */
  settled: number
  refunded: number
  refundIds: string[]
  refundedTransactionId?: string
  createdAt: string
  updatedAt: string
  fingerprint: string
}

export class BraintreeEmulator implements ProviderEmulator {
  readonly name = 'braintree' as const
  readonly #host: EmulatorHost
  readonly #creds: SandboxCredentials['braintree']
  readonly #tx = new Map<string, BtTransaction>()

  constructor(host: EmulatorHost) {
    this.#host = host
    this.#creds = host.credentials.braintree
  }

  matches(pathname: string): boolean {
    return pathname.startsWith('/merchants/')
  }

  /** Braintree's edge answers errors with an empty body; the SDK maps the status to its error class. */
  errorResponse(res: ServerResponse, status: 429 | 500 | 503): void {
    send(res, { status, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: '' })
  }

  payments(): EmulatedPayment[] {
    return [...this.#tx.values()]
      .filter((t) => t.type === 'sale')
      .map((t) => ({
        provider: 'braintree' as const,
        reference: t.id,
        ...(t.paymentId ?? t.orderId ? { paymentId: (t.paymentId ?? t.orderId)! } : {}),
        currency: t.currency,
        authorized: isDeclined(t.status) ? 0 : t.authorized,
        captured: t.settled,
        refunded: t.refunded,
        status:
          isDeclined(t.status) ? 'failed' : t.status === 'voided' ? 'voided' : t.status === 'authorized' ? 'authorized'
            : t.refunded > 0 && t.refunded >= t.settled ? 'refunded' : 'captured',
      }))
  }

  reset(): void {
    this.#tx.clear()
  }

  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    send(res, this.#route(req, body))
  }

  #route(req: IncomingMessage, raw: Buffer): StoredAnswer {
    const auth = `Basic ${Buffer.from(`${this.#creds.publicKey}:${this.#creds.privateKey}`).toString('base64')}`
    if (header(req, 'authorization') !== auth) return empty(401)
    const prefix = `/merchants/${this.#creds.merchantId}`
    const path = requestUrl(req).pathname
    if (!path.startsWith(`${prefix}/`)) return empty(403)
    const rest = path.slice(prefix.length).replace(/\/+$/, '')
    const body = parseJson(raw)
    if (body === undefined) return empty(400)
    const method = req.method ?? 'GET'
    let m: RegExpMatchArray | null
    if (method === 'POST' && rest === '/transactions') return this.#sale((body.transaction ?? {}) as Record<string, unknown>)
    if (method === 'POST' && rest === '/transactions/advanced_search_ids') return this.#searchIds(body)
    if (method === 'POST' && rest === '/transactions/advanced_search') return this.#search(body)
    if ((m = rest.match(/^\/transactions\/([^/]+)$/)) && method === 'GET') {
      const t = this.#tx.get(m[1]!)
      return t ? xml(200, 'transaction', txXml(t)) : empty(404)
    }
    if ((m = rest.match(/^\/transactions\/([^/]+)\/(submit_for_settlement|void|refund)$/)) && (method === 'PUT' || method === 'POST')) {
      const t = this.#tx.get(m[1]!)
      if (!t) return empty(404)
      const inner = (body.transaction ?? {}) as Record<string, unknown>
      if (m[2] === 'submit_for_settlement') return this.#submit(t, inner)
      if (m[2] === 'void') return this.#void(t)
      return this.#refund(t, inner)
    }
    return empty(404)
  }

  #sale(input: Record<string, unknown>): StoredAnswer {
    // Merchant accounts named `<anything>_<currency>` settle in that currency; the default one in USD.
    const account = typeof input.merchant_account_id === 'string' ? input.merchant_account_id : undefined
    const currency = account?.match(/_([a-z]{3})$/i)?.[1]?.toUpperCase() ?? 'USD'
    const amountText = typeof input.amount === 'string' || typeof input.amount === 'number' ? String(input.amount) : ''
    const amount = minor(amountText, currency)
    if (amount === undefined) return validation('amount', amountText === '' ? '81502' : '81503', amountText === '' ? 'Amount is required.' : 'Amount is an invalid format.')
    if (amount === 0) return validation('amount', '81531', 'Amount must be greater than zero.')
    const nonce = typeof input.payment_method_nonce === 'string' ? input.payment_method_nonce : ''
    if (!nonce) return validation('base', '91508', 'Cannot determine payment method.')
    if (nonce === BRAINTREE_TEST_NONCES.luhnInvalid) return validation('number', '81715', 'Credit card number is invalid.', 'credit-card')
    if (nonce === BRAINTREE_TEST_NONCES.consumed) return validation('payment_method_nonce', '93107', 'Cannot use a payment_method_nonce more than once.')
    if (!nonce.startsWith('fake-')) return validation('payment_method_nonce', '91565', 'Unknown payment_method_nonce.')
    const orderId = typeof input.order_id === 'string' ? input.order_id : undefined
    const custom = (input.custom_fields ?? {}) as Record<string, unknown>
    const unknownField = Object.keys(custom).find((k) => k !== 'ecom_payment_id')
    if (unknownField) return validation('custom_fields', '91526', `Custom field is invalid: ${unknownField}.`)
    const options = (input.options ?? {}) as Record<string, unknown>
    const now = new Date().toISOString()
    const t: BtTransaction = {
      id: mintId('', 6).toLowerCase().slice(0, 8),
      type: 'sale',
      status: 'authorized',
      amount,
      authorized: amount,
      history: [],
      currency,
      ...(orderId ? { orderId } : {}),
      ...(typeof custom.ecom_payment_id === 'string' ? { paymentId: custom.ecom_payment_id } : {}),
      nonce,
      processorResponseCode: '1000',
      processorResponseText: 'Approved',
      processorResponseType: 'approved',
      settled: 0,
      refunded: 0,
      refundIds: [],
      createdAt: now,
      updatedAt: now,
      fingerprint: createHash('sha256').update(`${orderId ?? ''}\0${amount}\0${nonce}`).digest('hex'),
    }
    // Duplicate checking: Braintree rejects a repeat of a successful sale (same order, amount, method).
    const duplicate = orderId && [...this.#tx.values()].some((o) => o.type === 'sale' && o.fingerprint === t.fingerprint && !isDeclined(o.status))
    const dollars = Math.floor(amount / 10 ** (currencyExponent(currency) ?? 2))
    if (duplicate) this.#reject(t, 'duplicate')
    else if (nonce === BRAINTREE_TEST_NONCES.gatewayRejectedFraud) this.#reject(t, 'fraud')
    else if (amountText === '5001.00' || amountText === '5001') this.#reject(t, 'application_incomplete')
    else if (nonce.startsWith('fake-processor-declined')) this.#decline(t, '2000')
    else if (nonce.startsWith('fake-processor-failure') || dollars === 3000) this.#fail(t)
    else if (dollars >= 2000 && dollars <= 2999) this.#decline(t, String(dollars))
    t.history.push({ status: t.status, amount: t.amount, timestamp: now })
    this.#tx.set(t.id, t)
    if (isDeclined(t.status)) {
      return xml(422, 'api-error-response', { errors: { errors: [] }, message: t.gatewayRejectionReason ? 'Gateway Rejected: ' + t.gatewayRejectionReason : t.processorResponseText, transaction: txXml(t) })
    }
    if (options.submit_for_settlement === true || options.submit_for_settlement === 'true') this.#settle(t, t.amount)
    return xml(201, 'transaction', txXml(t))
  }

  #reject(t: BtTransaction, reason: string): void {
    t.status = 'gateway_rejected'
    t.gatewayRejectionReason = reason
    t.processorResponseCode = ''
    t.processorResponseText = 'Unknown ()'
    t.processorResponseType = 'hard_declined'
  }

  #decline(t: BtTransaction, code: string): void {
    const [text, type] = BRAINTREE_PROCESSOR_RESPONSES[code] ?? ['Processor Declined', 'soft_declined']
    t.status = 'processor_declined'
    t.processorResponseCode = code
    t.processorResponseText = text
    t.processorResponseType = type
  }

  #fail(t: BtTransaction): void {
    t.status = 'failed'
    t.processorResponseCode = '3000'
    t.processorResponseText = 'Processor Network Unavailable - Try Again'
    t.processorResponseType = 'soft_declined'
  }

  #settle(t: BtTransaction, amount: number): void {
    t.status = 'submitted_for_settlement'
    t.settled = amount
    t.amount = amount
    t.updatedAt = new Date().toISOString()
    t.history.push({ status: t.status, amount, timestamp: t.updatedAt })
    this.#notify(t)
  }

  #submit(t: BtTransaction, input: Record<string, unknown>): StoredAnswer {
    if (t.status !== 'authorized') return validation('base', '91507', `Cannot submit for settlement unless status is authorized.`)
    const amount = input.amount === undefined || input.amount === null ? t.amount : minor(String(input.amount), t.currency)
    if (amount === undefined || amount <= 0) return validation('amount', '81503', 'Amount is an invalid format.')
    if (amount > t.amount) return validation('amount', '91522', 'Settlement amount cannot be more than the authorized amount.')
    this.#settle(t, amount)
    return xml(200, 'transaction', txXml(t))
  }

  #void(t: BtTransaction): StoredAnswer {
    if (t.status !== 'authorized' && t.status !== 'submitted_for_settlement') {
      return validation('base', '91504', 'Transaction can only be voided if status is authorized, submitted_for_settlement, or - for PayPal - settlement_pending.')
    }
    if (t.refunded > 0) return validation('base', '91504', 'Transaction can only be voided if it has not been refunded.')
    t.status = 'voided'
    t.settled = 0
    t.updatedAt = new Date().toISOString()
    t.history.push({ status: t.status, amount: t.amount, timestamp: t.updatedAt })
    return xml(200, 'transaction', txXml(t))
  }

  #refund(t: BtTransaction, input: Record<string, unknown>): StoredAnswer {
    if (t.type !== 'sale' || (t.status !== 'submitted_for_settlement' && t.status !== 'settled')) {
      return validation('base', '91506', 'Cannot refund transaction unless it is settled.')
    }
    const amount = input.amount === undefined || input.amount === null ? t.settled - t.refunded : minor(String(input.amount), t.currency)
    if (amount === undefined || amount <= 0) return validation('amount', '81503', 'Amount is an invalid format.')
    if (t.refunded + amount > t.settled) return validation('amount', '91521', 'Refund amount is too large.')
    if (t.refunded >= t.settled) return validation('base', '91512', 'Transaction has already been completely refunded.')
    const now = new Date().toISOString()
    const credit: BtTransaction = {
      ...t,
      id: mintId('', 6).toLowerCase().slice(0, 8),
      type: 'credit',
      status: 'submitted_for_settlement',
      amount,
      authorized: amount,
      history: [{ status: 'submitted_for_settlement', amount, timestamp: now }],
      settled: amount,
      refunded: 0,
      refundIds: [],
      refundedTransactionId: t.id,
      ...(typeof input.order_id === 'string' ? { orderId: input.order_id } : { orderId: undefined }),
      createdAt: now,
      updatedAt: now,
    }
    t.refunded += amount
    t.refundIds.push(credit.id)
    this.#tx.set(credit.id, credit)
    this.#notify(credit)
    return xml(201, 'transaction', txXml(credit))
  }

  #matching(search: Record<string, unknown>): BtTransaction[] {
    const order = (search.order_id as { is?: string } | undefined)?.is
    const ids = search.ids as string[] | { in?: string[] } | undefined
    const idList = Array.isArray(ids) ? ids : ids?.in
    return [...this.#tx.values()].filter((t) => (order === undefined || t.orderId === order) && (!idList || idList.includes(t.id)))
  }

  #searchIds(body: Record<string, unknown>): StoredAnswer {
    const found = this.#matching((body.search ?? {}) as Record<string, unknown>)
    return xml(200, 'search-results', { pageSize: 50, ids: found.map((t) => t.id) })
  }

  #search(body: Record<string, unknown>): StoredAnswer {
    const found = this.#matching((body.search ?? {}) as Record<string, unknown>)
    const children: Record<string, XmlValue> = { currentPageNumber: 1, pageSize: 50, totalItems: found.length }
    // Several <transaction> siblings: xml2js turns them into an array, as for Braintree's real answer.
    const xmlBody = found.map((t) => xmlDocument('transaction', txXml(t)).replace(/^<\?xml[^>]*>\n/, '').trim()).join('')
    const head = xmlDocument('credit-card-transactions', new XmlNode({ type: 'collection' }, children))
    return { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: head.replace('</credit-card-transactions>', `${xmlBody}</credit-card-transactions>`) }
  }

  #notify(t: BtTransaction): void {
    const notification = xmlDocument('notification', {
      timestamp: new Date().toISOString(),
      kind: 'transaction_settled',
      subject: { transaction: txXml(t) },
    })
    const payload = `${Buffer.from(notification).toString('base64')}\n`
    const sha1Key = createHash('sha1').update(this.#creds.privateKey).digest()
    const signature = `${this.#creds.publicKey}|${createHmac('sha1', sha1Key).update(payload).digest('hex')}`
    const body = new URLSearchParams({ bt_signature: signature, bt_payload: payload }).toString()
    this.#host.emitWebhook({ provider: 'braintree', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
  }
}

function isDeclined(s: BtStatus): boolean {
  return s === 'processor_declined' || s === 'failed' || s === 'gateway_rejected'
}

/** A decimal amount in major units to minor units, or undefined when it is not one for the currency. */
function minor(text: string, currency: string): number | undefined {
  const exp = currencyExponent(currency) ?? 2
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text)
  if (!m || (m[2] ?? '').length > exp) return undefined
  const v = Number(m[1]! + (m[2] ?? '').padEnd(exp, '0'))
  return Number.isSafeInteger(v) ? v : undefined
}

function major(amount: number, currency: string): string {
  const exp = currencyExponent(currency) ?? 2
  if (exp === 0) return String(amount)
  const s = String(amount).padStart(exp + 1, '0')
  return `${s.slice(0, -exp)}.${s.slice(-exp)}`
}

function txXml(t: BtTransaction): Record<string, XmlValue> {
  const card = NONCE_CARDS[t.nonce] ?? { type: 'Visa', bin: '411111', last4: '1111' }
  return {
    id: t.id,
    status: t.status,
    type: t.type,
    currencyIsoCode: t.currency,
    amount: major(t.amount, t.currency),
    merchantAccountId: `ecomsandbox_${t.currency.toLowerCase()}`,
    orderId: t.orderId ?? null,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    processorResponseCode: t.processorResponseCode,
    processorResponseText: t.processorResponseText,
    processorResponseType: t.processorResponseType,
    gatewayRejectionReason: t.gatewayRejectionReason ?? null,
    refundIds: t.refundIds,
    statusHistory: t.history.map((h) => ({ __tag: 'status-event', status: h.status, amount: major(h.amount, t.currency), timestamp: h.timestamp })),
    refundedTransactionId: t.refundedTransactionId ?? null,
    creditCard: { bin: card.bin, last4: card.last4, cardType: card.type, expirationMonth: '12', expirationYear: '2030' },
    paymentInstrumentType: 'credit_card',
    ...(t.paymentId ? { customFields: { ecomPaymentId: t.paymentId } } : {}),
  }
}

function xml(status: number, root: string, value: XmlValue): StoredAnswer {
  return { status, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: xmlDocument(root, value) }
}

function empty(status: number): StoredAnswer {
  return { status, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: '' }
}

function validation(attribute: string, code: string, message: string, scope = 'transaction'): StoredAnswer {
  // <attribute type="symbol">name</attribute> is text with an attribute: written by hand.
  const errorsXml = `<errors><errors type="array"/><${scope}><errors type="array"><error><code>${code}</code><attribute type="symbol">${attribute}</attribute><message>${message}</message></error></errors></${scope}></errors>`
  return {
    status: 422,
    headers: { 'content-type': 'application/xml; charset=utf-8' },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<api-error-response>${errorsXml}<message>${message}</message></api-error-response>\n`,
  }
}

/** The sandbox registry's factory. */
export function createEmulator(host: EmulatorHost): BraintreeEmulator {
  return new BraintreeEmulator(host)
}
