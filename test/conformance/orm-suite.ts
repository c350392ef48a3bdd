// The ORM conformance suite: the same named cases for every adapter on one database. Persistence is
// checked through the plain driver (test/orm/helpers/raw.ts), never through the adapter under test.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createAdapter,
  initialMigration,
  migrate,
  OrmManager,
  type OrmAdapter,
  type OrmName,
  type Row,
} from '../../src/public/orm.js'
import { getRegistry } from '../../src/runtime/metrics.js'
import { shopSchema } from '../fixtures/orm/shop-schema.js'
import { freshDb, skipReason, type DbKind, type RawDb } from '../orm/helpers/raw.js'
import { startProxy } from '../orm/helpers/proxy.js'

const ORMS: OrmName[] = ['prisma', 'sequelize', 'drizzle']

const INJECTIONS = [
  "Robert'); DROP TABLE customer; --",
  '" OR 1=1 --',
  "' OR '1'='1",
  'back\\slash\\',
  '100% _sure_',
  '`tick` $1 ?',
  'ünïcødé ✓ 😀',
]

function rawJson(v: unknown): unknown {
  return typeof v === 'string' ? JSON.parse(v) : v
}

/** A stored timestamp in epoch ms: SQLite keeps ms, pg gives a Date, MariaDB's DATETIME text is UTC. */
function rawTime(v: unknown): number {
  if (v instanceof Date) return v.getTime()
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\d \d/.test(v)) return new Date(`${v.replace(' ', 'T')}Z`).getTime()
  return Number(v)
}

