import { describe, expect, it } from 'vitest'
import { defineSchema, printPrismaSchema, type SchemaInput } from '../../src/public/orm.js'
import { parseDatabaseUrl } from '../../src/orm/url.js'
import { shopSchema } from '../fixtures/orm/shop-schema.js'

describe('defineSchema', () => {
  it('normalises names, columns, keys and relations', () => {
    const order = shopSchema.model('Order')!
    expect(order.table).toBe('shop_order')
    expect(order.primaryKey).toMatchObject({ name: 'id', type: 'bigint', autoIncrement: true })
    expect(order.fieldMap.get('customerId')).toMatchObject({ column: 'customer_id', references: { model: 'Customer', field: 'id', onDelete: 'restrict' } })
    expect(shopSchema.model('Customer')!.fieldMap.get('createdAt')!.column).toBe('created_at')
    expect(shopSchema.model('Product')!.primaryKey.autoIncrement).toBe(false)
  })

  it('reports every problem at once as path: message', () => {
    const bad = {
      models: {
        user: { fields: { id: { type: 'int' } } },
        Order: {
          fields: {
            id: { type: 'text', primaryKey: true },
            total: { type: 'float' },
            userId: { type: 'int', references: { model: 'Nobody' } },
            flag: { type: 'boolean', default: 'yes' },
            tag: { type: 'string', nullable: false, default: null },
          },
          indexes: [{ fields: ['missing'] }],
        },
      },
    } as unknown as SchemaInput
    let message = ''
    try {
      defineSchema(bad)
    } catch (err) {
      expect((err as { code: string }).code).toBe('ECOM_ERR_ORM_SCHEMA')
      message = (err as Error).message
    }
    for (const part of [
      'models.user: a model name must be PascalCase',
      'models.user: exactly one field must be the primary key, found 0',
      'models.Order.fields.id.type: a text field cannot be a primary key',
      'models.Order.fields.total.type: expected one of string, text, int, bigint, boolean, timestamp, json, uuid, money, got "float"',
      'models.Order.fields.userId.references.model: unknown model "Nobody"',
      'models.Order.fields.flag.default: yes is not a valid boolean default',
      'models.Order.fields.tag.default: null on a non-nullable field',
      'models.Order.indexes[0].fields: unknown field "missing"',
    ]) expect(message).toContain(part)
  })

  it('snapshots to stable JSON (what migrations diff and checksum)', () => {
    const a = JSON.stringify(shopSchema.toJSON())
    expect(JSON.stringify(shopSchema.toJSON())).toBe(a)
    expect(a).not.toMatch(/"name":"id","model"/)
  })
})

describe('printPrismaSchema', () => {
  it('maps every model, column, index and relation onto the tables the migrations create', () => {
    const pg = printPrismaSchema(shopSchema, 'postgresql')
    expect(pg).toContain('provider = "prisma-client-js"')
    expect(pg).toContain('provider = "postgresql"')
    expect(pg).toContain('createdAt DateTime @db.Timestamptz(3) @map("created_at")')
    expect(pg).toContain('email String @db.VarChar(200) @unique(map: "customer_email_key") @map("email")')
    expect(pg).toContain('visits BigInt @map("visits")')
    expect(pg).toContain('id BigInt @id @default(autoincrement()) @map("id")')
    expect(pg).toContain('rel_customerId Customer @relation("Order_customerId", fields: [customerId], references: [id], onDelete: Restrict')
    expect(pg).toContain('back_Order_customerId Order[] @relation("Order_customerId")')
    expect(pg).toContain('@@index([customerId, placedAt], map: "shop_order_customer_id_placed_at_idx")')
    expect(pg).toContain('@@map("shop_order")')
    expect(printPrismaSchema(shopSchema, 'mysql')).toContain('ref String @db.Char(36) @map("ref")')
    expect(printPrismaSchema(shopSchema, 'sqlite')).not.toContain('@db.')
  })
})

describe('parseDatabaseUrl', () => {
  it('reads the three dialects and their targets', () => {
    expect(parseDatabaseUrl('file:./x.db')).toMatchObject({ dialect: 'sqlite' })
    expect(parseDatabaseUrl('postgres://u:p@db.local:6543/shop?schema=s1')).toMatchObject({ dialect: 'postgres', host: 'db.local', port: 6543, database: 'shop', schema: 's1', target: 'db.local:6543' })
    expect(parseDatabaseUrl('mariadb://root@127.0.0.1/shop')).toMatchObject({ dialect: 'mysql', port: 3306, database: 'shop' })
    expect(() => parseDatabaseUrl('redis://x')).toThrow(/must start with file:, postgres:\/\/, mysql:\/\/ or mariadb:\/\//)
    expect(() => parseDatabaseUrl('mysql://h')).toThrow(/must name a database/)
  })
})
