/**
 * The Square, Adyen and Braintree emulators on the wire, without the SDKs: auth, each provider's error
 * shape, the idempotency store (replay and conflict), drop-after-commit, and webhook signatures
 * checked with plain crypto the way each provider documents them.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandbox, type Sandbox } from '../../../src/payments/sandbox/server.js'
import { SQUARE_SANDBOX_NOTIFICATION_URL } from '../../../src/payments/sandbox/square-values.js'

let sb: Sandbox
beforeAll(async () => {
  sb = await startSandbox({ providers: ['square', 'adyen', 'braintree'] })
})
afterAll(async () => {
  await sb?.close()
})

async function call(path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(sb.url + path, {
    method: init.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  })
  const text = await res.text()
  return { status: res.status, text, json: text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Record<string, any>) : undefined }
}

describe('square emulator', () => {
  const auth = () => ({ authorization: `Bearer ${sb.credentials.square.accessToken}` })
  const create = (key: string, amount = 1000, source = 'cnon:card-nonce-ok') =>
    call('/square/v2/payments', { headers: auth(), body: { idempotency_key: key, source_id: source, amount_money: { amount, currency: 'USD' }, autocomplete: false } })

  it('rejects a wrong token with Square\'s error shape', async () => {
    const r = await call('/square/v2/payments', { headers: { authorization: 'Bearer nope' }, body: {} })
    expect(r.status).toBe(401)
    expect(r.json!.errors[0]).toMatchObject({ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED' })
  })

  it('replays the same key and body; rejects the same key with another body (IDEMPOTENCY_KEY_REUSED)', async () => {
    const key = randomUUID()
    const a = await create(key)
    const b = await create(key)
    expect(a.status).toBe(200)
    expect(b.text).toBe(a.text)
    const c = await create(key, 2000)
    expect(c.status).toBe(400)
    expect(c.json!.errors[0]).toMatchObject({ category: 'INVALID_REQUEST_ERROR', code: 'IDEMPOTENCY_KEY_REUSED' })
    expect(sb.payments('square').filter((p) => p.reference === a.json!.payment.id)).toHaveLength(1)
  })

  it('declines a test nonce with PAYMENT_METHOD_ERROR and a FAILED payment', async () => {
    const r = await create(randomUUID(), 1000, 'cnon:card-nonce-rejected-cvv')
    expect(r.status).toBe(400)
    expect(r.json!.errors[0]).toMatchObject({ category: 'PAYMENT_METHOD_ERROR', code: 'CVV_FAILURE' })
    expect(r.json!.payment.status).toBe('FAILED')
  })

  it('cancels by idempotency key, and answers an unknown key with success', async () => {
    const key = randomUUID()
    const a = await create(key)
    expect((await call('/square/v2/payments/cancel', { headers: auth(), body: { idempotency_key: key } })).status).toBe(200)
    expect(sb.payments('square').find((p) => p.reference === a.json!.payment.id)!.status).toBe('voided')
    expect((await call('/square/v2/payments/cancel', { headers: auth(), body: { idempotency_key: randomUUID() } })).json).toEqual({})
  })

  it('signs webhooks with HMAC-SHA256 over notification URL + body, base64', async () => {
    const a = await create(randomUUID())
    const hook = sb.webhooks('square').find((h) => h.body.includes(a.json!.payment.id))!
    const expected = createHmac('sha256', sb.credentials.square.webhookSignatureKey).update(SQUARE_SANDBOX_NOTIFICATION_URL + hook.body).digest('base64')
    expect(hook.headers['x-square-hmacsha256-signature']).toBe(expected)
    expect(JSON.parse(hook.body)).toMatchObject({ type: 'payment.created', data: { type: 'payment', id: a.json!.payment.id } })
  })

  it('commits, then drops the connection when told to', async () => {
    const key = randomUUID()
    sb.setFaults('square', { dropAfterCommitRate: 1 })
    await expect(create(key)).rejects.toThrow()
    sb.clearFaults('square')
    const replay = await create(key)
    expect(replay.status).toBe(200)
    expect(sb.payments('square').filter((p) => p.reference === replay.json!.payment.id)).toHaveLength(1)
  })
})

describe('adyen emulator', () => {
  const headers = (key?: string) => ({ 'x-api-key': sb.credentials.adyen.apiKey, ...(key ? { 'idempotency-key': key } : {}) })
  const pay = (key: string | undefined, value = 1000, holderName = 'John Smith') =>
    call('/adyen/v72/payments', {
      headers: headers(key),
      body: { merchantAccount: sb.credentials.adyen.merchantAccount, reference: 'order-1', amount: { value, currency: 'EUR' }, paymentMethod: { type: 'scheme', number: '4111111145551142', holderName } },
    })

  it('rejects a wrong API key with Adyen\'s error shape', async () => {
    const r = await call('/adyen/v72/payments', { headers: { 'x-api-key': 'nope' }, body: {} })
    expect(r.status).toBe(401)
    expect(r.json).toMatchObject({ status: 401, errorType: 'security' })
  })

  it('replays the same Idempotency-Key and body; rejects another body under the same key', async () => {
    const key = randomUUID()
    const a = await pay(key)
    const b = await pay(key)
    expect(a.json).toMatchObject({ resultCode: 'Authorised' })
    expect(b.text).toBe(a.text)
    const c = await pay(key, 2000)
    expect(c.status).toBe(422)
    expect(c.json).toMatchObject({ status: 422, errorCode: '704', errorType: 'validation' })
  })

  it('answers holder-name triggers with Refused and the refusal reason code', async () => {
    expect((await pay(undefined, 1000, 'NOT_ENOUGH_BALANCE')).json).toMatchObject({ resultCode: 'Refused', refusalReason: 'Not enough balance', refusalReasonCode: '12' })
    expect((await pay(undefined, 1000, 'ERROR')).json).toMatchObject({ resultCode: 'Error' })
  })

  it('signs notifications with HMAC-SHA256 (hex key) over the documented fields', async () => {
    const a = await pay(randomUUID())
    const hook = sb.webhooks('adyen').find((h) => h.body.includes(a.json!.pspReference))!
    const item = JSON.parse(hook.body).notificationItems[0].NotificationRequestItem
    const data = [item.pspReference, item.originalReference ?? '', item.merchantAccountCode, item.merchantReference, item.amount.value, item.amount.currency, item.eventCode, item.success].join(':')
    const expected = createHmac('sha256', Buffer.from(sb.credentials.adyen.hmacKeyHex, 'hex')).update(data).digest('base64')
    expect(item.additionalData.hmacSignature).toBe(expected)
  })
})

describe('braintree emulator', () => {
  const basic = () => `Basic ${Buffer.from(`${sb.credentials.braintree.publicKey}:${sb.credentials.braintree.privateKey}`).toString('base64')}`
  const base = () => `/merchants/${sb.credentials.braintree.merchantId}`
  const sale = (orderId: string, amount = '10.00', nonce = 'fake-valid-nonce') =>
    call(`${base()}/transactions`, { headers: { authorization: basic(), accept: 'application/xml' }, body: { transaction: { type: 'sale', amount, payment_method_nonce: nonce, order_id: orderId, options: { submit_for_settlement: true } } } })

  it('rejects wrong keys with a bare 401, as the gateway does', async () => {
    const r = await call(`${base()}/transactions`, { headers: { authorization: 'Basic eDp5' }, body: {} })
    expect(r.status).toBe(401)
  })

  it('answers in XML; declines by amount with the processor response code', async () => {
    const ok = await sale(randomUUID())
    expect(ok.status).toBe(201)
    expect(ok.text).toMatch(/<transaction>.*<status>submitted_for_settlement<\/status>/s)
    const declined = await sale(randomUUID(), '2001.00')
    expect(declined.status).toBe(422)
    expect(declined.text).toMatch(/<api-error-response>.*<processor-response-code>2001<\/processor-response-code>/s)
  })

  it('gateway-rejects a duplicate of a successful sale (same order id, amount and method)', async () => {
    const order = randomUUID()
    expect((await sale(order)).status).toBe(201)
    const dup = await sale(order)
    expect(dup.status).toBe(422)
    expect(dup.text).toContain('<gateway-rejection-reason>duplicate</gateway-rejection-reason>')
    expect(sb.payments('braintree').filter((p) => p.paymentId === order && p.captured > 0)).toHaveLength(1)
  })

  it('signs webhooks as publicKey|hex(HMAC-SHA1(SHA1(privateKey), bt_payload))', async () => {
    const order = randomUUID()
    await sale(order)
    const hook = sb.webhooks('braintree').find((h) => Buffer.from(new URLSearchParams(h.body).get('bt_payload')!, 'base64').toString().includes(order))!
    const form = new URLSearchParams(hook.body)
    const key = createHash('sha1').update(sb.credentials.braintree.privateKey).digest()
    expect(form.get('bt_signature')).toBe(`${sb.credentials.braintree.publicKey}|${createHmac('sha1', key).update(form.get('bt_payload')!).digest('hex')}`)
  })
})
