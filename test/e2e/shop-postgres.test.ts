// The example shop on PostgreSQL (ECOM_SHOP_DATABASE_URL): two workers create, migrate and seed one
// new schema at once (seeded exactly once), and a checkout records its order and ledger rows there.
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandbox, type Sandbox } from '../../src/payments/sandbox/server.js'
import { get, isolatedEnv, startApp, type Running } from './start-harness.js'
import { tempDir } from '../helpers/temp-dir.js'

const PG = process.env.ECOM_TEST_POSTGRES_URL
if (!PG) console.warn('skipping the shop on PostgreSQL: ECOM_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)')
const ENTRY = fileURLToPath(new URL('../../examples/shop/index.ts', import.meta.url))
const SCHEMA = `ecom_shop_e2e_${process.pid}`

describe.runIf(PG)('examples/shop on PostgreSQL', () => {
  let shop: Running
  let sandbox: Sandbox
  let client: pg.Client

  beforeAll(async () => {
    client = new pg.Client({ connectionString: PG })
    await client.connect()
    sandbox = await startSandbox()
    const env = {
      ...isolatedEnv(),
      ECOM_SHOP_DATA_DIR: tempDir('shop-pg'),
      ECOM_SHOP_DATABASE_URL: `${PG}?schema=${SCHEMA}`,
      ECOM_SANDBOX_URL: sandbox.url,
    }
    shop = await startApp([ENTRY, '--workers', '2'], env, { workers: 2 })
  }, 120_000)

  afterAll(async () => {
    await shop?.stop()
    await sandbox?.close()
    await client?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
    await client?.end()
  })

  it('seeds once, searches and checks out', async () => {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.shop_products`)
    expect(rows[0].n).toBe(200)
    const s = JSON.parse((await get(`${shop.url}/search?q=teapot&k=1`)).body)
    expect(s.hits[0].title).toMatch(/teapot/)
    const r = await get(`${shop.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items: [{ productId: s.hits[0].id }], customer: { name: 'Pat', email: 'pat@example.com', address: '3 Quay' }, payment: { card: 'visa' } }),
    })
    expect(r.status).toBe(201)
    const o = JSON.parse(r.body)
    const ledger = await client.query(`SELECT state FROM ${SCHEMA}.shop_payments WHERE id = $1`, [o.id])
    expect(ledger.rows).toEqual([{ state: 'captured' }])
    const cust = await client.query(`SELECT email_enc FROM ${SCHEMA}.shop_customers`)
    expect(cust.rows[0].email_enc).not.toContain('pat@example.com')
  })
})
