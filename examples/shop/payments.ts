// The payment side: one adapter per sandbox provider (each on its official SDK, pointed at
// ECOM_SANDBOX_URL with the sandbox's test credentials), a router with the `priority` strategy
// (the preferred provider first, the others as failover) and its ledger on the shop's own ORM
// layer, so every worker and the webhook handler share one ledger in the shop's database.
import type { OrmManager } from 'ecom/orm'
import {
  PROVIDER_NAMES,
  SANDBOX_CREDENTIALS,
  Sweeper,
  createAdapter,
  createRouter,
  testCard,
  TEST_CARDS,
  type PaymentAdapter,
  type PaymentMethod,
  type PaymentRouter,
  type ProviderName,
  type TestCardKind,
} from 'ecom/payments'
import type { ShopConfig } from './config.js'
import { ShopBadRequestError } from './errors.js'

export interface Payments {
  router: PaymentRouter
  sweeper: Sweeper | undefined
  /** Providers in the order checkout tries them. */
  order: ProviderName[]
}

/** undefined when no sandbox is configured: checkout then answers ECOM_ERR_SHOP_PAYMENTS_UNCONFIGURED. */
export async function createPayments(config: ShopConfig, orm: OrmManager): Promise<Payments | undefined> {
  if (!config.sandboxUrl) return undefined
  const order = [config.preferredProvider, ...PROVIDER_NAMES.filter((p) => p !== config.preferredProvider)]
  const adapters: Partial<Record<ProviderName, PaymentAdapter>> = {}
  for (const p of order) {
    adapters[p] = await createAdapter(p, { credentials: SANDBOX_CREDENTIALS[p] as never, sandboxUrl: config.sandboxUrl, timeoutMs: 10_000 })
  }
  const router = await createRouter({
    config: {
      providers: Object.fromEntries(order.map((p, i) => [p, { priority: i }])),
      strategy: 'priority',
      failover: { maxAttempts: order.length },
      // A provider that keeps failing is skipped for a while instead of being tried first each time.
      breaker: { failureThreshold: 3, cooldownMs: 15_000 },
    },
    adapters,
    orm,
  })
  // One sweeper per cluster is enough (ledger updates are conditional, so more would be safe too).
  const sweeper = config.workerId === '0' ? new Sweeper(router, { intervalMs: 5000 }).start() : undefined
  return { router, sweeper, order }
}

/**
 * The payment method of a checkout: a sandbox test card by kind (`{ "card": "visa" }`), which carries
 * each provider's published test token, or explicit per-provider tokens (`{ "tokens": { … } }`).
 */
export function paymentMethod(v: unknown): PaymentMethod {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>
  if (typeof o.card === 'string') {
    if (!(o.card in TEST_CARDS)) {
      throw new ShopBadRequestError(`payment.card: expected a sandbox test card (${Object.keys(TEST_CARDS).join(', ')}), got "${o.card}"`)
    }
    return testCard(o.card as TestCardKind)
  }
  if (typeof o.tokens === 'object' && o.tokens !== null && Object.keys(o.tokens).every((k) => PROVIDER_NAMES.includes(k as ProviderName))) {
    return { type: 'card', tokens: o.tokens as PaymentMethod['tokens'] }
  }
  throw new ShopBadRequestError('payment: expected { "card": "<test card kind>" } or { "tokens": { "<provider>": <token> } }')
}
