// The example shop: `ecom start examples/shop/index.ts` (or `ecom start examples/shop --sandbox`).
// A default-exported async factory, run once per worker: open the database (migrate + seed once),
// build the search indexes, wire payments, and hand ecom a plain Node request handler, with the close()
// ecom calls once the worker has drained (on stop and on reload).
import { nativeStatus } from 'ecom/native'
import { WorkerPool } from 'ecom/runtime'
import { loadConfig } from './config.js'
import { Checkout } from './checkout.js'
import { Customers, openKeyring } from './customers.js'
import { openDatabase, seedOnce } from './db/open.js'
import { ShopBadRequestError, ShopNotFoundError } from './errors.js'
import { Router, sendJson, type Ctx } from './http.js'
import { importHandler } from './import.js'
import { Notifier } from './notify.js'
import { createPayments } from './payments.js'
import { ProductSearch } from './search.js'
import { Webhooks } from './webhooks.js'

export default async function createShop() {
  const config = loadConfig()
  const orm = await openDatabase(config.databaseUrl)
  const seeded = await seedOnce(orm, config.catalogFile)
  const pool = new WorkerPool({ filename: new URL('./embed-task.ts', import.meta.url), name: 'shop-embed' })
  const search = new ProductSearch(orm, pool)
  await search.rebuild()
  const keyring = await openKeyring(config.dataDir)
  const notifier = new Notifier(orm, config.notifyUrl)
  if (config.workerId === '0') await notifier.redeliver()
  const payments = await createPayments(config, orm)
  const checkout = new Checkout(orm, new Customers(keyring), notifier, payments)
  const webhooks = new Webhooks(orm, payments, notifier, config.publicUrl)

  const router = new Router()
    .on('GET', '/', async ({ res }) =>
      sendJson(res, 200, {
        shop: 'ecom example shop',
        worker: config.workerId,
        catalogVersion: search.version,
        seededByThisWorker: seeded,
        payments: payments ? { providers: payments.order, health: payments.router.health() } : 'not configured (set ECOM_SANDBOX_URL)',
        native: nativeStatus().native,
        routes: ['GET /search?q=', 'GET /products/:id', 'GET /products/:id/similar', 'POST /catalog/import', 'POST /orders', 'GET /orders/:id', 'POST /webhooks/:provider'],
      }),
    )
    .on('GET', '/search', async ({ res, query }) => {
      const mode = query.get('mode') ?? 'keyword'
      if (mode !== 'keyword' && mode !== 'hybrid') throw new ShopBadRequestError(`mode: expected "keyword" or "hybrid", got "${mode}"`)
      const hits = await search.search(query.get('q') ?? '', { k: limit(query), mode })
      sendJson(res, 200, { q: query.get('q'), mode, worker: config.workerId, catalogVersion: search.version, hits })
    })
    .on('GET', '/products/:id', async ({ res, params }) => {
      const row = await orm.repo('Product').findById(productId(params))
      if (!row) throw new ShopNotFoundError(`no product ${params.id}`)
      sendJson(res, 200, row)
    })
    .on('GET', '/products/:id/similar', async ({ res, params, query }) => {
      const id = productId(params)
      sendJson(res, 200, { id, worker: config.workerId, hits: await search.similar(id, limit(query)) })
    })
    .on('POST', '/catalog/import', importHandler(orm, search))
    .on('POST', '/orders', checkout.create)
    .on('GET', '/orders/:id', checkout.get)
    .on('POST', '/webhooks/:provider', webhooks.handle)

  // Called by ecom after the drain: stop the sweeper, let deliveries in flight finish, then free the
  // threads, the keyring's timer and the database connections.
  const close = async (): Promise<void> => {
    await payments?.sweeper?.stop()
    await notifier.close()
    await pool.close()
    keyring.close()
    await orm.close()
  }
  return Object.assign(router.handle, { close })
}

function limit(query: URLSearchParams): number {
  const k = Number(query.get('k') ?? 10)
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new ShopBadRequestError(`k: expected an integer from 1 to 100, got "${query.get('k')}"`)
  return k
}

function productId(params: Ctx['params']): number {
  const id = Number(params.id)
  if (!Number.isSafeInteger(id) || id < 1) throw new ShopNotFoundError(`no product ${params.id}`)
  return id
}
