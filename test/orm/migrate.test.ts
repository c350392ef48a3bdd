import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  defineSchema,
  initialMigration,
  migrate,
  migrationChecksum,
  operationSql,
  planMigration,
  type Migration,
  type SchemaInput,
} from '../../src/public/orm.js'
import { shopSchema } from '../fixtures/orm/shop-schema.js'
import { freshDb, skipReason, type DbKind, type RawDb } from './helpers/raw.js'

const v1: SchemaInput = {
  models: {
    Item: { fields: { id: { type: 'int', primaryKey: true }, sku: { type: 'string', unique: true }, qty: { type: 'int', default: 0 } } },
  },
}
const v2: SchemaInput = {
  models: {
    Item: {
      fields: {
        id: { type: 'int', primaryKey: true },
        sku: { type: 'string', unique: true },
        qty: { type: 'int', default: 0 },
        label: { type: 'string', nullable: true },
        active: { type: 'boolean', default: true },
      },
      indexes: [{ fields: ['label'] }],
    },
    Tag: { fields: { id: { type: 'uuid', primaryKey: true }, itemId: { type: 'int', references: { model: 'Item', onDelete: 'cascade' } } } },
  },
}

function history(): Migration[] {
  const s1 = defineSchema(v1)
  const s2 = defineSchema(v2)
  return [
    { id: '0001_init', operations: planMigration(undefined, s1.toJSON()), snapshot: s1.toJSON() },
    { id: '0002_labels', operations: planMigration(s1.toJSON(), s2.toJSON()), snapshot: s2.toJSON() },
  ]
}

describe('migration planning', () => {
  it('plans tables (referenced first), then indexes, from nothing', () => {
    const ops = planMigration(undefined, shopSchema.toJSON())
    expect(ops.filter((o) => o.op === 'createTable').map((o) => (o as { table: string }).table)).toEqual(['customer', 'product', 'shop_order', 'shipment'])
    expect(ops.filter((o) => o.op === 'createIndex').map((o) => (o as { index: { name: string } }).index.name)).toEqual([
      'customer_email_key', 'customer_name_idx', 'product_sku_key', 'shop_order_customer_id_placed_at_idx',
      'shipment_tracking_code_key', 'shipment_is_delivered_updated_at_idx',
    ])
  })

  it('plans added columns and indexes as a diff, and refuses to guess a changed column', () => {
    const [, second] = history()
    expect(second!.operations.map((o) => o.op)).toEqual(['addColumn', 'addColumn', 'createTable', 'createIndex'])
    const changed = structuredClone(v2)
    changed.models.Item!.fields.qty = { type: 'bigint', default: 0 }
    expect(() => planMigration(defineSchema(v2).toJSON(), defineSchema(changed).toJSON())).toThrow(/changing type .* add an \{ op: 'sql' \}/)
    const required = structuredClone(v2)
    required.models.Item!.fields.extra = { type: 'string' }
    expect(() => planMigration(defineSchema(v2).toJSON(), defineSchema(required).toJSON())).toThrow(/must be nullable or have a literal default/)
    expect(planMigration(defineSchema(v2).toJSON(), defineSchema(v1).toJSON()).map((o) => o.op)).toEqual(['dropIndex', 'dropColumn', 'dropColumn', 'dropTable'])
  })

  it('prints per-dialect DDL from the same operations', () => {
    const [first] = history()
    const create = first!.operations[0]!
    expect(operationSql('sqlite', create)[0]).toContain('"id" INTEGER PRIMARY KEY AUTOINCREMENT')
    expect(operationSql('postgres', create)[0]).toContain('"id" SERIAL PRIMARY KEY')
    expect(operationSql('mysql', create)[0]).toContain('`id` INT PRIMARY KEY AUTO_INCREMENT')
    expect(operationSql('mysql', create)[0]).toContain('`sku` VARCHAR(255) NOT NULL')
    expect(operationSql('postgres', create)[0]).toContain('"qty" INTEGER NOT NULL DEFAULT 0')
  })

  it('checksums the operations, not the formatting', () => {
    const [first] = history()
    const copy = JSON.parse(JSON.stringify(first)) as Migration
    expect(migrationChecksum(copy)).toBe(migrationChecksum(first!))
    ;(copy.operations[0] as { table: string }).table = 'items'
    expect(migrationChecksum(copy)).not.toBe(migrationChecksum(first!))
  })
})

