// The example shop end to end, started the way `npm start` starts it: the real CLI serves the
// examples/shop directory on two workers with the payment sandbox as its supervised sidecar, its
// webhooks delivered to /webhooks/{provider}, plus a notification receiver this test runs. Asserts what a user would
// see: search, checkout, failover during a provider outage (charged exactly once), NDJSON import
// seen by both workers, webhooks verified and applied, PII encrypted at rest.
import { readFileSync, readdirSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SANDBOX_CREDENTIALS } from '../../src/payments/sandbox/server.js'
import { freePort } from '../helpers/cli.js'
import { get, isolatedEnv, startApp, status, waitFor, type Running } from './start-harness.js'
import { tempDir } from '../helpers/temp-dir.js'

const ENTRY = fileURLToPath(new URL('../../examples/shop', import.meta.url))
const dataDir = tempDir('shop-e2e')
let shop: Running
let sandbox: { url: string }
let receiver: Server
const received: Array<Record<string, unknown>> = []

const json = <T = any>(r: { body: string }): T => JSON.parse(r.body) as T
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  get(`${shop.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } })
const customer = (tag: string) => ({ name: `Ann ${tag}`, email: `ann.${tag}@example.com`, address: `${tag} Harbour Road` })
const order = (productId: number, tag: string, card = 'visa') => ({ items: [{ productId, quantity: 2 }], customer: customer(tag), payment: { card } })
const sandboxPayments = async () => (await (await fetch(`${sandbox.url}/__admin/payments`)).json()) as { payments: Array<{ provider: string; paymentId: string; reference: string; captured: number }> }

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push({ ...(JSON.parse(body) as object), idempotencyKey: req.headers['idempotency-key'] })
      res.end('ok')
    })
  })
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r))
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/orders`
  const env = { ...isolatedEnv(), ECOM_SHOP_DATA_DIR: dataDir, ECOM_SHOP_NOTIFY_URL: notifyUrl }
  shop = await startApp([ENTRY, '--workers', '2', '--sandbox', '--sandbox-webhooks', '/webhooks/{provider}'], env, { workers: 2, port: await freePort() })
  const sidecar = ((await status(shop)) as unknown as { sandbox: { url: string; state: string } }).sandbox
  expect(sidecar.state).toBe('running')
  sandbox = sidecar
}, 120_000)

afterAll(async () => {
  await shop?.stop()
  receiver?.close()
})

