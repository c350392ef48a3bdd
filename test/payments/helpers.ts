import type { PaymentAdapter, ProviderName } from '../../src/payments/model.js'
import { createAdapter } from '../../src/payments/providers/index.js'
import { startSandbox, type Sandbox } from '../../src/payments/sandbox/server.js'

/**
 * A real Stripe adapter, against its own sandbox, standing in for another provider name so router
 * tests can fail over between two independently faultable emulators before the other providers'
 * adapters are merged. It sends the method's Stripe token and reports itself under `as`.
 */
export function asProvider(inner: PaymentAdapter, as: ProviderName): PaymentAdapter {
  const rename = <T extends { provider: ProviderName }>(r: T): T => ({ ...r, provider: as })
  return {
    name: as,
    authorize: async (req, ctx) => rename(await inner.authorize({ ...req, method: { ...req.method, tokens: { stripe: req.method.tokens.stripe } } }, ctx)),
    capture: async (ref, amount, ctx) => rename(await inner.capture(ref, amount, ctx)),
    void: async (ref, ctx) => rename(await inner.void(ref, ctx)),
    refund: async (ref, amount, ctx) => rename(await inner.refund(ref, amount, ctx)),
    status: async (lookup, ctx) => rename(await inner.status(lookup, ctx)),
    verifyWebhook: async (raw, headers, url) => ({ ...(await inner.verifyWebhook(raw, headers, url)), provider: as }),
  }
}

export interface StripePair {
  a: Sandbox
  b: Sandbox
  stripeA: PaymentAdapter
  /** Stripe on sandbox B, named `adyen` for the router. */
  stripeB: PaymentAdapter
  close(): Promise<void>
}

export async function stripePair(timeoutMs = 2000): Promise<StripePair> {
  const a = await startSandbox({ providers: ['stripe'] })
  const b = await startSandbox({ providers: ['stripe'] })
  const stripeA = await createAdapter('stripe', { credentials: a.credentials.stripe, sandboxUrl: a.url, timeoutMs })
  const inner = await createAdapter('stripe', { credentials: b.credentials.stripe, sandboxUrl: b.url, timeoutMs })
  return {
    a,
    b,
    stripeA,
    stripeB: asProvider(inner, 'adyen'),
    close: async () => {
      await a.close()
      await b.close()
    },
  }
}

/** Net money moved per merchant payment id, from what the emulators hold. */
export function netByPayment(sandboxes: Sandbox[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const sb of sandboxes) {
    for (const p of sb.payments()) {
      if (!p.paymentId) continue
      out.set(p.paymentId, (out.get(p.paymentId) ?? 0) + p.captured - p.refunded)
    }
  }
  return out
}
