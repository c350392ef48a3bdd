/**
 * The Stripe, Adyen and Square adapters send through the toolkit's pooled HttpClient (src/runtime/http-client.ts):
 * their calls show in its per-origin metrics, a client passed as `httpClient` is the one used, nothing is
 * retried, and the technical/ambiguous line is unchanged.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HttpCircuitOpenError, HttpClientClosedError } from '../../../src/errors.js'
import type { CallContext, PaymentMethod } from '../../../src/payments/model.js'
import { classifyTransportError } from '../../../src/payments/providers/classify.js'
import { createAdapter } from '../../../src/payments/providers/index.js'
import { classifyTransport } from '../../../src/payments/providers/provider-util.js'
import { startSandbox, type Sandbox } from '../../../src/payments/sandbox/server.js'
import { HttpClient } from '../../../src/runtime/http-client.js'
import { getRegistry } from '../../../src/runtime/metrics.js'

let sb: Sandbox
beforeAll(async () => {
  sb = await startSandbox({ providers: ['stripe', 'adyen', 'square'] })
})
afterAll(async () => {
  await sb?.close()
})

const ctx = (): CallContext => ({ paymentId: 'p', attempt: 1, idempotencyKey: randomUUID() })
const METHODS = {
  stripe: { type: 'card', tokens: { stripe: 'pm_card_visa' } },
  square: { type: 'card', tokens: { square: 'cnon:card-nonce-ok' } },
  adyen: { type: 'card', tokens: { adyen: { type: 'scheme', number: '4111111145551142', expiryMonth: '03', expiryYear: '2030', cvc: '737', holderName: 'John Smith' } } },
} satisfies Record<string, PaymentMethod>
const sale = (p: 'stripe' | 'adyen' | 'square') => ({ paymentId: randomUUID(), amount: { amount: 1000, currency: 'USD' }, method: METHODS[p], capture: true })

async function requestsTo(origin: string): Promise<number> {
  const m = await getRegistry().getSingleMetric('ecom_http_client_requests_total')?.get()
  return (m?.values ?? []).filter((v) => v.labels.origin === origin).reduce((n, v) => n + v.value, 0)
}

// HTTP requests per authorize + refund: Square reads the payment before refunding.
const CALLS = { stripe: 2, adyen: 2, square: 3 }

for (const provider of ['stripe', 'adyen', 'square'] as const) {
  describe(`${provider}: through the toolkit's pooled HttpClient`, () => {
    it('every SDK call is a request of the pooled client (its per-origin metrics count it)', async () => {
      const a = await createAdapter(provider, { credentials: sb.credentials[provider], sandboxUrl: sb.url } as never)
      const before = await requestsTo(sb.url)
      const r = await a.authorize(sale(provider), ctx())
      expect(r.outcome).toBe('approved')
      await a.refund(r.providerReference!, { amount: 100, currency: 'USD' }, ctx())
      expect(await requestsTo(sb.url)).toBe(before + CALLS[provider])
    })

    it('uses the client given as httpClient, never retries through it, and keeps the classification', async () => {
      const client = new HttpClient({ retries: 3, breaker: false })
      const a = await createAdapter(provider, { credentials: sb.credentials[provider], sandboxUrl: sb.url, httpClient: client } as never)
      expect((await a.authorize(sale(provider), ctx())).outcome).toBe('approved')
      // 503 and 429 are retryable for the toolkit (the request carries an Idempotency-Key): the adapter must not let it.
      sb.setFaults(provider, { outage: true })
      const before = await requestsTo(sb.url)
      expect(await a.authorize(sale(provider), ctx())).toMatchObject({ outcome: 'technical_failure', code: 'provider_unavailable' })
      expect(await requestsTo(sb.url)).toBe(before + 1)
      sb.clearFaults(provider)
      sb.setFaults(provider, { dropAfterCommitRate: 1 })
      expect(await a.authorize(sale(provider), ctx())).toMatchObject({ outcome: 'ambiguous' })
      sb.clearFaults(provider)
      // A closed client refuses before sending: a definite technical failure (the router may fail over).
      await client.close()
      expect(await a.authorize(sale(provider), ctx())).toMatchObject({ outcome: 'technical_failure', code: 'network_error' })
    })
  })
}

it('a toolkit refusal before sending (closed client, open breaker) classifies as not sent', () => {
  for (const err of [new HttpClientClosedError(), new HttpCircuitOpenError()]) {
    expect(classifyTransportError(err)).toEqual({ outcome: 'technical_failure', code: 'network_error' })
    expect(classifyTransport(err).outcome).toBe('technical_failure')
  }
})
