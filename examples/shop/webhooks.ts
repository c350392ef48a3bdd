// POST /webhooks/:provider: the provider's signature is checked by its adapter (the official SDK's
// verification where it has one), through the router, which also settles a payment the event
// resolves. The event is then applied to its order once (providers deliver at least once), and only
// when it comes from the provider the checkout recorded for the order.
// A forged or unparseable webhook is answered 400 with the payments error's code.
import type { IncomingMessage } from 'node:http'
import type { OrmManager, Row } from 'ecom/orm'
import { OrmUniqueViolationError } from 'ecom/orm'
import { PROVIDER_NAMES, type NormalizedEvent, type ProviderName } from 'ecom/payments'
import { ShopNotFoundError, ShopPaymentsUnavailableError } from './errors.js'
import { readBody, sendJson, type Ctx } from './http.js'
import type { Notifier } from './notify.js'
import type { Payments } from './payments.js'

/** What each event does to an order in a given state; other combinations leave it as it is. */
function nextState(order: Row, e: NormalizedEvent): { state: string; refundedCents?: number } | undefined {
  const s = order.state as string
  switch (e.type) {
    case 'payment.captured':
      return s === 'pending' || s === 'processing' || s === 'authorized' ? { state: 'paid' } : undefined
    case 'payment.failed':
      return s === 'pending' || s === 'processing' ? { state: 'failed' } : undefined
    case 'payment.voided':
      return s === 'authorized' || s === 'processing' ? { state: 'voided' } : undefined
    case 'payment.refunded': {
      if (s !== 'paid' && s !== 'partially_refunded') return undefined
      // Stripe's charge.refunded carries the total refunded so far; others the amount of this refund.
      const total = order.totalCents as number
      const refunded = e.provider === 'stripe' ? (e.amount?.amount ?? total) : Math.min(total, (order.refundedCents as number) + (e.amount?.amount ?? total))
      return { state: refunded >= total ? 'refunded' : 'partially_refunded', refundedCents: refunded }
    }
    default:
      return undefined
  }
}

export class Webhooks {
  constructor(
    readonly orm: OrmManager,
    readonly payments: Payments | undefined,
    readonly notifier: Notifier,
    readonly publicUrl: string | undefined,
  ) {}

  handle = async ({ req, res, params }: Ctx): Promise<void> => {
    const provider = params.provider as ProviderName
    if (!PROVIDER_NAMES.includes(provider)) throw new ShopNotFoundError(`no webhook route for provider "${params.provider}"`)
    if (!this.payments) throw new ShopPaymentsUnavailableError()
    const raw = await readBody(req)
    // Square signs the notification URL with the body: the URL the provider was told to call.
    const event = await this.payments.router.handleWebhook(provider, raw, req.headers, this.#url(req))
    const applied = await this.#apply(event)
    sendJson(res, 200, { received: event.id, type: event.type, ...applied })
  }

  #url(req: IncomingMessage): string {
    const origin = this.publicUrl ?? `http://${req.headers.host ?? '127.0.0.1'}`
    return `${origin}${req.url ?? ''}`
  }

  async #apply(e: NormalizedEvent): Promise<{ orderId?: string; applied: boolean; state?: string }> {
    const order = await this.#order(e)
    if (!order) return { applied: false }
    const orderId = order.id as string
    // Until the checkout has recorded which provider took the payment, the router's answer decides the
    // order: an event from an attempt it failed over from (or one racing its answer) must not move it,
    // nor be consumed, so a redelivery after the checkout still applies.
    if (order.provider !== e.provider) return { orderId, applied: false, state: order.state as string }
    try {
      // Recording the event id first makes a redelivery a no-op (unique primary key).
      await this.orm.repo('WebhookEvent').create({ id: `${e.provider}:${e.id}`, provider: e.provider, type: e.type, orderId })
    } catch (err) {
      if (err instanceof OrmUniqueViolationError) return { orderId, applied: false, state: order.state as string }
      throw err
    }
    const next = nextState(order, e)
    if (!next) return { orderId, applied: false, state: order.state as string }
    // Conditional on the state we read, so a concurrent change is not overwritten.
    const n = await this.orm.repo('Order').updateMany({ id: orderId, state: order.state }, { ...next, updatedAt: new Date() })
    if (n && next.state === 'paid') {
      await this.notifier.notify(orderId, 'order.paid', { totalCents: order.totalCents, currency: order.currency, provider: e.provider })
    }
    return { orderId, applied: n > 0, state: n ? next.state : (order.state as string) }
  }

  async #order(e: NormalizedEvent): Promise<Row | null> {
    const repo = this.orm.repo('Order')
    if (e.paymentId && /^[0-9a-f-]{36}$/.test(e.paymentId)) {
      const o = await repo.findById(e.paymentId)
      if (o) return o
    }
    return e.providerReference ? repo.findOne({ where: { providerReference: e.providerReference } }) : null
  }
}
