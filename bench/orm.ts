// ORM overhead: each adapter through ecom's repository (validation, manager, metrics, decoding) against
// the same ORM called directly on the same connection and table, on SQLite. Then the three side by side.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import {
  createAdapter,
  defineSchema,
  initialMigration,
  migrate,
  OrmManager,
  type DrizzleAdapter,
  type OrmName,
  type SequelizeAdapter,
} from '../src/public/orm.js'
import { median, type BenchRow, type BenchSuite } from './util.js'

const require = createRequire(import.meta.url)
const MS = Number(process.env.ECOM_BENCH_MS ?? 150)
const ROUNDS = Number(process.env.ECOM_BENCH_ROUNDS ?? 12)

/**
 * Operations per CPU-second of this process. Both sides run in this thread (better-sqlite3 is
 * synchronous), so CPU time is the work done; unlike wall time it does not count the time the machine's
 * other load kept this process off the CPU.
 */
async function opsPerCpuSecond(fn: () => unknown, ms: number): Promise<number> {
  for (let i = 0; i < 20; i++) await fn()
  const cpu0 = process.cpuUsage()
  const end = performance.now() + ms
  let n = 0
  while (performance.now() < end) {
    await fn()
    n++
  }
  const cpu = process.cpuUsage(cpu0)
  return (n * 1e6) / (cpu.user + cpu.system)
}

const SEED = 1000

const schema = defineSchema({
  models: {
    Item: {
      fields: {
        id: { type: 'int', primaryKey: true },
        sku: { type: 'string', unique: true },
        name: { type: 'string' },
        priceCents: { type: 'money' },
        stock: { type: 'int' },
      },
    },
  },
})

type Ops = Record<'findById' | 'findMany 100' | 'insert' | 'update', () => Promise<unknown>>

function direct(orm: OrmName, adapter: unknown, next: () => number): Ops {
  const id = (): number => (next() % SEED) + 1
  if (orm === 'drizzle') {
    const a = adapter as DrizzleAdapter
    const d = require('drizzle-orm')
    const db = a.native as any
    const t = a.table('Item') as any
    return {
      findById: async () => (await db.select().from(t).where(d.eq(t.id, id())).limit(1))[0],
      'findMany 100': async () => db.select().from(t).limit(100),
      insert: async () => (await db.insert(t).values({ sku: `d-${next()}`, name: 'n', priceCents: 100, stock: 1 }).returning())[0],
      // the repository's update returns the stored row: the direct call does the same
      update: async () => (await db.update(t).set({ name: `u${next()}` }).where(d.eq(t.id, id())).returning())[0],
    }
  }
  if (orm === 'sequelize') {
    // The calls the adapter makes: findAll with a limit, create without Sequelize-side validation or
    // hooks (ecom validates before the call), then the row read back after an update.
    const M = (adapter as SequelizeAdapter).model('Item') as any
    return {
      findById: async () => (await M.findAll({ where: { id: id() }, limit: 1, raw: true }))[0],
      'findMany 100': () => M.findAll({ limit: 100, raw: true }),
      insert: async () => (await M.create({ sku: `d-${next()}`, name: 'n', priceCents: 100, stock: 1 }, { validate: false, hooks: false })).get({ plain: true }),
      update: async () => {
        const key = id()
        await M.update({ name: `u${next()}` }, { where: { id: key }, validate: false, hooks: false })
        return (await M.findAll({ where: { id: key }, limit: 1, raw: true }))[0]
      },
    }
  }
  const p = (adapter as { native: any }).native.item
  return {
    // the adapter reads by key with findMany + take 1 (one code path for every where), not findUnique
    findById: async () => (await p.findMany({ where: { id: { equals: id() } }, take: 1 }))[0],
    'findMany 100': () => p.findMany({ take: 100 }),
    insert: () => p.create({ data: { sku: `d-${next()}`, name: 'n', priceCents: 100, stock: 1 } }),
    update: () => p.update({ where: { id: id() }, data: { name: `u${next()}` } }),
  }
}

function viaEcom(manager: OrmManager, next: () => number): Ops {
  const items = manager.repo('Item')
  const id = (): number => (next() % SEED) + 1
  return {
    findById: () => items.findById(id()),
    'findMany 100': () => items.findMany({ limit: 100 }),
    insert: () => items.create({ sku: `e-${next()}`, name: 'n', priceCents: 100, stock: 1 }),
    update: () => items.update(id(), { name: `u${next()}` }),
  }
}

export const suite: BenchSuite = {
  area: 'orm',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = []
    const side: BenchRow[] = []
    const overhead: BenchRow[] = []
    for (const orm of ['prisma', 'sequelize', 'drizzle'] as OrmName[]) {
      const dir = mkdtempSync(join(tmpdir(), 'ecom-bench-orm-'))
      const url = `file:${join(dir, 'bench.db')}`
      await migrate(url, [initialMigration(schema)])
      const adapter = createAdapter(schema, { orm, url })
      const manager = new OrmManager({ schema, adapters: { [orm]: adapter } })
      await manager.connect()
      let n = 0
      const next = (): number => ++n
      await manager.repo('Item').createMany(Array.from({ length: SEED }, (_, i) => ({ sku: `seed-${i}`, name: `item ${i}`, priceCents: i, stock: i })))
      const mine = viaEcom(manager, next)
      const theirs = direct(orm, adapter, next)
      for (const op of Object.keys(mine) as Array<keyof Ops>) {
        // Many short paired windows (direct, then ecom) and the median of the per-pair ratios: on a shared,
        // loaded machine the drift hits both sides of a pair alike, and the median drops outlier pairs.
        const ds: number[] = []
        const es: number[] = []
        const ratios: number[] = []
        for (let round = 0; round < ROUNDS; round++) {
          const dr = await opsPerCpuSecond(theirs[op], MS)
          const er = await opsPerCpuSecond(mine[op], MS)
          ds.push(dr)
          es.push(er)
          ratios.push(er / dr)
        }
        const d = median(ds)
        const e = median(es)
        const pct = (1 - median(ratios)) * 100
        const group = `orm ${op}: ${orm} via ecom vs ${orm} direct (SQLite)`
        rows.push({ group, name: `ecom orm -> ${orm}`, value: e, unit: 'ops/CPU-s', higherIsBetter: true, ours: true, target: '>= 0.90x direct (overhead <= 10%)', note: `overhead ${pct.toFixed(1)}%` })
        rows.push({ group, name: `${orm} direct`, value: d, unit: 'ops/CPU-s', higherIsBetter: true })
        overhead.push({ group: 'orm overhead vs the same ORM called directly (SQLite, median of paired runs, lower is better)', name: `${orm} ${op}`, value: pct, unit: '%', higherIsBetter: false, target: '<= 10%' })
        side.push({ group: 'orm: the three adapters side by side through ecom (SQLite, ops per CPU-second)', name: `${op} - ${orm}`, value: e, unit: 'ops/CPU-s', higherIsBetter: true })
      }
      await manager.close()
      rmSync(dir, { recursive: true, force: true })
    }
    return [...rows, ...overhead, ...side]
  },
}
