import { request, type IncomingMessage } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SandboxListenError } from '../../../src/errors.js'
import { SANDBOX_CREDENTIALS, startSandbox, type Sandbox } from '../../../src/payments/sandbox/server.js'
import { ADYEN_ERROR_TRIGGERS, ADYEN_HOLDER_NAME_TRIGGERS } from '../../../src/payments/sandbox/adyen.js'
import { TEST_CARDS, testCard } from '../../../src/payments/sandbox/test-cards.js'

let sb: Sandbox
const auth = { authorization: `Bearer ${SANDBOX_CREDENTIALS.stripe.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' }

function raw(method: string, path: string, body = '', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(`${sb.url}${path}`, { method, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' } }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers }))
      res.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    })
    req.on('error', (e) => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    req.end(body)
  })
}

const createPi = (key: string, amount = 1000) =>
  raw('POST', '/v1/payment_intents', `amount=${amount}&currency=usd&payment_method=pm_card_visa&confirm=true&metadata[ecom_payment_id]=p-${key}`, { ...auth, 'idempotency-key': key })

beforeAll(async () => {
  sb = await startSandbox({ providers: ['stripe'] })
})
afterAll(() => sb.close())
beforeEach(() => sb.reset())

describe('payments sandbox server', () => {
  it('serves the Stripe emulator on /v1 and rejects a wrong key', async () => {
    const ok = await createPi('k1')
    expect(ok).toMatchObject({ status: 200 })
    expect(JSON.parse((ok as { body: string }).body)).toMatchObject({ object: 'payment_intent', status: 'succeeded', amount_received: 1000 })
    const bad = await raw('GET', '/v1/payment_intents/x', '', { authorization: 'Bearer sk_test_wrong' })
    expect(bad).toMatchObject({ status: 401 })
    expect(await raw('GET', '/nowhere')).toMatchObject({ status: 404 })
  })

  it('replays an idempotent request and rejects the same key with a different body', async () => {
    const a = (await createPi('same')) as { body: string; headers: Record<string, unknown> }
    const b = (await createPi('same')) as { body: string; headers: Record<string, unknown> }
    expect(b.body).toBe(a.body)
    expect(b.headers['idempotent-replayed']).toBe('true')
    const c = (await createPi('same', 5)) as { status: number; body: string }
    expect(c.status).toBe(400)
    expect(JSON.parse(c.body).error.type).toBe('idempotency_error')
    expect(sb.payments()).toHaveLength(1)
  })

  it('admin API: faults validated as path: message, injected, listed and cleared', async () => {
    const bad = (await raw('POST', '/__admin/faults/stripe', JSON.stringify({ errorRate: 2, latencyMs: -1, nope: true }))) as { status: number; body: string }
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).problems).toEqual([
      'faults.nope: unknown fault',
      'faults.latencyMs: expected a non-negative number of milliseconds',
      'faults.errorRate: expected a number from 0 to 1',
    ])
    expect(await raw('POST', '/__admin/faults/paypal', '{}')).toMatchObject({ status: 404 })

    expect(await raw('POST', '/__admin/faults/stripe', JSON.stringify({ rateLimitRate: 1 }))).toMatchObject({ status: 200 })
    expect(await createPi('rl')).toMatchObject({ status: 429 })
    expect(await raw('POST', '/__admin/faults/stripe', JSON.stringify({ outage: true }))).toMatchObject({ status: 200 })
    expect(await createPi('out')).toMatchObject({ status: 503 })
    expect(await raw('POST', '/__admin/faults/stripe', JSON.stringify({ errorRate: 1 }))).toMatchObject({ status: 200 })
    const err = (await createPi('err')) as { status: number }
    expect([500, 503]).toContain(err.status)
    expect(sb.payments()).toHaveLength(0) // none of those executed
    expect(JSON.parse(((await raw('GET', '/__admin/faults')) as { body: string }).body)).toEqual({ stripe: { errorRate: 1 } })
    expect(await raw('DELETE', '/__admin/faults/stripe')).toMatchObject({ status: 200 })
    expect(await createPi('fine')).toMatchObject({ status: 200 })
  })

  it('drop-after-commit executes the request, then hangs up without answering', async () => {
    sb.setFaults('stripe', { dropAfterCommitRate: 1 })
    const r = await createPi('drop')
    expect(r).toHaveProperty('error')
    sb.clearFaults()
    expect(sb.payments()).toHaveLength(1)
    expect(sb.payments()[0]).toMatchObject({ captured: 1000, paymentId: 'p-drop' })
    // the same key now replays the committed result
    const again = (await createPi('drop')) as { status: number; headers: Record<string, unknown> }
    expect(again.status).toBe(200)
    expect(again.headers['idempotent-replayed']).toBe('true')
  })

  it('latency holds the request before it executes', async () => {
    sb.setFaults('stripe', { latencyMs: 120 })
    const t0 = performance.now()
    await createPi('slow')
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100)
  })

  it('reports captured totals and signed webhooks, and resets', async () => {
    await createPi('t1', 1000)
    await createPi('t2', 2500)
    const admin = JSON.parse(((await raw('GET', '/__admin/payments')) as { body: string }).body)
    expect(admin.totals).toEqual({ stripe: { USD: { authorized: 3500, captured: 3500, refunded: 0 } } })
    expect(admin.payments).toHaveLength(2)
    const hooks = JSON.parse(((await raw('GET', '/__admin/webhooks?provider=stripe')) as { body: string }).body).webhooks
    expect(hooks.length).toBe(2)
    expect(hooks[0].headers['stripe-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/)
    expect(await raw('POST', '/__admin/reset')).toMatchObject({ status: 200 })
    expect(sb.payments()).toHaveLength(0)
    expect(sb.webhooks()).toHaveLength(0)
  })

  /**
   * One sale on a second sandbox whose webhookUrl is `path` on a local receiver; resolves with what
   * `describe` made of each webhook request the receiver got (waiting up to half a second for one).
   */
  async function webhooksTo(path: string, describe: (req: IncomingMessage, body: string) => string): Promise<string[]> {
    const seen: string[] = []
    const { createServer } = await import('node:http')
    const sink = createServer((req, res) => {
      let b = ''
      req.on('data', (d) => (b += d))
      req.on('end', () => {
        seen.push(describe(req, b))
        res.end()
      })
    })
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()))
    const port = (sink.address() as { port: number }).port
    const sb2 = await startSandbox({ providers: ['stripe'], webhookUrl: `http://127.0.0.1:${port}${path}` })
    const prev = sb
    sb = sb2
    try {
      await createPi(`hook-${path}`)
    } finally {
      sb = prev
    }
    for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    await sb2.close()
    sink.close()
    return seen
  }

  it('delivers webhooks to webhookUrl', async () => {
    const received = await webhooksTo('/hooks', (req, body) => `${req.headers['stripe-signature'] ? 'signed' : 'unsigned'}:${JSON.parse(body).type}`)
    expect(received).toEqual(['signed:payment_intent.succeeded'])
  })

  it('replaces {provider} in webhookUrl with the provider that sends the webhook', async () => {
    expect(await webhooksTo('/webhooks/{provider}', (req) => req.url ?? '')).toEqual(['/webhooks/stripe'])
  })

  it('fails with a coded error when the port is taken', async () => {
    await expect(startSandbox({ port: sb.port, providers: ['stripe'] })).rejects.toBeInstanceOf(SandboxListenError)
  })

  it('test cards carry each provider\u2019s published test value', () => {
    expect(testCard('visa').tokens).toMatchObject({ stripe: 'pm_card_visa', square: 'cnon:card-nonce-ok', braintree: 'fake-valid-visa-nonce' })
    // Adyen's published holder-name triggers ("Values for testing refusal reasons"), which the emulator honours.
    expect(testCard('declined').tokens.adyen).toMatchObject({ holderName: 'DECLINED' })
    expect(testCard('expired').tokens.adyen).toMatchObject({ holderName: 'CARD_EXPIRED' })
    expect(testCard('processing_error').tokens.adyen).toMatchObject({ holderName: 'ERROR' })
    for (const [kind, tokens] of Object.entries(TEST_CARDS)) {
      if (kind === 'visa' || kind === 'mastercard') continue
      const holder = (tokens.adyen as { holderName: string }).holderName
      expect(holder in ADYEN_HOLDER_NAME_TRIGGERS || holder in ADYEN_ERROR_TRIGGERS, `${kind}: ${holder}`).toBe(true)
    }
    expect(TEST_CARDS.insufficient_funds.stripe).toBe('pm_card_chargeDeclinedInsufficientFunds')
    expect(Object.keys(testCard('visa', ['stripe']).tokens)).toEqual(['stripe'])
  })
})
