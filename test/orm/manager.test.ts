import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdapter, initialMigration, migrate, OrmManager } from '../../src/public/orm.js'
import { defineSchema } from '../../src/orm/schema.js'
import { shopSchema } from '../fixtures/orm/shop-schema.js'
import { freshDb, skipReason, type RawDb } from './helpers/raw.js'
import { startProxy } from './helpers/proxy.js'

describe('OrmManager options', () => {
  const a = createAdapter(shopSchema, { orm: 'drizzle', url: 'file::memory:' })
  it('validates at construction and names the option', () => {
    expect(() => new OrmManager({ schema: shopSchema, adapters: {} })).toThrow('options.adapters must hold at least one adapter')
    expect(() => new OrmManager({ schema: shopSchema, adapters: { a }, active: 'b' })).toThrow('options.active must name an adapter (a), got "b"')
    expect(() => new OrmManager({ schema: shopSchema, adapters: { a }, benchMs: -1 })).toThrow('options.benchMs must be a non-negative number of milliseconds, got -1')
    const other = defineSchema({ models: { X: { fields: { id: { type: 'int', primaryKey: true } } } } })
    expect(() => new OrmManager({ schema: other, adapters: { a } })).toThrow('options.adapters.a was built for another schema')
    expect(() => new OrmManager({ schema: shopSchema, adapters: { a } }).use('nope')).toThrow('no ORM adapter named "nope" (have a)')
  })
})

describe('OrmManager metrics', () => {
  it('publishes the active adapter as ecom_orm_adapter_active, and follows use()', async () => {
    const { Registry } = await import('prom-client')
    const registry = new Registry()
    const manager = new OrmManager({
      schema: shopSchema,
      adapters: { drizzle: createAdapter(shopSchema, { orm: 'drizzle', url: 'file::memory:' }), sequelize: createAdapter(shopSchema, { orm: 'sequelize', url: 'file::memory:' }) },
      registry,
    })
    expect(await registry.metrics()).toContain('ecom_orm_adapter_active{adapter="drizzle"} 1')
    expect(await registry.metrics()).toContain('ecom_orm_adapter_active{adapter="sequelize"} 0')
    manager.use('sequelize')
    expect(await registry.metrics()).toContain('ecom_orm_adapter_active{adapter="drizzle"} 0')
    expect(await registry.metrics()).toContain('ecom_orm_adapter_active{adapter="sequelize"} 1')
    await manager.close()
  })
})

const reason = skipReason('postgres')
if (reason) console.warn(reason)

describe.skipIf(reason !== undefined)('OrmManager health checks (PostgreSQL through a proxy)', () => {
  let raw: RawDb
  beforeAll(async () => {
    raw = await freshDb('postgres', 'ecom_orm_manager')
    await migrate(raw.url, [initialMigration(shopSchema)])
  })
  afterAll(async () => {
    await raw?.close()
  })

  it('benches an adapter whose database went away and restores it when it answers again', async () => {
    const target = new URL(raw.url)
    let proxy = await startProxy('127.0.0.1', Number(target.port || 5432))
    const port = proxy.port
    const viaProxy = new URL(raw.url)
    viaProxy.hostname = '127.0.0.1'
    viaProxy.port = String(port)
    const manager = new OrmManager({
      schema: shopSchema,
      adapters: { drizzle: createAdapter(shopSchema, { orm: 'drizzle', url: viaProxy.toString() }), prisma: createAdapter(shopSchema, { orm: 'prisma', url: raw.url }) },
      benchMs: 60_000,
    })
    await manager.connect()
    try {
      await proxy.kill()
      const health = await manager.checkHealth()
      expect(health.find((s) => s.name === 'drizzle')).toMatchObject({ healthy: false, active: true })
      expect(health.find((s) => s.name === 'drizzle')!.lastError).toContain(`127.0.0.1:${port}`)
      // active but benched: calls go to prisma meanwhile
      expect(await manager.repo('Customer').count()).toBe(0)
      proxy = await startProxy('127.0.0.1', Number(target.port || 5432), port)
      const back = await manager.checkHealth()
      expect(back.every((s) => s.healthy)).toBe(true)
      expect(await manager.repo('Customer').create({ email: 'h@x.io', name: 'h' })).toMatchObject({ email: 'h@x.io' })
    } finally {
      await manager.close()
      await proxy.kill()
    }
  })
})
