/**
 * A refund that committed is reported from its own answer: when every call after it fails (the
 * provider's edge answering 503 from then on), Square and Braintree still report the refund approved,
 * never a technical failure for money that moved.
 */
import { randomUUID } from 'node:crypto'
import { createServer, request, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext, PaymentMethod, ProviderName } from '../../../src/payments/model.js'
import { createAdapter } from '../../../src/payments/providers/index.js'
import { startSandbox, type Sandbox } from '../../../src/payments/sandbox/server.js'

/** An HTTP pass-through to the sandbox that, once a refund has been answered 2xx, answers 503 to everything. */
interface BreakingProxy {
  url: string
  /** Forward again. */
  heal(): void
  close(): Promise<void>
}

async function breakAfterRefund(target: string): Promise<BreakingProxy> {
  const up = new URL(target)
  let broken = false
  const server: Server = createServer((req, res) => {
    if (broken) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable')
      return
    }
    const isRefund = req.method === 'POST' && /\/refunds?$|\/refund$/.test(req.url ?? '')
    const out = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (isRefund && (answer.statusCode ?? 500) < 300) broken = true
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    heal: () => {
      broken = false
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}

let sb: Sandbox
let proxy: BreakingProxy
beforeAll(async () => {
  sb = await startSandbox({ providers: ['square', 'braintree'] })
  proxy = await breakAfterRefund(sb.url)
})
afterAll(async () => {
  await proxy?.close()
  await sb?.close()
})

const ctx = (): CallContext => ({ paymentId: 'p', attempt: 1, idempotencyKey: randomUUID() })
const usd = (amount: number) => ({ amount, currency: 'USD' })
const METHODS: Record<'square' | 'braintree', PaymentMethod> = {
  square: { type: 'card', tokens: { square: 'cnon:card-nonce-ok' } },
  braintree: { type: 'card', tokens: { braintree: 'fake-valid-nonce' } },
}

for (const provider of ['square', 'braintree'] as const satisfies readonly ProviderName[]) {
  describe(`${provider}: refund after commit`, () => {
    it('reports a committed refund from its own answer even when the provider fails right after it', async () => {
      proxy.heal()
      const a = await createAdapter(provider, { credentials: sb.credentials[provider], sandboxUrl: proxy.url, timeoutMs: 5000 } as never)
      const sale = await a.authorize({ paymentId: randomUUID(), amount: usd(1000), method: METHODS[provider], capture: true }, ctx())
      expect(sale.outcome).toBe('approved')
      const ref = sale.providerReference!

      const first = await a.refund(ref, usd(300), ctx())
      expect(first, JSON.stringify(first)).toMatchObject({ outcome: 'approved', status: 'partially_refunded', amount: usd(300) })
      expect(sb.payments(provider).find((p) => p.reference === ref)).toMatchObject({ refunded: 300 })

      proxy.heal()
      const rest = await a.refund(ref, usd(700), ctx())
      expect(rest, JSON.stringify(rest)).toMatchObject({ outcome: 'approved', status: 'refunded', amount: usd(700) })
      expect(sb.payments(provider).find((p) => p.reference === ref)).toMatchObject({ refunded: 1000 })
    })

    it('a replayed refund (same key) is answered as the refund it was, not counted twice', async () => {
      proxy.heal()
      const a = await createAdapter(provider, { credentials: sb.credentials[provider], sandboxUrl: sb.url, timeoutMs: 5000 } as never)
      const sale = await a.authorize({ paymentId: randomUUID(), amount: usd(1000), method: METHODS[provider], capture: true }, ctx())
      const ref = sale.providerReference!
      const half = ctx()
      expect(await a.refund(ref, usd(500), half)).toMatchObject({ outcome: 'approved', status: 'partially_refunded', amount: usd(500) })
      const again = await (await createAdapter(provider, { credentials: sb.credentials[provider], sandboxUrl: sb.url, timeoutMs: 5000 } as never)).refund(ref, usd(500), { ...half, replay: true })
      expect(again, JSON.stringify(again)).toMatchObject({ outcome: 'approved', status: 'partially_refunded', amount: usd(500) })
      expect(sb.payments(provider).find((p) => p.reference === ref)).toMatchObject({ refunded: 500 })
    })
  })
}
