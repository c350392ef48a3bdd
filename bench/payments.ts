// Payments benchmarks: the routing decision, checkout through the router vs the Stripe SDK called
// directly against the same emulator, and checkout p99 while the primary is down (breaker open).
import type { PaymentAdapter, ProviderName } from '../src/payments/model.js'
import { createAdapter } from '../src/payments/providers/index.js'
import { createRouter } from '../src/payments/router/router.js'
import { startSandbox } from '../src/payments/sandbox/server.js'
import { testCard } from '../src/payments/sandbox/test-cards.js'
import { percentile, type BenchRow, type BenchSuite } from './util.js'

const ALL: ProviderName[] = ['stripe', 'square', 'adyen', 'braintree']

/** A real Stripe adapter reporting itself under another name, so both sides of a comparison use one SDK. */
function renamed(inner: PaymentAdapter, as: ProviderName): PaymentAdapter {
  const fix = <T extends { provider: ProviderName }>(r: T): T => ({ ...r, provider: as })
  return {
    name: as,
    authorize: async (req, ctx) => fix(await inner.authorize({ ...req, method: { ...req.method, tokens: { stripe: req.method.tokens.stripe } } }, ctx)),
    capture: async (ref, a, ctx) => fix(await inner.capture(ref, a, ctx)),
    void: async (ref, ctx) => fix(await inner.void(ref, ctx)),
    refund: async (ref, a, ctx) => fix(await inner.refund(ref, a, ctx)),
    status: async (l, ctx) => fix(await inner.status(l, ctx)),
    verifyWebhook: inner.verifyWebhook,
  }
}

async function routingDecision(): Promise<BenchRow[]> {
  const noop = {} as PaymentAdapter
  const rules = [
    { when: { currency: ['EUR'] }, use: ['adyen', 'stripe'] },
    { when: { currency: ['GBP'] }, use: ['adyen'] },
    { when: { country: ['CA'] }, exclude: ['square'] },
    { when: { country: ['JP'] }, use: ['stripe'] },
    { when: { amount: { min: 500_000 } }, use: ['braintree', 'stripe'] },
    { when: { amount: { max: 50 } }, exclude: ['adyen'] },
    { when: { method: ['amex'] }, use: ['stripe'] },
    { when: { metadata: { channel: 'pos' } }, use: ['square'] },
    { when: { metadata: { tier: 'gold' } }, exclude: ['braintree'] },
    { when: { currency: ['USD'], amount: { min: 1000, max: 400_000 } }, exclude: ['braintree'] },
  ] as const
  const router = await createRouter({
    config: {
      providers: {
        stripe: { fees: { '*': { percent: 2.9, fixed: 30 } } },
        square: { fees: { '*': { percent: 2.6, fixed: 10 } } },
        adyen: { fees: { USD: { percent: 1.5, fixed: 120 } } },
        braintree: { fees: { '*': { percent: 2.59, fixed: 49 } } },
      },
      strategy: ['lowest-cost', 'highest-success'],
      rules: rules as never,
      rulesMode: 'all',
    },
    adapters: Object.fromEntries(ALL.map((p) => [p, noop])),
  })
  const req = { paymentId: 'bench', amount: { amount: 12_345, currency: 'USD' }, method: testCard('visa'), metadata: { tier: 'gold' } }
  for (let i = 0; i < 20_000; i++) router.route(req)
  const samples: number[] = []
  for (let i = 0; i < 50_000; i++) {
    const t0 = performance.now()
    router.route(req)
    samples.push((performance.now() - t0) * 1000)
  }
  await router.close()
  return [
    {
      group: 'payments: routing decision (4 providers, 10 rules, cost + success scores), p99',
      name: 'ecom router.route()',
      value: percentile(samples, 99),
      unit: 'us',
      higherIsBetter: false,
      ours: true,
      target: '<= 20 us',
      note: `p50 ${percentile(samples, 50).toFixed(2)} us`,
    },
  ]
}