describe('examples/shop through `ecom start`', () => {
  it('seeds the sample catalog exactly once although two workers started together', () => {
    const db = new Database(join(dataDir, 'shop.db'), { readonly: true })
    try {
      expect(db.prepare("SELECT count(*) AS n FROM shop_products WHERE sku LIKE 'SKU-%'").get()).toEqual({ n: 200 })
      expect(db.prepare("SELECT value FROM shop_meta WHERE key = 'catalog_version'").get()).toEqual({ value: 1 })
    } finally {
      db.close()
    }
  })

  it('searches by keyword (BM25) and finds similar products through the vector index', async () => {
    const r = await get(`${shop.url}/search?q=${encodeURIComponent('red running shoe')}&k=5`)
    expect(r.status).toBe(200)
    const hits = json(r).hits as Array<{ id: number; title: string }>
    expect(hits.length).toBe(5)
    expect(hits[0]!.title).toMatch(/red running shoe$/)
    const sim = json(await get(`${shop.url}/products/${hits[0]!.id}/similar?k=5`)).hits as Array<{ id: number; category: string; title: string }>
    expect(sim).toHaveLength(5)
    expect(sim.map((h) => h.id)).not.toContain(hits[0]!.id)
    expect(sim[0]!.title).toMatch(/shoe|sneaker|boot|sandal/)
    const bad = await get(`${shop.url}/search?q=`)
    expect([bad.status, json(bad).error.code]).toEqual([400, 'ECOM_ERR_SHOP_BAD_REQUEST'])
  })

  it('checks out through the preferred provider, stores the order and notifies through the HTTP client', async () => {
    const r = await post('/orders', order(5, 'first'))
    expect(r.status).toBe(201)
    const o = json(r)
    expect(o).toMatchObject({ state: 'paid', provider: 'stripe', currency: 'USD' })
    const got = json(await get(`${shop.url}/orders/${o.id}`))
    expect(got.customer).toEqual(customer('first'))
    const pays = (await sandboxPayments()).payments.filter((p) => p.paymentId === o.id)
    expect(pays).toEqual([expect.objectContaining({ provider: 'stripe', captured: o.totalCents })])
    await waitFor(async () => received.some((n) => n.orderId === o.id))
    expect(received.find((n) => n.orderId === o.id)).toMatchObject({ event: 'order.paid', totalCents: o.totalCents, idempotencyKey: expect.stringMatching(/^shop-notification-/) })
    expect(JSON.stringify(received)).not.toContain('ann.first@example.com')
    const delivered = await waitFor(async () => {
      const n = json(await get(`${shop.url}/orders/${o.id}`)).notifications as Array<{ state: string }>
      return n[0]?.state === 'delivered' && n
    })
    expect(delivered).toHaveLength(1)
  })

  it('pays through another provider while the preferred one is down, charging exactly once', async () => {
    const f = await fetch(`${sandbox.url}/__admin/faults/stripe`, { method: 'POST', body: JSON.stringify({ outage: true }) })
    expect(f.status).toBe(200)
    try {
      const r = await post('/orders', order(7, 'outage'))
      expect(r.status).toBe(201)
      const o = json(r)
      expect(o.state).toBe('paid')
      expect(o.provider).not.toBe('stripe')
      const pays = (await sandboxPayments()).payments.filter((p) => p.paymentId === o.id)
      expect(pays).toEqual([expect.objectContaining({ provider: o.provider, captured: o.totalCents })])
    } finally {
      await fetch(`${sandbox.url}/__admin/faults`, { method: 'DELETE' })
    }
  })

  it('answers a repeated Idempotency-Key with the first order and never charges twice', async () => {
    const body = order(9, 'idem')
    const a = await post('/orders', body, { 'idempotency-key': 'shop-e2e-idem-1' })
    const b = await post('/orders', body, { 'idempotency-key': 'shop-e2e-idem-1' })
    expect(a.status).toBe(201)
    expect(b.status).toBe(200)
    expect(json(b)).toMatchObject({ id: json(a).id, replayed: true })
    expect((await sandboxPayments()).payments.filter((p) => p.paymentId === json(a).id)).toHaveLength(1)
    const other = await post('/orders', order(10, 'idem'), { 'idempotency-key': 'shop-e2e-idem-1' })
    expect([other.status, json(other).error.code]).toEqual([409, 'ECOM_ERR_SHOP_IDEMPOTENCY_CONFLICT'])
  })

  it('imports an NDJSON catalog with progress, and both workers find the new products', async () => {
    const lines = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({ sku: `KAYAK-${i}`, title: `Zephyrine kayak paddle ${i}`, brand: 'Zephyrine', category: 'water', description: 'carbon blade', priceCents: 1000 + i, currency: 'USD', tags: ['kayak'] }),
    )
    const r = await post('/catalog/import', lines.join('\n') + '\n', { accept: 'application/x-ndjson', 'content-type': 'application/x-ndjson' })
    expect(r.status).toBe(200)
    const events = r.body.trim().split('\n').map((l) => JSON.parse(l) as { phase: string; [k: string]: unknown })
    expect(events.map((e) => e.phase)).toEqual(expect.arrayContaining(['parsed', 'writing', 'indexing', 'done']))
    expect(events.at(-1)).toMatchObject({ phase: 'done', lines: 1200, created: 1200, updated: 0 })
    const seen = new Set<string>()
    await waitFor(async () => {
      const s = json(await get(`${shop.url}/search?q=zephyrine&k=3`))
      if ((s.hits as Array<{ sku: string }>)[0]?.sku.startsWith('KAYAK-')) seen.add(s.worker as string)
      return seen.size === 2
    })
    expect([...seen].sort()).toEqual(['0', '1'])
  })

  it('refuses an import with bad lines, naming each line, and writes nothing', async () => {
    const body = [
      JSON.stringify({ sku: 'GOOD-1', title: 'Quuxly lamp', priceCents: 100 }),
      JSON.stringify({ sku: 'BAD 2', title: 'Quuxly chair', priceCents: 5 }),
      '{not json',
      JSON.stringify({ sku: 'GOOD-1', title: 'Quuxly again', priceCents: 100 }),
    ].join('\n')
    const r = await post('/catalog/import', body)
    expect(r.status).toBe(422)
    const err = json(r).error
    expect(err.code).toBe('ECOM_ERR_SHOP_IMPORT')
    expect(err.details.problems.map((p: { line: number; code: string }) => [p.line, p.code])).toEqual([
      [2, 'ECOM_ERR_SHOP_IMPORT_FIELD'],
      [3, 'ECOM_ERR_SHOP_IMPORT_JSON'],
      [4, 'ECOM_ERR_SHOP_IMPORT_DUPLICATE'],
    ])
    expect(json(await get(`${shop.url}/search?q=quuxly`)).hits).toEqual([])
  })

  it('rejects a forged webhook and applies a real one to its order', async () => {
    const forged = await post('/webhooks/stripe', { id: 'evt_forged', type: 'charge.refunded' }, { 'stripe-signature': 't=1,v1=00' })
    expect([forged.status, json(forged).error.code]).toEqual([400, 'ECOM_ERR_PAYMENTS_WEBHOOK_SIGNATURE'])
    const o = json(await post('/orders', order(11, 'refund')))
    expect(o).toMatchObject({ state: 'paid', provider: 'stripe' })
    // Refunded from the provider's side (its dashboard, say): the shop learns it only by webhook.
    const ref = (await sandboxPayments()).payments.find((p) => p.paymentId === o.id)!.reference
    const refund = await fetch(`${sandbox.url}/v1/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SANDBOX_CREDENTIALS.stripe.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: `payment_intent=${ref}`,
    })
    expect(refund.status).toBe(200)
    const after = await waitFor(async () => {
      const g = json(await get(`${shop.url}/orders/${o.id}`))
      return g.state === 'refunded' && g
    })
    expect(after.refundedCents).toBe(o.totalCents)
  })

  it('keeps customer PII encrypted at rest and out of the logs', () => {
    const files = readdirSync(dataDir).filter((f) => f.startsWith('shop.db'))
    const bytes = Buffer.concat(files.map((f) => readFileSync(join(dataDir, f))))
    for (const tag of ['first', 'outage', 'refund']) {
      for (const v of Object.values(customer(tag))) expect(bytes.includes(Buffer.from(v))).toBe(false)
    }
    const db = new Database(join(dataDir, 'shop.db'), { readonly: true })
    try {
      const rows = db.prepare('SELECT name_enc, email_enc FROM shop_customers').all() as Array<{ name_enc: string; email_enc: string }>
      expect(rows.length).toBeGreaterThanOrEqual(3)
      for (const r of rows) expect(r.email_enc).toMatch(/^[A-Za-z0-9_-]{40,}$/)
    } finally {
      db.close()
    }
    expect(shop.child.output()).not.toContain('@example.com')
  })

  // Last: it stops the shop.
  it('stops on SIGTERM with exit 0, each worker closing the shop (its close(): sweeper, outbox, pool, database) without a failure', async () => {
    expect((await shop.stop()).code).toBe(0)
    expect(shop.child.output()).not.toContain("close() failed")
    expect(shop.child.output()).not.toContain("close() did not finish")
  })
})
