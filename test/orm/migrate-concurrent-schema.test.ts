// Several processes starting at once (an `ecom start` cluster) migrate a PostgreSQL schema that does
// not exist yet: `CREATE SCHEMA IF NOT EXISTS` runs before the migration lock and can collide on
// pg_namespace's unique index; the runner must treat that as "exists" and apply each migration once.
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { defineSchema, initialMigration, migrate } from '../../src/public/orm.js'

const PG = process.env.ECOM_TEST_POSTGRES_URL
if (!PG) console.warn('skipping concurrent schema creation: ECOM_TEST_POSTGRES_URL is not set')
const prefix = `ecom_orm_race_${process.pid}_`
const migration = initialMigration(defineSchema({ models: { Thing: { fields: { id: { type: 'int', primaryKey: true } } } } }))

describe.runIf(PG)('migrate on a PostgreSQL schema that does not exist yet, concurrently', () => {
  const made: string[] = []
  afterAll(async () => {
    const c = new pg.Client({ connectionString: PG })
    await c.connect()
    for (const s of made) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`)
    await c.end()
  })

  it('every run succeeds and the migration is applied once', async () => {
    for (let round = 0; round < 5; round++) {
      const schema = `${prefix}${round}`
      made.push(schema)
      const results = await Promise.all(Array.from({ length: 6 }, () => migrate(`${PG}?schema=${schema}`, [migration])))
      expect(results.filter((r) => r.applied.length === 1)).toHaveLength(1)
      expect(results.filter((r) => r.alreadyApplied.length === 1)).toHaveLength(5)
    }
  })
})