for (const kind of ['sqlite', 'postgres', 'mariadb'] as DbKind[]) {
  const reason = skipReason(kind)
  if (reason) console.warn(reason)
  describe.skipIf(reason !== undefined)(`migrate on ${kind}`, () => {
    let raw: RawDb
    beforeAll(async () => {
      raw = await freshDb(kind, `ecom_orm_migrate_${kind}`)
    })
    afterAll(async () => {
      await raw?.close()
    })
    const columns = async (table: string): Promise<string[]> => {
      if (kind === 'sqlite') return (await raw.query(`PRAGMA table_info(${table})`)).map((r) => String(r.name))
      const rows = await raw.query(
        kind === 'postgres'
          ? 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position'
          : 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position',
        [table],
      )
      return rows.map((r) => String(r.c ?? r.C ?? r.COLUMN_NAME))
    }

    it('applies pending migrations in order and records each', async () => {
      const [first, second] = history()
      expect(await migrate(raw.url, [first!])).toEqual({ applied: ['0001_init'], alreadyApplied: [] })
      expect(await columns('item')).toEqual(['id', 'sku', 'qty'])
      expect(await migrate(raw.url, [second!, first!])).toEqual({ applied: ['0002_labels'], alreadyApplied: ['0001_init'] })
      expect(await columns('item')).toEqual(['id', 'sku', 'qty', 'label', 'active'])
      expect(await columns('tag')).toEqual(['id', 'item_id'])
      const rows = await raw.query(`SELECT id, checksum FROM ${raw.q('ecom_migrations')} ORDER BY id`)
      expect(rows.map((r) => [r.id, r.checksum])).toEqual([
        ['0001_init', migrationChecksum(first!)],
        ['0002_labels', migrationChecksum(second!)],
      ])
      // defaults from the DDL hold for rows written without ecom
      await raw.query(`INSERT INTO ${raw.q('item')} (${raw.q('sku')}) VALUES (${raw.p(1)})`, ['raw'])
      const [r] = await raw.query(`SELECT ${raw.q('qty')} AS q, ${raw.q('active')} AS a FROM ${raw.q('item')}`)
      expect([Number(r!.q), Boolean(Number(r!.a) || r!.a === true)]).toEqual([0, true])
    })

    it('is idempotent', async () => {
      expect(await migrate(raw.url, history())).toEqual({ applied: [], alreadyApplied: ['0001_init', '0002_labels'] })
    })

    it('refuses when an applied migration changed or vanished, before applying anything', async () => {
      const [first, second] = history()
      const edited: Migration = { ...first!, operations: [...first!.operations, { op: 'sql', sql: { sqlite: 'SELECT 1', postgres: 'SELECT 1', mysql: 'SELECT 1' } }] }
      const third: Migration = { id: '0003_more', operations: [{ op: 'sql', sql: { sqlite: 'CREATE TABLE x3 (a INT)', postgres: 'CREATE TABLE x3 (a INT)', mysql: 'CREATE TABLE x3 (a INT)' } }] }
      await expect(migrate(raw.url, [edited, second!, third])).rejects.toMatchObject({ code: 'ECOM_ERR_ORM_MIGRATION_CHECKSUM', message: expect.stringContaining('0001_init was changed') })
      await expect(migrate(raw.url, [second!, third])).rejects.toMatchObject({ code: 'ECOM_ERR_ORM_MIGRATION_CHECKSUM', message: expect.stringContaining('missing') })
      expect(await columns('x3')).toEqual([])
    })

    it('a failing migration is reported with its id and (where DDL is transactional) leaves no trace', async () => {
      const bad: Migration = { id: '0003_bad', operations: [{ op: 'sql', sql: { sqlite: 'CREATE TABLE y3 (a INT)', postgres: 'CREATE TABLE y3 (a INT)', mysql: 'CREATE TABLE y3 (a INT)' } }, { op: 'sql', sql: { sqlite: 'NOT SQL', postgres: 'NOT SQL', mysql: 'NOT SQL' } }] }
      await expect(migrate(raw.url, [...history(), bad])).rejects.toMatchObject({ code: 'ECOM_ERR_ORM_MIGRATION', message: expect.stringContaining('0003_bad') })
      const ids = (await raw.query(`SELECT id FROM ${raw.q('ecom_migrations')} ORDER BY id`)).map((r) => r.id)
      expect(ids).toEqual(['0001_init', '0002_labels'])
      if (kind !== 'mariadb') expect(await columns('y3')).toEqual([])
    })

    it('concurrent runs apply each migration once', async () => {
      const other = await freshDb(kind, `ecom_orm_migrate2_${kind}`)
      try {
        const results = await Promise.all([migrate(other.url, [initialMigration(shopSchema)]), migrate(other.url, [initialMigration(shopSchema)])])
        expect(results.flatMap((r) => r.applied)).toEqual(['0001_init'])
      } finally {
        await other.close()
      }
    })
  })
}