function rawBool(v: unknown): boolean {
  return v === true || v === 1 || v === 1n || v === '1'
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded: ${(err as Error).message}`
  }
  return 'no error'
}

/** Count adapter calls while fn runs: validation must throw before any. */
async function adapterCalls(fn: () => Promise<unknown>): Promise<{ calls: number; code: string }> {
  let calls = 0
  const on = (): void => void calls++
  subscribe('ecom:orm:query', on)
  try {
    return { code: await codeOf(fn()), calls }
  } finally {
    unsubscribe('ecom:orm:query', on)
  }
}

export function ormConformance(kind: DbKind): void {
  const reason = skipReason(kind)
  if (reason) console.warn(reason)

  describe.skipIf(reason !== undefined)(`ORM conformance on ${kind}`, () => {
    let raw: RawDb
    const T = { customer: 'customer', product: 'product', order: 'shop_order', shipment: 'shipment' }

    beforeAll(async () => {
      raw = await freshDb(kind, `ecom_orm_conf_${kind}`)
      await migrate(raw.url, [initialMigration(shopSchema)])
    })
    afterAll(async () => {
      await raw?.close()
    })

    const clear = async (): Promise<void> => {
      for (const t of [T.shipment, T.order, T.product, T.customer]) await raw.query(`DELETE FROM ${raw.q(t)}`)
    }
    const rawRows = (table: string, where = '', params: unknown[] = []): Promise<Array<Record<string, unknown>>> =>
      raw.query(`SELECT * FROM ${raw.q(table)}${where ? ` WHERE ${where}` : ''} ORDER BY ${raw.q('id')}`, params)
    /** Shipment rows by their snake_case columns, in key order. */
    const rawShipments = (): Promise<Array<Record<string, unknown>>> => raw.query(`SELECT * FROM ${raw.q(T.shipment)} ORDER BY ${raw.q('shipment_id')}`)
    const rawCount = async (table: string): Promise<number> => Number((await raw.query(`SELECT COUNT(*) AS n FROM ${raw.q(table)}`))[0]!.n)

    for (const orm of ORMS) {
      describe(`${orm} on ${kind}`, () => {
        let manager: OrmManager
        const customers = () => manager.repo('Customer')
        const products = () => manager.repo('Product')
        const orders = () => manager.repo('Order')

        beforeAll(async () => {
          manager = new OrmManager({ schema: shopSchema, adapters: { [orm]: createAdapter(shopSchema, { orm, url: raw.url }) } })
          await manager.connect()
        })
        afterAll(async () => {
          await manager?.close()
        })
        beforeEach(clear)

        const ann = (extra: Row = {}): Row => ({ email: 'ann@example.com', name: 'Ann', ...extra })

        it('create: returns the row with its generated key and defaults, and the database holds it', async () => {
          const before = Date.now()
          const c = await customers().create(ann())
          expect(typeof c.id).toBe('number')
          expect(c).toMatchObject({ email: 'ann@example.com', name: 'Ann', nickname: null, vip: false, balance: 0, visits: 0n, prefs: null })
          expect(c.createdAt).toBeInstanceOf(Date)
          expect((c.createdAt as Date).getTime()).toBeGreaterThanOrEqual(before - 1)
          expect(c.ref).toMatch(/^[0-9a-f-]{36}$/)
          const [r] = await rawRows(T.customer)
          expect(Number(r!.id)).toBe(c.id)
          expect(r!.email).toBe('ann@example.com')
          expect(r!.nickname).toBeNull()
          expect(rawBool(r!.vip)).toBe(false)
          expect(rawTime(r!.created_at)).toBe((c.createdAt as Date).getTime())
          expect(String(r!.ref)).toBe(c.ref)
        })

        it('types: every field type round-trips exactly and is stored as the same value', async () => {
          const at = new Date('2024-02-29T13:14:15.678Z')
          const prefs = { theme: 'dark', sizes: [1, 2.5, -3], nested: { ok: true, none: null }, quote: "it's \"x\"" }
          const c = await customers().create(ann({ nickname: 'Annie', bio: 'x'.repeat(5000), vip: true, balance: 123456789012, visits: 9223372036854775807n, createdAt: at, prefs }))
          const got = await customers().findById(c.id)
          expect(got).toEqual({ ...c })
          expect(got).toMatchObject({ nickname: 'Annie', vip: true, balance: 123456789012, visits: 9223372036854775807n, prefs })
          expect((got!.createdAt as Date).toISOString()).toBe(at.toISOString())
          expect((got!.bio as string).length).toBe(5000)
          const [r] = await rawRows(T.customer)
          expect(BigInt(r!.visits as string)).toBe(9223372036854775807n)
          expect(Number(r!.balance)).toBe(123456789012)
          expect(rawBool(r!.vip)).toBe(true)
          expect(rawTime(r!.created_at)).toBe(at.getTime())
          expect(rawJson(r!.prefs)).toEqual(prefs)
          const p = await products().create({ sku: 'SKU-1', title: 'Tea', priceCents: 450 })
          expect(p.id).toMatch(/^[0-9a-f]{8}-/)
          const o = await orders().create({ customerId: c.id, productId: p.id, quantity: 2, placedAt: at })
          expect(typeof o.id).toBe('bigint')
          expect(o).toMatchObject({ customerId: c.id, productId: p.id, quantity: 2, note: null })
        })

        it('createMany: writes every row in one call', async () => {
          const n = await customers().createMany([1, 2, 3, 4, 5].map((i) => ({ email: `c${i}@x.io`, name: `C${i}` })))
          expect(n).toBe(5)
          expect(await rawCount(T.customer)).toBe(5)
          expect((await rawRows(T.customer)).map((r) => r.email)).toEqual(['c1@x.io', 'c2@x.io', 'c3@x.io', 'c4@x.io', 'c5@x.io'])
        })

        it('find: where operators, nested AND/OR, orderBy, limit, offset and select', async () => {
          await customers().createMany(
            [
              { email: 'a@x.io', name: 'Alice', balance: 100, vip: true, nickname: 'al' },
              { email: 'b@x.io', name: 'Bob', balance: 200, vip: false },
              { email: 'c@x.io', name: 'Carol', balance: 300, vip: true, nickname: 'caz' },
              { email: 'd@x.io', name: 'Dave', balance: 400, vip: false },
              { email: 'e@x.io', name: 'Eve', balance: 500, vip: true },
            ],
          )
          const names = async (where: object, extra: object = {}): Promise<unknown[]> =>
            (await customers().findMany({ where, orderBy: { balance: 'asc' }, ...extra })).map((r) => r.name)
          expect(await names({ name: 'Bob' })).toEqual(['Bob'])
          expect(await names({ name: { eq: 'Bob' } })).toEqual(['Bob'])
          expect(await names({ name: { ne: 'Bob' } })).toEqual(['Alice', 'Carol', 'Dave', 'Eve'])
          expect(await names({ balance: { gt: 300 } })).toEqual(['Dave', 'Eve'])
          expect(await names({ balance: { gte: 300 } })).toEqual(['Carol', 'Dave', 'Eve'])
          expect(await names({ balance: { lt: 300 } })).toEqual(['Alice', 'Bob'])
          expect(await names({ balance: { lte: 300, gt: 100 } })).toEqual(['Bob', 'Carol'])
          expect(await names({ name: { in: ['Eve', 'Alice', 'Nobody'] } })).toEqual(['Alice', 'Eve'])
          expect(await names({ name: { notIn: ['Eve', 'Alice'] } })).toEqual(['Bob', 'Carol', 'Dave'])
          expect(await names({ name: { in: [] } })).toEqual([])
          expect(await names({ name: { notIn: [] } })).toHaveLength(5)
          expect(await names({ nickname: null })).toEqual(['Bob', 'Dave', 'Eve'])
          expect(await names({ nickname: { isNull: false } })).toEqual(['Alice', 'Carol'])
          expect(await names({ vip: true })).toEqual(['Alice', 'Carol', 'Eve'])
          expect(await names({ OR: [{ name: 'Bob' }, { AND: [{ vip: true }, { balance: { gte: 300 } }] }] })).toEqual(['Bob', 'Carol', 'Eve'])
          expect(await names({ AND: [{ OR: [{ name: 'Alice' }, { name: 'Dave' }] }, { OR: [{ vip: false }, { balance: 100 }] }] })).toEqual(['Alice', 'Dave'])
          expect(await names({ OR: [] })).toEqual([])
          expect(await names({}, { orderBy: { balance: 'desc' }, limit: 2, offset: 1 })).toEqual(['Dave', 'Carol'])
          expect(await names({}, { orderBy: [{ vip: 'desc' }, { balance: 'desc' }] })).toEqual(['Eve', 'Carol', 'Alice', 'Dave', 'Bob'])
          expect(await names({}, { offset: 3 })).toEqual(['Dave', 'Eve'])
          const sel = await customers().findMany({ where: { vip: true }, select: ['email', 'balance'], orderBy: { email: 'asc' }, limit: 1 })
          expect(sel).toEqual([{ email: 'a@x.io', balance: 100 }])
          const one = await customers().findOne({ where: { balance: { gt: 250 } }, orderBy: { balance: 'asc' } })
          expect(one?.name).toBe('Carol')
          expect(await customers().findOne({ where: { name: 'Zed' } })).toBeNull()
          expect(await customers().findById(2147483647)).toBeNull()
          expect(await customers().count()).toBe(5)
          expect(await customers().count({ vip: true, balance: { gt: 100 } })).toBe(2)
          await customers().updateMany({ name: 'Eve' }, { prefs: { tier: 'gold' } })
          expect(await names({ prefs: { isNull: false } })).toEqual(['Eve'])
          expect(await customers().count({ prefs: null })).toBe(4)
          expect(await customers().updateMany({ name: 'Eve' }, { prefs: null })).toBe(1)
          expect(await customers().count({ prefs: { isNull: true } })).toBe(5)
        })

        it('find: contains / startsWith / endsWith, case-sensitive and -insensitive, with LIKE wildcards as data', async () => {
          await customers().createMany([
            { email: '1@x.io', name: 'Anna Maria' },
            { email: '2@x.io', name: 'anna-lena' },
            { email: '3@x.io', name: 'JOHANNA' },
            { email: '4@x.io', name: '100% pure' },
            { email: '5@x.io', name: '100 percent' },
            { email: '6@x.io', name: 'a_b' },
            { email: '7@x.io', name: 'axb' },
          ])
          const names = async (op: object): Promise<unknown[]> =>
            (await customers().findMany({ where: { name: op }, orderBy: { email: 'asc' } })).map((r) => r.name)
          expect(await names({ contains: 'nna' })).toEqual(['Anna Maria', 'anna-lena'])
          expect(await names({ contains: 'NNA' })).toEqual(['JOHANNA'])
          expect(await names({ contains: 'nna', mode: 'insensitive' })).toEqual(['Anna Maria', 'anna-lena', 'JOHANNA'])
          expect(await names({ startsWith: 'Anna' })).toEqual(['Anna Maria'])
          expect(await names({ startsWith: 'anna', mode: 'insensitive' })).toEqual(['Anna Maria', 'anna-lena'])
          expect(await names({ endsWith: 'NA' })).toEqual(['JOHANNA'])
          expect(await names({ endsWith: 'na', mode: 'insensitive' })).toEqual(['anna-lena', 'JOHANNA'])
          expect(await names({ contains: '0%' })).toEqual(['100% pure'])
          expect(await names({ contains: 'a_b' })).toEqual(['a_b'])
          expect(await names({ startsWith: '_' })).toEqual([])
          expect(await customers().count({ name: { contains: '%' } })).toBe(1)
          expect(await customers().updateMany({ name: { contains: 'A', mode: 'sensitive' } }, { vip: true })).toBe(2)
          expect((await rawRows(T.customer, `${raw.q('vip')} = ${raw.p(1)}`, [kind === 'postgres' ? true : 1])).map((r) => r.name)).toEqual(['Anna Maria', 'JOHANNA'])
        })

        it('injection: hostile strings in values and in where are stored and matched as plain data', async () => {
          for (const [i, s] of INJECTIONS.entries()) await customers().create({ email: `${i}@x.io`, name: s, nickname: s, prefs: { s } })
          const stored = await rawRows(T.customer)
          expect(stored.map((r) => r.name)).toEqual(INJECTIONS)
          expect(stored.map((r) => rawJson(r.prefs))).toEqual(INJECTIONS.map((s) => ({ s })))
          for (const s of INJECTIONS) {
            expect((await customers().findMany({ where: { name: s } })).map((r) => r.nickname)).toEqual([s])
            expect(await customers().count({ name: { contains: s } })).toBe(1)
            expect(await customers().count({ name: { in: [s, "x' OR 1=1"] } })).toBe(1)
            expect(await customers().count({ OR: [{ nickname: { startsWith: s } }, { email: s }] })).toBe(1)
          }
          expect(await customers().updateMany({ name: INJECTIONS[0] }, { bio: "'; DELETE FROM customer; --" })).toBe(1)
          expect(await customers().deleteMany({ name: "' OR '1'='1" })).toBe(1)
          expect(await rawCount(T.customer)).toBe(INJECTIONS.length - 1)
          expect(await rawCount(T.product)).toBe(0)
        })

        it('update: by id returns the stored row; a missing id returns null', async () => {
          const c = await customers().create(ann())
          const u = await customers().update(c.id, { name: 'Ann B', nickname: 'nn', prefs: [1, { a: 'b' }] })
          expect(u).toMatchObject({ id: c.id, name: 'Ann B', nickname: 'nn', prefs: [1, { a: 'b' }], email: 'ann@example.com' })
          const [r] = await rawRows(T.customer)
          expect(r).toMatchObject({ name: 'Ann B', nickname: 'nn' })
          expect(rawJson(r!.prefs)).toEqual([1, { a: 'b' }])
          expect(await customers().update(c.id, { nickname: null })).toMatchObject({ nickname: null })
          expect((await rawRows(T.customer))[0]!.nickname).toBeNull()
          expect(await customers().update(987654, { name: 'x' })).toBeNull()
        })

        it('updateMany and deleteMany: return how many rows matched; delete by id says whether it existed', async () => {
          await customers().createMany([1, 2, 3, 4].map((i) => ({ email: `u${i}@x.io`, name: i % 2 ? 'odd' : 'even' })))
          expect(await customers().updateMany({ name: 'odd' }, { vip: true, balance: 7 })).toBe(2)
          expect((await rawRows(T.customer)).map((r) => [rawBool(r.vip), Number(r.balance)])).toEqual([[true, 7], [false, 0], [true, 7], [false, 0]])
          expect(await customers().updateMany({ name: 'none' }, { vip: true })).toBe(0)
          expect(await customers().deleteMany({ name: 'even' })).toBe(2)
          expect(await rawCount(T.customer)).toBe(2)
          const [first] = await customers().findMany({ orderBy: { id: 'asc' }, limit: 1 })
          expect(await customers().delete(first!.id)).toBe(true)
          expect(await customers().delete(first!.id)).toBe(false)
          expect(await customers().deleteMany({})).toBe(1)
          expect(await rawCount(T.customer)).toBe(0)
        })

        it('upsert: creates when missing, updates when present', async () => {
          const a = await customers().upsert({ where: { email: 'up@x.io' }, create: { email: 'up@x.io', name: 'First' }, update: { name: 'Second' } })
          expect(a.name).toBe('First')
          const b = await customers().upsert({ where: { email: 'up@x.io' }, create: { email: 'up@x.io', name: 'First' }, update: { name: 'Second' } })
          expect(b).toMatchObject({ id: a.id, name: 'Second' })
          const rows = await rawRows(T.customer)
          expect(rows).toHaveLength(1)
          expect(rows[0]!.name).toBe('Second')
        })

        it('increment: concurrent increments are atomic', async () => {
          const c = await customers().create(ann({ balance: 1000 }))
          const p = await products().create({ sku: 'S', title: 'T', priceCents: 1, stock: 50 })
          await Promise.all(Array.from({ length: 20 }, () => customers().increment({ id: c.id }, { balance: -10, visits: 1 })))
          expect(await products().increment({ sku: 'S' }, { stock: -3 })).toBe(1)
          const [r] = await rawRows(T.customer)
          expect(Number(r!.balance)).toBe(800)
          expect(Number(r!.visits)).toBe(20)
          expect(Number((await rawRows(T.product))[0]!.stock)).toBe(47)
          expect((await products().findById(p.id))!.stock).toBe(47)
        })

        // Shipment's camelCase fields map to snake_case columns (labelText to `label`): each case reads
        // the columns through the plain driver, so a field name written where a column belongs fails here.
        const ship = (code: string, extra: Row = {}): Row => ({ trackingCode: code, updatedAt: new Date('2024-01-01T00:00:00.000Z'), ...extra })
        const shipments = () => manager.repo('Shipment')

        it('column mapping: create and createMany write camelCase fields to their snake_case columns', async () => {
          const at = new Date('2024-05-06T07:08:09.010Z')
          const ref = '0b7e6d2c-6a51-4c5e-9d7f-3a2b1c0d9e8f'
          const s = await shipments().create(ship('T-1', { carrierName: 'DHL', weightGrams: 1200, costCents: 995, scanCount: 3n, isDelivered: true, updatedAt: at, lastEvent: { at: 'hub' }, externalRef: ref, labelText: 'fragile' }))
          expect(typeof s.shipmentId).toBe('number')
          expect(s).toMatchObject({ trackingCode: 'T-1', carrierName: 'DHL', weightGrams: 1200, costCents: 995, scanCount: 3n, isDelivered: true, lastEvent: { at: 'hub' }, externalRef: ref, labelText: 'fragile' })
          expect(await shipments().createMany([ship('T-2', { costCents: 5 }), ship('T-3', { weightGrams: 7, labelText: 'x' })])).toBe(2)
          const rows = await rawShipments()
          expect(Number(rows[0]!.shipment_id)).toBe(s.shipmentId)
          expect(rows.map((r) => [r.tracking_code, r.carrier_name, Number(r.weight_grams), Number(r.cost_cents), Number(r.scan_count), rawBool(r.is_delivered), r.label])).toEqual([
            ['T-1', 'DHL', 1200, 995, 3, true, 'fragile'],
            ['T-2', null, 0, 5, 0, false, null],
            ['T-3', null, 7, 0, 0, false, 'x'],
          ])
          expect(rawTime(rows[0]!.updated_at)).toBe(at.getTime())
          expect(rawJson(rows[0]!.last_event)).toEqual({ at: 'hub' })
          expect(String(rows[0]!.external_ref)).toBe(ref)
        })

        it('column mapping: updateMany, update, upsert and a transaction\'s updateMany SET the columns (updated_at, not updatedAt)', async () => {
          await shipments().createMany([ship('U-1'), ship('U-2'), ship('U-3')])
          const later = new Date('2024-06-01T12:00:00.500Z')
          expect(await shipments().updateMany({ trackingCode: { in: ['U-1', 'U-2'] } }, { updatedAt: later, isDelivered: true, costCents: 250, scanCount: 9n, lastEvent: [1, 'two'], labelText: 'done' })).toBe(2)
          let rows = await rawShipments()
          expect(rows.map((r) => [r.tracking_code, rawTime(r.updated_at), rawBool(r.is_delivered), Number(r.cost_cents), Number(r.scan_count), r.label])).toEqual([
            ['U-1', later.getTime(), true, 250, 9, 'done'],
            ['U-2', later.getTime(), true, 250, 9, 'done'],
            ['U-3', Date.parse('2024-01-01T00:00:00.000Z'), false, 0, 0, null],
          ])
          expect(rawJson(rows[0]!.last_event)).toEqual([1, 'two'])
          const id3 = Number(rows[2]!.shipment_id)
          const u = await shipments().update(id3, { carrierName: 'UPS', weightGrams: 42, updatedAt: later, externalRef: null })
          expect(u).toMatchObject({ shipmentId: id3, trackingCode: 'U-3', carrierName: 'UPS', weightGrams: 42, externalRef: null })
          expect((u!.updatedAt as Date).getTime()).toBe(later.getTime())
          const up = await shipments().upsert({ where: { trackingCode: 'U-3' }, create: ship('U-3'), update: { labelText: 'upserted', costCents: 1 } })
          expect(up).toMatchObject({ shipmentId: id3, labelText: 'upserted', costCents: 1 })
          const created = await shipments().upsert({ where: { trackingCode: 'U-4' }, create: ship('U-4', { weightGrams: 4 }), update: { costCents: 2 } })
          expect(created).toMatchObject({ trackingCode: 'U-4', weightGrams: 4, costCents: 0 })
          await manager.transaction(async (tx) => {
            expect(await tx.repo('Shipment').updateMany({ isDelivered: false }, { isDelivered: true, updatedAt: later })).toBe(2)
          })
          rows = await rawShipments()
          expect(rows.map((r) => [r.tracking_code, r.carrier_name, Number(r.weight_grams), Number(r.cost_cents), r.label, rawBool(r.is_delivered), rawTime(r.updated_at)])).toEqual([
            ['U-1', null, 0, 250, 'done', true, later.getTime()],
            ['U-2', null, 0, 250, 'done', true, later.getTime()],
            ['U-3', 'UPS', 42, 1, 'upserted', true, later.getTime()],
            ['U-4', null, 4, 0, null, true, later.getTime()],
          ])
        })

        it('column mapping: increment, where, orderBy, select, count and deleteMany on camelCase fields', async () => {
          await shipments().createMany([
            ship('W-1', { weightGrams: 30, costCents: 100, updatedAt: new Date(3000), carrierName: 'Posti' }),
            ship('W-2', { weightGrams: 10, costCents: 300, updatedAt: new Date(1000), labelText: 'Heavy box' }),
            ship('W-3', { weightGrams: 20, costCents: 200, updatedAt: new Date(2000), isDelivered: true }),
          ])
          expect(await shipments().increment({ trackingCode: { startsWith: 'W-' }, isDelivered: false }, { weightGrams: 5, costCents: -1, scanCount: 2 })).toBe(2)
          const rows = await rawShipments()
          expect(rows.map((r) => [Number(r.weight_grams), Number(r.cost_cents), Number(r.scan_count)])).toEqual([[35, 99, 2], [15, 299, 2], [20, 200, 0]])
          const codes = async (q: object): Promise<unknown[]> => (await shipments().findMany(q)).map((r) => r.trackingCode)
          expect(await codes({ orderBy: { updatedAt: 'desc' } })).toEqual(['W-1', 'W-3', 'W-2'])
          // ordered by a field left out of the select: the column itself, not an alias of the selection
          expect(await shipments().findMany({ orderBy: [{ isDelivered: 'desc' }, { weightGrams: 'asc' }], select: ['trackingCode'] })).toEqual([{ trackingCode: 'W-3' }, { trackingCode: 'W-2' }, { trackingCode: 'W-1' }])
          expect(await shipments().findMany({ where: { costCents: { gte: 200 } }, orderBy: { costCents: 'asc' }, select: ['costCents', 'updatedAt', 'labelText'] })).toEqual([
            { costCents: 200, updatedAt: new Date(2000), labelText: null },
            { costCents: 299, updatedAt: new Date(1000), labelText: 'Heavy box' },
          ])
          expect(await codes({ where: { OR: [{ carrierName: { isNull: false } }, { labelText: { contains: 'heavy', mode: 'insensitive' } }], updatedAt: { lt: new Date(5000) } }, orderBy: { weightGrams: 'asc' } })).toEqual(['W-2', 'W-1'])
          expect(await codes({ where: { scanCount: { gt: 0 } }, orderBy: { shipmentId: 'asc' }, offset: 1 })).toEqual(['W-2'])
          const first = Number(rows[0]!.shipment_id)
          expect(await shipments().findById(first, { select: ['shipmentId', 'weightGrams'] })).toEqual({ shipmentId: first, weightGrams: 35 })
          expect(await shipments().count({ isDelivered: false, weightGrams: { gt: 14 } })).toBe(2)
          expect(await shipments().deleteMany({ updatedAt: { lte: new Date(2000) }, isDelivered: false })).toBe(1)
          expect(await shipments().delete(first)).toBe(true)
          expect((await rawShipments()).map((r) => r.tracking_code)).toEqual(['W-3'])
        })

        it('transaction: commits when fn resolves', async () => {
          const out = await manager.transaction(async (tx) => {
            const c = await tx.repo('Customer').create(ann())
            await tx.repo('Order').create({ customerId: c.id, quantity: 1, placedAt: new Date() })
            expect(await tx.repo('Customer').count()).toBe(1)
            return c.id
          })
          expect(typeof out).toBe('number')
          expect(await rawCount(T.customer)).toBe(1)
          expect(await rawCount(T.order)).toBe(1)
        })

        it('transaction: rolls back every write and rethrows when fn throws', async () => {
          await customers().create({ email: 'keep@x.io', name: 'Keep', balance: 10 })
          const boom = new Error('boom')
          await expect(
            manager.transaction(async (tx) => {
              await tx.repo('Customer').create(ann())
              await tx.repo('Customer').updateMany({ email: 'keep@x.io' }, { name: 'Changed' })
              await tx.repo('Customer').increment({ email: 'keep@x.io' }, { balance: 5 })
              throw boom
            }),
          ).rejects.toBe(boom)
          const rows = await rawRows(T.customer)
          expect(rows.map((r) => [r.name, Number(r.balance)])).toEqual([['Keep', 10]])
        })

        it('transaction: calls through tx.repo() join it; on SQLite a call through the manager from inside is refused, not hung', async () => {
          await manager.transaction(async (tx) => {
            await tx.repo('Customer').create(ann())
            if (kind === 'sqlite') expect(await codeOf(customers().count())).toBe('ECOM_ERR_ORM_VALIDATION')
            expect(await tx.repo('Customer').count({ email: 'ann@example.com' })).toBe(1)
          })
          expect(await rawCount(T.customer)).toBe(1)
        })

        it('transaction: a constraint error inside rolls back the earlier writes', async () => {
          await customers().create({ email: 'dup@x.io', name: 'D' })
          const code = await codeOf(
            manager.transaction(async (tx) => {
              await tx.repo('Customer').create({ email: 'new@x.io', name: 'N' })
              await tx.repo('Customer').create({ email: 'dup@x.io', name: 'again' })
            }),
          )
          expect(code).toBe('ECOM_ERR_ORM_UNIQUE_VIOLATION')
          expect((await rawRows(T.customer)).map((r) => r.email)).toEqual(['dup@x.io'])
        })

        it('constraints: unique, foreign-key and not-null violations raise the same codes', async () => {
          const c = await customers().create(ann())
          await products().create({ sku: 'A', title: 'a', priceCents: 1 })
          expect(await codeOf(customers().create(ann({ name: 'other' })))).toBe('ECOM_ERR_ORM_UNIQUE_VIOLATION')
          expect(await codeOf(products().create({ sku: 'A', title: 'b', priceCents: 2 }))).toBe('ECOM_ERR_ORM_UNIQUE_VIOLATION')
          const other = await customers().create({ email: 'o@x.io', name: 'O' })
          expect(await codeOf(customers().update(other.id, { email: 'ann@example.com' }))).toBe('ECOM_ERR_ORM_UNIQUE_VIOLATION')
          expect(await codeOf(orders().create({ customerId: 999999, quantity: 1, placedAt: new Date() }))).toBe('ECOM_ERR_ORM_FOREIGN_KEY_VIOLATION')
          await orders().create({ customerId: c.id, quantity: 1, placedAt: new Date() })
          expect(await codeOf(customers().delete(c.id))).toBe('ECOM_ERR_ORM_FOREIGN_KEY_VIOLATION')
          expect(await codeOf(customers().create({ email: 'nn@x.io' }))).toBe('ECOM_ERR_ORM_NOT_NULL_VIOLATION')
          expect(await codeOf(customers().create({ email: 'nn@x.io', name: null }))).toBe('ECOM_ERR_ORM_NOT_NULL_VIOLATION')
          expect(await codeOf(customers().update(c.id, { name: null }))).toBe('ECOM_ERR_ORM_NOT_NULL_VIOLATION')
          expect(await rawCount(T.customer)).toBe(2)
          expect(await rawCount(T.order)).toBe(1)
          expect((await rawRows(T.customer))[0]!.name).toBe('Ann')
        })

        it('validation: unknown model or field, wrong types and malformed wheres fail before any SQL', async () => {
          const cases: Array<() => Promise<unknown>> = [
            async () => manager.repo('Nope').count(),
            () => customers().create({ email: 'v@x.io', name: 'V', age: 3 }),
            () => customers().create({ email: 42, name: 'V' }),
            () => customers().create({ email: 'v@x.io', name: 'V', balance: 1.5 }),
            () => customers().create({ email: 'v@x.io', name: 'V', vip: 'yes' }),
            () => customers().create({ email: 'v@x.io', name: 'V', createdAt: 'yesterday' }),
            () => customers().create({ email: 'v@x.io', name: 'V', ref: 'not-a-uuid' }),
            () => customers().create({ email: 'v@x.io', name: 'V', prefs: { f: () => 1 } }),
            () => customers().create({ email: 'x'.repeat(201), name: 'V' }),
            () => customers().findMany({ where: { nope: 1 } }),
            () => customers().findMany({ where: { name: { like: '%' } } }),
            () => customers().findMany({ where: { balance: { gt: 'a lot' } } }),
            () => customers().findMany({ where: { name: { in: 'Ann' } } }),
            () => customers().findMany({ where: { OR: { name: 'x' } } } as never),
            () => customers().findMany({ where: { balance: { contains: '1' } } }),
            () => customers().findMany({ where: "1=1; DROP TABLE customer" } as never),
            () => customers().findMany({ orderBy: { name: 'sideways' } } as never),
            () => customers().findMany({ limit: -1 }),
            () => customers().findMany({ select: ['email', 'password'] }),
            () => customers().findById('1 OR 1=1'),
            () => customers().increment({ id: 1 }, { name: 1 } as never),
            () => customers().update(1, {}),
          ]
          for (const [i, run] of cases.entries()) {
            const { code, calls } = await adapterCalls(run)
            expect(`${i}: ${code}`).toBe(`${i}: ECOM_ERR_ORM_VALIDATION`)
            expect(calls).toBe(0)
          }
          expect(await rawCount(T.customer)).toBe(0)
        })

        it('observability: metrics per adapter and operation, and an ecom:orm:query event per call', async () => {
          const events: Array<Record<string, unknown>> = []
          const on = (m: unknown): void => void events.push(m as Record<string, unknown>)
          subscribe('ecom:orm:query', on)
          try {
            await customers().create(ann())
            await codeOf(customers().create(ann()))
          } finally {
            unsubscribe('ecom:orm:query', on)
          }
          expect(events.map((e) => [e.adapter, e.orm, e.dialect, e.model, e.operation])).toEqual([
            [orm, orm, raw.url.startsWith('file:') ? 'sqlite' : kind === 'postgres' ? 'postgres' : 'mysql', 'Customer', 'create'],
            [orm, orm, raw.url.startsWith('file:') ? 'sqlite' : kind === 'postgres' ? 'postgres' : 'mysql', 'Customer', 'create'],
          ])
          expect(events[0]!.durationMs).toBeGreaterThanOrEqual(0)
          expect((events[1]!.error as { code: string }).code).toBe('ECOM_ERR_ORM_UNIQUE_VIOLATION')
          const text = await getRegistry().metrics()
          expect(text).toMatch(new RegExp(`ecom_orm_queries_total\\{adapter="${orm}",operation="create",outcome="ok"\\} [1-9]`))
          expect(text).toMatch(new RegExp(`ecom_orm_errors_total\\{adapter="${orm}",operation="create",code="ECOM_ERR_ORM_UNIQUE_VIOLATION"\\} [1-9]`))
          expect(text).toMatch(new RegExp(`ecom_orm_query_duration_seconds_count\\{adapter="${orm}",operation="create"\\} [1-9]`))
        })
      })
    }

    describe(`switching and fallback on ${kind}`, () => {
      beforeEach(clear)
      const all = (url = raw.url): Record<string, OrmAdapter> =>
        Object.fromEntries(ORMS.map((o) => [o, createAdapter(shopSchema, { orm: o, url })]))

      it('switch mid-run: use() moves new calls; a transaction in flight stays on its adapter and commits', async () => {
        const manager = new OrmManager({ schema: shopSchema, adapters: all(), active: 'prisma' })
        await manager.connect()
        const seen: string[] = []
        const on = (m: unknown): void => void seen.push(`${(m as { adapter: string }).adapter}:${(m as { operation: string }).operation}`)
        subscribe('ecom:orm:query', on)
        try {
          const first = await manager.repo('Customer').create({ email: 'p@x.io', name: 'via prisma' })
          let release!: () => void
          const gate = new Promise<void>((r) => (release = r))
          const tx = manager.transaction(async (t) => {
            await t.repo('Customer').create({ email: 'tx1@x.io', name: 'tx' })
            await gate
            // the manager switched meanwhile: this transaction keeps its adapter and connection
            await t.repo('Customer').increment({ email: 'tx1@x.io' }, { visits: 1 })
            return t.adapter
          })
          await new Promise((r) => setTimeout(r, 20))
          manager.use('sequelize')
          expect(manager.active).toBe('sequelize')
          release()
          expect(await tx).toBe('prisma')
          const second = await manager.repo('Customer').create({ email: 's@x.io', name: 'via sequelize' })
          manager.use('drizzle')
          const third = await manager.repo('Customer').findById(first.id)
          expect(third?.name).toBe('via prisma')
          expect((await manager.repo('Customer').findById(second.id))?.name).toBe('via sequelize')
          expect((await manager.repo('Customer').findOne({ where: { email: 'tx1@x.io' } }))?.visits).toBe(1n)
        } finally {
          unsubscribe('ecom:orm:query', on)
          await manager.close()
        }
        expect(seen.filter((s) => !s.endsWith(':transaction'))).toEqual([
          'prisma:create', 'prisma:create', 'prisma:increment', 'sequelize:create', 'drizzle:findById', 'drizzle:findById', 'drizzle:findOne',
        ])
        expect((await rawRows(T.customer)).map((r) => r.email)).toEqual(['p@x.io', 'tx1@x.io', 's@x.io'])
      })

      it('switch mid-run: a transaction begun before the switch still rolls back', async () => {
        const manager = new OrmManager({ schema: shopSchema, adapters: all(), active: 'drizzle' })
        await manager.connect()
        try {
          const err = await codeOf(
            manager.transaction(async (t) => {
              await t.repo('Customer').create({ email: 'r@x.io', name: 'r' })
              manager.use('prisma')
              await t.repo('Customer').create({ email: 'r2@x.io', name: 'r2' })
              throw Object.assign(new Error('stop'), { code: 'TEST_STOP' })
            }),
          )
          expect(err).toBe('TEST_STOP')
          expect(await rawCount(T.customer)).toBe(0)
          expect(await manager.repo('Customer').count()).toBe(0)
        } finally {
          await manager.close()
        }
      })

      for (const victim of ORMS) {
        it(`fallback: ${victim}'s connection is killed; the call is retried once on the next healthy adapter and ${victim} is benched`, async () => {
          let url = raw.url
          let kill: () => Promise<void>
          const proxy = kind === 'sqlite' ? undefined : await startProxy('127.0.0.1', Number(new URL(raw.url).port || (kind === 'postgres' ? 5432 : 3306)))
          if (proxy) {
            const u = new URL(raw.url)
            u.hostname = '127.0.0.1'
            u.port = String(proxy.port)
            url = u.toString()
          }
          const adapters: Record<string, OrmAdapter> = { [victim]: createAdapter(shopSchema, { orm: victim, url }) }
          for (const o of ORMS) if (o !== victim) adapters[o] = createAdapter(shopSchema, { orm: o, url: raw.url })
          const manager = new OrmManager({ schema: shopSchema, adapters, active: victim, benchMs: 60_000 })
          await manager.connect()
          if (proxy) kill = () => proxy.kill()
          else kill = async () => (manager.adapter(victim).driver as { close(): void }).close()
          const events: Array<Record<string, unknown>> = []
          const on = (m: unknown): void => void events.push(m as Record<string, unknown>)
          try {
            await manager.repo('Customer').create({ email: 'before@x.io', name: 'b' })
            await kill()
            subscribe('ecom:orm:query', on)
            const row = await manager.repo('Customer').create({ email: 'after@x.io', name: 'a' })
            expect(row.email).toBe('after@x.io')
            const next = ORMS.filter((o) => o !== victim)[0]!
            expect(events.map((e) => [e.adapter, e.error ? (e.error as { code: string }).code : 'ok'])).toEqual([
              [victim, expect.stringMatching(/^ECOM_ERR_ORM_(CONNECTION|DRIVER)$/)],
              [next, 'ok'],
            ])
            expect(events[1]!.fallbackFrom).toBe(victim)
            const st = manager.status().find((s) => s.name === victim)!
            expect(st.healthy).toBe(false)
            expect(st.benchedUntil).toBeGreaterThan(Date.now())
            // benched: the next call goes straight to a healthy adapter
            expect(await manager.repo('Customer').count()).toBe(2)
            expect(events.at(-1)!.adapter).toBe(next)
            const health = await manager.checkHealth()
            expect(health.find((s) => s.name === victim)!.healthy).toBe(false)
            expect(await getRegistry().metrics()).toMatch(new RegExp(`ecom_orm_failovers_total\\{from="${victim}",to="${next}"\\} [1-9]`))
          } finally {
            unsubscribe('ecom:orm:query', on)
            await manager.close()
          }
          expect((await rawRows(T.customer)).map((r) => r.email)).toEqual(['before@x.io', 'after@x.io'])
        })
      }

      it('no fallback on constraint or validation errors', async () => {
        const manager = new OrmManager({ schema: shopSchema, adapters: all(), active: 'sequelize' })
        await manager.connect()
        try {
          await manager.repo('Customer').create({ email: 'u@x.io', name: 'u' })
          expect(await codeOf(manager.repo('Customer').create({ email: 'u@x.io', name: 'u' }))).toBe('ECOM_ERR_ORM_UNIQUE_VIOLATION')
          expect(await codeOf(manager.repo('Customer').create({ email: 'u@x.io' }))).toBe('ECOM_ERR_ORM_NOT_NULL_VIOLATION')
          expect(manager.status().every((s) => s.healthy)).toBe(true)
          expect(manager.active).toBe('sequelize')
          expect(await rawCount(T.customer)).toBe(1)
        } finally {
          await manager.close()
        }
      })

      for (const orm of ORMS) {
        it(`unreachable database: ${orm} raises a coded error naming host and port`, async () => {
          let url: string
          let expected: string
          if (kind === 'sqlite') {
            url = 'file:/etc/hostname/cannot/open.db'
            expected = '/etc/hostname/cannot/open.db'
          } else {
            const dead = await startProxy('127.0.0.1', 1)
            await dead.kill()
            const u = new URL(raw.url)
            u.hostname = '127.0.0.1'
            u.port = String(dead.port)
            url = u.toString()
            expected = `127.0.0.1:${dead.port}`
          }
          const manager = new OrmManager({ schema: shopSchema, adapters: { [orm]: createAdapter(shopSchema, { orm, url }) } })
          try {
            const err = await manager.connect().then(() => undefined, (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> })
            expect(err?.code).toBe('ECOM_ERR_ORM_CONNECTION')
            expect(err?.message).toContain(expected)
          } finally {
            await manager.close()
          }
        })
      }
    })
  })
}
