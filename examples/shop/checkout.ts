// POST /orders and GET /orders/:id. A checkout validates the cart against the catalog, stores the
// customer (PII encrypted) and the order as `pending` in one transaction, then sells through the
// payment router (the order id is the payment id, so a retried checkout can never charge twice), and
// records which provider took the payment. An Idempotency-Key header returns the first answer again.
import type { OrmManager, Row } from 'ecom/orm'
import { OrmUniqueViolationError } from 'ecom/orm'
import { NoEligibleProviderError, type PaymentResult } from 'ecom/payments'
import { validateCustomer, type Customers } from './customers.js'
import { ShopBadRequestError, ShopIdempotencyConflictError, ShopNotFoundError, ShopPaymentsUnavailableError } from './errors.js'
import { readJson, sendJson, type Ctx } from './http.js'
import type { Notifier } from './notify.js'
import { paymentMethod, type Payments } from './payments.js'

interface Line {
  productId: number
  sku: string
  title: string
  quantity: number
  unitCents: number
}

const STATE: Record<string, string> = { captured: 'paid', processing: 'processing', failed: 'failed', authorized: 'authorized' }

export class Checkout {
  constructor(
    readonly orm: OrmManager,
    readonly customers: Customers,
    readonly notifier: Notifier,
    readonly payments: Payments | undefined,
  ) {}

  create = async ({ req, res }: Ctx): Promise<void> => {
    const body = await readJson(req)
    const key = header(req.headers['idempotency-key'])
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) throw new ShopBadRequestError('Idempotency-Key: 1-200 visible ASCII characters')
    if (key) {
      const earlier = await this.orm.repo('Order').findOne({ where: { idempotencyKey: key } })
      if (earlier) return this.#answer(res, earlier, true, body)
    }
    const customer = validateCustomer(body.customer)
    const method = paymentMethod(body.payment)
    const { lines, currency } = await this.#lines(body.items)
    if (!this.payments) throw new ShopPaymentsUnavailableError()
    const totalCents = lines.reduce((s, l) => s + l.unitCents * l.quantity, 0)
    let order: Row
    try {
      order = await this.orm.transaction(async (tx) => {
        const customerId = await this.customers.create(tx, customer)
        return tx.repo('Order').create({ customerId, state: 'pending', items: lines, totalCents, currency, idempotencyKey: key ?? null })
      })
    } catch (err) {
      // Two requests with one key at once: the second finds the first's order.
      const first = err instanceof OrmUniqueViolationError && key ? await this.orm.repo('Order').findOne({ where: { idempotencyKey: key } }) : null
      if (first) return this.#answer(res, first, true, body)
      throw err
    }
    let result: PaymentResult | undefined
    try {
      result = await this.payments.router.sale({
        paymentId: order.id as string,
        amount: { amount: totalCents, currency },
        method,
        description: `shop order ${order.id}`,
        metadata: { orderId: order.id as string },
      })
    } catch (err) {
      if (!(err instanceof NoEligibleProviderError)) throw err
      result = (err.details?.result as PaymentResult | undefined) ?? undefined
    }
    const state = result ? (STATE[result.state] ?? result.state) : 'failed'
    const updated = (await this.orm.repo('Order').update(order.id as string, {
      state,
      provider: result?.provider ?? null,
      providerReference: result?.providerReference ?? null,
      paymentCode: result?.code ?? null,
      updatedAt: new Date(),
    }))!
    if (state === 'paid') {
      await this.notifier.notify(order.id as string, 'order.paid', { totalCents, currency, provider: result?.provider, items: lines })
    }
    this.#answer(res, updated, false)
  }

  get = async ({ res, params }: Ctx): Promise<void> => {
    const order = await this.orm.repo('Order').findById(params.id!)
    if (!order) throw new ShopNotFoundError(`no order ${params.id}`)
    const customer = await this.customers.read(this.orm, order.customerId as string)
    const notifications = await this.notifier.list(order.id as string)
    sendJson(res, 200, { ...view(order), customer, notifications })
  }

  async #lines(items: unknown): Promise<{ lines: Line[]; currency: string }> {
    if (!Array.isArray(items) || items.length === 0 || items.length > 100) throw new ShopBadRequestError('items: expected 1-100 { productId, quantity } entries')
    const problems: string[] = []
    const wanted = items.map((it, i) => {
      const o = (it ?? {}) as Record<string, unknown>
      if (!Number.isSafeInteger(o.productId)) problems.push(`items[${i}].productId: expected a product id`)
      const q = o.quantity ?? 1
      if (!Number.isInteger(q) || (q as number) < 1 || (q as number) > 1000) problems.push(`items[${i}].quantity: expected an integer from 1 to 1000`)
      return { productId: o.productId as number, quantity: q as number }
    })
    if (problems.length) throw new ShopBadRequestError(problems.join('; '), { details: { problems } })
    const rows = await this.orm.repo('Product').findMany({ where: { id: { in: wanted.map((w) => w.productId) } } })
    const byId = new Map(rows.map((r) => [r.id as number, r]))
    const lines = wanted.map((w, i) => {
      const p = byId.get(w.productId)
      if (!p) problems.push(`items[${i}].productId: no product ${w.productId}`)
      return p ? { productId: w.productId, sku: p.sku as string, title: p.title as string, quantity: w.quantity, unitCents: p.priceCents as number } : undefined
    })
    if (problems.length) throw new ShopBadRequestError(problems.join('; '), { details: { problems } })
    const currencies = new Set(wanted.map((w) => byId.get(w.productId)!.currency as string))
    if (currencies.size > 1) throw new ShopBadRequestError(`items: one currency per order, got ${[...currencies].join(', ')}`)
    return { lines: lines as Line[], currency: [...currencies][0]! }
  }

  #answer(res: Ctx['res'], order: Row, replayed: boolean, body?: Record<string, unknown>): void {
    // A key reused with another cart is refused rather than answered with the wrong order.
    if (replayed && body && Array.isArray(body.items)) {
      const same = JSON.stringify((body.items as Array<Record<string, unknown>>).map((i) => [i.productId, i.quantity ?? 1])) ===
        JSON.stringify((order.items as Line[]).map((l) => [l.productId, l.quantity]))
      if (!same) throw new ShopIdempotencyConflictError(undefined, { details: { orderId: order.id } })
    }
    const status = order.state === 'failed' ? 402 : order.state === 'paid' ? (replayed ? 200 : 201) : 202
    sendJson(res, status, { ...view(order), replayed })
  }
}

function view(o: Row) {
  return {
    id: o.id,
    state: o.state,
    provider: o.provider,
    paymentCode: o.paymentCode,
    totalCents: o.totalCents,
    refundedCents: o.refundedCents,
    currency: o.currency,
    items: o.items,
    createdAt: o.createdAt,
  }
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)