async function checkout(): Promise<BenchRow[]> {
  const a = await startSandbox({ providers: ['stripe'] })
  const b = await startSandbox({ providers: ['stripe'] })
  const { default: Stripe } = await import('stripe')
  const u = new URL(a.url)
  const http = await import('node:http')
  const direct = new Stripe(a.credentials.stripe.apiKey, {
    host: u.hostname, port: Number(u.port), protocol: 'http', maxNetworkRetries: 0,
    httpAgent: new http.Agent({ keepAlive: true }), telemetry: false,
  })
  const stripeA = await createAdapter('stripe', { credentials: a.credentials.stripe, sandboxUrl: a.url, timeoutMs: 5000 })
  const stripeB = renamed(await createAdapter('stripe', { credentials: b.credentials.stripe, sandboxUrl: b.url, timeoutMs: 5000 }), 'square')
  const router = await createRouter({
    config: { providers: { stripe: {}, square: {} }, breaker: { failureThreshold: 3, cooldownMs: 600_000, halfOpenProbes: 1 } },
    adapters: { stripe: stripeA, square: stripeB },
  })
  const method = testCard('visa')
  const N = Number(process.env.ECOM_BENCH_PAYMENTS_N ?? 1500)
  let n = 0
  const viaRouter = async () => {
    const t0 = performance.now()
    const r = await router.sale({ paymentId: `r-${n++}`, amount: { amount: 1999, currency: 'USD' }, method })
    if (r.state !== 'captured') throw new Error(`bench: unexpected ${r.state}`)
    return performance.now() - t0
  }
  const viaSdk = async () => {
    const t0 = performance.now()
    const pi = await direct.paymentIntents.create(
      { amount: 1999, currency: 'usd', payment_method: 'pm_card_visa', payment_method_types: ['card'], confirm: true, metadata: { ecom_payment_id: `d-${n}` } },
      { idempotencyKey: `bench-direct-${n++}` }
    )
    if (pi.status !== 'succeeded') throw new Error('bench: direct sale failed')
    return performance.now() - t0
  }
  for (let i = 0; i < 200; i++) {
    await viaRouter()
    await viaSdk()
  }
  const routed: number[] = []
  const sdk: number[] = []
  for (let i = 0; i < N; i++) {
    // Interleaved so drift (GC, other tenants of the machine) hits both alike.
    routed.push(await viaRouter())
    sdk.push(await viaSdk())
  }
  // Primary outage: the breaker opens after 3 failovers, then checkouts go straight to the secondary.
  a.setFaults('stripe', { outage: true })
  for (let i = 0; i < 3; i++) await viaRouter()
  if (router.breakerState('stripe') !== 'open') throw new Error('bench: breaker did not open')
  const outage: number[] = []
  const healthy: number[] = []
  for (let i = 0; i < 200; i++) await viaRouter()
  for (let i = 0; i < N; i++) outage.push(await viaRouter())
  // Healthy reference for the same path: a fresh router with the same two emulators, no faults.
  a.clearFaults()
  const healthyRouter = await createRouter({ config: { providers: { stripe: {}, square: {} } }, adapters: { stripe: stripeA, square: stripeB } })
  for (let i = 0; i < 200 + N; i++) {
    const t0 = performance.now()
    await healthyRouter.sale({ paymentId: `h-${i}`, amount: { amount: 1999, currency: 'USD' }, method })
    if (i >= 200) healthy.push(performance.now() - t0)
  }
  await router.close()
  await healthyRouter.close()
  await a.close()
  await b.close()
  const p = (xs: number[]) => percentile(xs, 99)
  return [
    { group: 'payments: checkout p99 (sale, Stripe SDK against the sandbox emulator)', name: 'ecom router (ledger + breaker + SDK)', value: p(routed), unit: 'ms', higherIsBetter: false, ours: true, target: '<= 1.1x SDK direct', note: `p50 ${percentile(routed, 50).toFixed(2)} ms, n=${N}` },
    { group: 'payments: checkout p99 (sale, Stripe SDK against the sandbox emulator)', name: 'stripe SDK called directly', value: p(sdk), unit: 'ms', higherIsBetter: false, note: `p50 ${percentile(sdk, 50).toFixed(2)} ms` },
    { group: 'payments: checkout p99 during a primary outage (breaker open) vs healthy', name: 'ecom router, primary down, breaker open', value: p(outage), unit: 'ms', higherIsBetter: false, ours: true, target: '<= 1.5x healthy', note: `p50 ${percentile(outage, 50).toFixed(2)} ms; secondary is Stripe on a second emulator` },
    { group: 'payments: checkout p99 during a primary outage (breaker open) vs healthy', name: 'ecom router, healthy', value: p(healthy), unit: 'ms', higherIsBetter: false, note: `p50 ${percentile(healthy, 50).toFixed(2)} ms` },
  ]
}

export const suite: BenchSuite = {
  area: 'payments',
  async run() {
    return [...(await routingDecision()), ...(await checkout())]
  },
}
