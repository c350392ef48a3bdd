// Opens the shop's database: migrate (ecom's runner locks, so workers starting together apply it
// once), connect an OrmManager on Drizzle, and seed the sample catalog exactly once.
import { createReadStream } from 'node:fs'
import { OrmUniqueViolationError, OrmManager, createAdapter, initialMigration, migrate } from 'ecom/orm'
import { bumpCatalogVersion, parseCatalog, writeProducts } from '../catalog.js'
import { schema } from './schema.js'

export async function openDatabase(url: string): Promise<OrmManager> {
  await migrate(url, [initialMigration(schema)])
  const orm = new OrmManager({ schema, adapters: { drizzle: createAdapter(schema, { orm: 'drizzle', url }) } })
  await orm.connect()
  return orm
}

/**
 * Seeds the catalog on first start. Every worker calls this; the `seeded` marker is the
 * transaction's first write, so one worker wins and the others wait on its lock (SQLite's busy
 * timeout, PostgreSQL's unique index) and then fail with a unique violation: seeded exactly once.
 * Returns the number of products written (0 when another worker or an earlier start did it).
 */
export async function seedOnce(orm: OrmManager, catalogFile: string): Promise<number> {
  if (await orm.repo('ShopMeta').findById('seeded')) return 0
  const parsed = await parseCatalog(createReadStream(catalogFile))
  if (parsed.problems.length) {
    throw new Error(`the sample catalog ${catalogFile} is invalid: ${parsed.problems.map((p) => p.message).join('; ')}`)
  }
  try {
    return await orm.transaction(async (tx) => {
      await tx.repo('ShopMeta').create({ key: 'seeded', value: 1 })
      await tx.repo('ShopMeta').create({ key: 'catalog_version', value: 0 })
      await bumpCatalogVersion(tx)
      const { created } = await writeProducts(tx, parsed.products)
      return created
    })
  } catch (err) {
    if (err instanceof OrmUniqueViolationError) return 0
    throw err
  }
}
