/**
 * The ledger store conformance suite on the ORM store: through the ORM layer's public API
 * (`ecom/orm`: defineSchema, migrate, OrmManager) on SQLite always, on PostgreSQL and MariaDB when
 * ECOM_TEST_POSTGRES_URL / ECOM_TEST_MARIADB_URL are set. Plus a router that records through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrmStore, ledgerModels } from '../../../src/payments/ledger/orm-store.js'
import type { LedgerStore } from '../../../src/payments/ledger/types.js'
import { createAdapter as createPaymentAdapter } from '../../../src/payments/providers/index.js'
import { createRouter } from '../../../src/payments/router/router.js'
import { startSandbox } from '../../../src/payments/sandbox/server.js'
import { testCard } from '../../../src/payments/sandbox/test-cards.js'
import { createAdapter, defineSchema, initialMigration, migrate, OrmManager, type OrmName } from '../../../src/public/orm.js'
import { ledgerStoreConformance } from '../../conformance/ledger-store.js'
import { freshDb, skipReason, type DbKind, type RawDb } from '../../orm/helpers/raw.js'

// The ledger's models beside an app model of its own: the ledger lives in the project's schema.
const schema = defineSchema({
  models: {
    ...ledgerModels(),
    Product: { fields: { id: { type: 'int', primaryKey: true }, name: { type: 'string' } } },
  },
})

async function manager(url: string, orm: OrmName): Promise<OrmManager> {
  const m = new OrmManager({ schema, adapters: { [orm]: createAdapter(schema, { orm, url }) } })
  await m.connect()
  return m
}

// Drizzle and Sequelize on every database, Prisma on SQLite. The ledger's camelCase fields live in
// snake_case columns (updated_at, winning_attempt, …), so every transition exercises the adapters'
// field-to-column mapping in updateMany's SET and WHERE.
const CASES: Array<[DbKind, OrmName]> = [
  ['sqlite', 'drizzle'],
  ['sqlite', 'prisma'],
  ['sqlite', 'sequelize'],
  ['postgres', 'drizzle'],
  ['postgres', 'sequelize'],
  ['mariadb', 'drizzle'],
  ['mariadb', 'sequelize'],
]

for (const [kind, orm] of CASES) {
  const skip = skipReason(kind)
  if (skip) console.warn(`[ledger orm store] ${skip}`)
  describe.skipIf(Boolean(skip))(`ledger store conformance: orm store (${orm} on ${kind})`, () => {
    let db: RawDb
    let orms: OrmManager
    let store: LedgerStore
    beforeAll(async () => {
      db = await freshDb(kind, `ecom_ledger_${orm}`)
      await migrate(db.url, [initialMigration(schema)])
      orms = await manager(db.url, orm)
      store = createOrmStore({ orm: orms })
    })
    afterAll(async () => {
      await orms?.close()
      await db?.close()
    })
    ledgerStoreConformance({
      store: () => store,
      reopen: async () => createOrmStore({ orm: await manager(db.url, orm), closeManager: true }),
    })

    if (kind === 'sqlite' && orm === 'drizzle') {
      it('router: createRouter({ orm }) records every payment and attempt in the ORM tables before calling the provider', async () => {
        const sb = await startSandbox({ providers: ['stripe'] })
        try {
          const stripe = await createPaymentAdapter('stripe', { credentials: sb.credentials.stripe, sandboxUrl: sb.url })
          const router = await createRouter({ config: { providers: { stripe: {} } }, adapters: { stripe }, orm: orms })
          sb.setFaults('stripe', { outage: true })
          const down = await router.sale({ paymentId: 'orm-down', amount: { amount: 700, currency: 'USD' }, method: testCard('visa') })
          expect(down.state).toBe('failed')
          sb.clearFaults('stripe')
          const ok = await router.sale({ paymentId: 'orm-ok', amount: { amount: 700, currency: 'USD' }, method: testCard('visa') })
          expect(ok.state).toBe('captured')
          // Read through the plain driver: the rows are really in the ORM's tables.
          const rows = await db.query(`SELECT id, state, captured FROM ecom_payments WHERE id IN ('orm-down', 'orm-ok') ORDER BY id`)
          expect(rows.map((r) => [r.id, r.state, Number(r.captured)])).toEqual([['orm-down', 'failed', 0], ['orm-ok', 'captured', 700]])
          const attempts = await db.query(`SELECT payment_id, state FROM ecom_payment_attempts WHERE payment_id = 'orm-down'`)
          // The failed call was recorded (the provider refused it: nothing ran, and the ledger knows it was tried).
          expect(attempts.map((a) => a.state)).toEqual(['failed'])
        } finally {
          await sb.close()
        }
      })
    }
  })
}

describe('orm store options', () => {
  it('refuses a manager whose schema lacks the ledger models, at construction', () => {
    const other = defineSchema({ models: { Product: { fields: { id: { type: 'int', primaryKey: true } } } } })
    const m = new OrmManager({ schema: other, adapters: { drizzle: createAdapter(other, { orm: 'drizzle', url: 'file::memory:' }) } })
    expect(() => createOrmStore({ orm: m })).toThrow(expect.objectContaining({ code: 'ECOM_ERR_ORM_VALIDATION' }))
    expect(() => ledgerModels({ prefix: 'bad-prefix' })).toThrow(expect.objectContaining({ code: 'ECOM_ERR_INVALID_OPTION' }))
  })
})
