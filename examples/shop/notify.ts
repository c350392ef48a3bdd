// Outbound order notifications through the pooled HttpClient (keep-alive pool per origin, retries
// with an Idempotency-Key, circuit breaker). Every notification is first a row in the outbox table,
// written with the order change; without ECOM_SHOP_NOTIFY_URL it stays there as `stored`.
// States: stored (no URL) | pending → sending → delivered | failed (lastError says why).
import type { OrmManager } from 'ecom/orm'
import { HttpClient } from 'ecom/runtime'

export interface NotificationRow {
  id: number
  orderId: string
  event: string
  state: string
  attempts: number
  lastError: string | null
}

export class Notifier {
  readonly #client: HttpClient | undefined
  readonly #inflight = new Set<Promise<void>>()

  constructor(
    readonly orm: OrmManager,
    readonly url: string | undefined,
    client?: HttpClient,
  ) {
    this.#client = url ? (client ?? new HttpClient({ retries: 2, retryDelay: 200 })) : undefined
  }

  /** Records the notification and starts its delivery (not awaited: the order answer does not wait). */
  async notify(orderId: string, event: string, payload: Record<string, unknown>): Promise<number> {
    const row = await this.orm.repo('Notification').create({ orderId, event, payload, state: this.url ? 'pending' : 'stored' })
    const id = row.id as number
    if (this.url) this.#track(this.deliver(id))
    return id
  }

  /** Delivers one pending notification; the claim (pending → sending) keeps two workers from both sending it. */
  async deliver(id: number): Promise<void> {
    const claimed = await this.orm.repo('Notification').updateMany({ id, state: { in: ['pending', 'failed'] } }, { state: 'sending' })
    if (!claimed || !this.#client || !this.url) return
    const row = await this.orm.repo('Notification').findById(id)
    if (!row) return
    const body = JSON.stringify({ id, event: row.event, orderId: row.orderId, ...(row.payload as object) })
    let state = 'delivered'
    let lastError: string | null = null
    try {
      const res = await this.#client.request(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        idempotencyKey: `shop-notification-${id}`,
      })
      if (res.statusCode >= 300) {
        state = 'failed'
        lastError = `HTTP ${res.statusCode}`
      }
    } catch (err) {
      state = 'failed'
      lastError = `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}`
    }
    await this.orm.repo('Notification').update(id, { state, lastError })
    await this.orm.repo('Notification').increment({ id }, { attempts: 1 })
  }

  /** Retries what an earlier run left pending or failed (called by one worker at start). */
  async redeliver(limit = 100): Promise<void> {
    if (!this.url) return
    const rows = await this.orm.repo('Notification').findMany({ where: { state: { in: ['pending', 'failed'] } }, orderBy: { id: 'asc' }, limit, select: ['id'] })
    for (const r of rows) this.#track(this.deliver(r.id as number))
  }

  async list(orderId: string): Promise<NotificationRow[]> {
    const rows = await this.orm.repo('Notification').findMany({ where: { orderId }, orderBy: { id: 'asc' }, select: ['id', 'orderId', 'event', 'state', 'attempts', 'lastError'] })
    return rows as unknown as NotificationRow[]
  }

  #track(p: Promise<void>): void {
    const q = p.catch(() => {}).finally(() => this.#inflight.delete(q))
    this.#inflight.add(q)
  }

  /** Waits for deliveries in flight, then closes the client. */
  async close(): Promise<void> {
    await Promise.all(this.#inflight)
    await this.#client?.close()
  }
}
