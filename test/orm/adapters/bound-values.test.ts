// "Values are always bound parameters": record the SQL each ORM sends and check that a marker value never
// appears in the statement text, only among the parameters.
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createAdapter, defineSchema, initialMigration, migrate, OrmManager, type OrmAdapter } from '../../../src/public/orm.js'
import { tempDir } from '../../helpers/temp-dir.js'

const schema = defineSchema({ models: { Item: { fields: { id: { type: 'int', primaryKey: true }, name: { type: 'string' }, qty: { type: 'int', default: 0 } } } } })
const MARK = "mark'er"

describe('bound values (SQLite, statements as each ORM sends them)', () => {
  const url = `file:${join(tempDir('orm-bind'), 'b.db')}`
  beforeAll(async () => {
    await migrate(url, [initialMigration(schema)])
  })

  const run = async (manager: OrmManager): Promise<void> => {
    const items = manager.repo('Item')
    const row = await items.create({ name: MARK })
    await items.findMany({ where: { name: MARK, OR: [{ name: { contains: MARK } }, { name: { in: [MARK] } }] } })
    await items.count({ name: { startsWith: MARK, mode: 'insensitive' } })
    await items.updateMany({ name: MARK }, { name: `${MARK}2` })
    await items.update(row.id, { name: MARK })
    await items.increment({ name: MARK }, { qty: 7 })
    await items.deleteMany({ name: { endsWith: MARK } })
  }

  it('sequelize: WHERE, SET and increment values travel as bind parameters', async () => {
    const a = createAdapter(schema, { orm: 'sequelize', url }) as OrmAdapter & { native: { options: { logging: unknown } } }
    const manager = new OrmManager({ schema, adapters: { sequelize: a } })
    await manager.connect()
    const seen: Array<{ sql: string; bind: unknown }> = []
    a.native.options.logging = (sql: string, o: { bind?: unknown }) => seen.push({ sql, bind: o.bind })
    try {
      await run(manager)
    } finally {
      await manager.close()
    }
    expect(seen.length).toBeGreaterThanOrEqual(7)
    for (const s of seen) expect(s.sql).not.toContain('mark')
    expect(seen.filter((s) => JSON.stringify(s.bind ?? []).includes('mark')).length).toBeGreaterThanOrEqual(6)
  })

  it.each(['drizzle', 'prisma'] as const)('%s: every statement is prepared with parameters', async (orm) => {
    const a = createAdapter(schema, { orm, url })
    const manager = new OrmManager({ schema, adapters: { [orm]: a } })
    await manager.connect()
    const db = a.driver as { prepare: (sql: string) => unknown }
    const seen: string[] = []
    const prepare = db.prepare.bind(db)
    db.prepare = (sql: string) => {
      seen.push(sql)
      return prepare(sql)
    }
    try {
      await run(manager)
    } finally {
      await manager.close()
    }
    expect(seen.length).toBeGreaterThanOrEqual(7)
    for (const s of seen) expect(s).not.toContain('mark')
  })
})
