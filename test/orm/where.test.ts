import { describe, expect, it } from 'vitest'
import { likePattern, matches, parseOrderBy, parseWhere } from '../../src/orm/where.js'
import { globPattern } from '../../src/orm/adapters/drizzle.js'
import { shopSchema } from '../fixtures/orm/shop-schema.js'

const customer = shopSchema.model('Customer')!

function fails(where: unknown): string {
  try {
    parseWhere(customer, where)
  } catch (err) {
    return `${(err as { code: string }).code} ${(err as Error).message}`
  }
  return 'parsed'
}

describe('parseWhere', () => {
  it('turns the portable where into one validated tree with canonical values', () => {
    const c = parseWhere(customer, { visits: { gte: 3 }, createdAt: { lt: '2024-01-01T00:00:00Z' }, OR: [{ nickname: null }, { name: { contains: 'a', mode: 'insensitive' } }] })
    expect(c).toMatchObject({
      kind: 'and',
      items: [
        { kind: 'cmp', op: 'gte', value: 3n },
        { kind: 'cmp', op: 'lt', value: new Date('2024-01-01T00:00:00Z') },
        { kind: 'or', items: [{ kind: 'null', isNull: true }, { kind: 'text', op: 'contains', insensitive: true, value: 'a' }] },
      ],
    })
  })

  it('names the path and what was expected', () => {
    expect(fails({ age: 1 })).toBe('ECOM_ERR_ORM_VALIDATION where: unknown field "age" on model Customer')
    expect(fails({ balance: { gt: '5' } })).toBe('ECOM_ERR_ORM_VALIDATION where.balance.gt: expected an integer amount of minor units, got string "5"')
    expect(fails({ name: { regex: '.*' } })).toMatch(/where\.name: unknown operator "regex"/)
    expect(fails({ AND: { name: 'x' } })).toMatch(/where\.AND: expected a list of wheres/)
    expect(fails({ OR: [{ name: { in: [null] } }] })).toMatch(/where\.OR\[0\]\.name\.in\[0\]: null is not allowed/)
    expect(fails({ vip: { gt: true } })).toMatch(/a boolean field cannot be ordered/)
    expect(fails({ prefs: { in: [] } })).toMatch(/json field cannot be matched/)
    expect(fails({ name: { mode: 'insensitive' } })).toMatch(/mode: only applies to contains/)
    let deep: Record<string, unknown> = { name: 'x' }
    for (let i = 0; i < 20; i++) deep = { AND: [deep] }
    expect(fails(deep)).toMatch(/nested deeper than 16 levels/)
  })

  it('orderBy accepts one object or a list, and rejects json and bad directions', () => {
    expect(parseOrderBy(customer, [{ vip: 'desc' }, { id: 'asc' }]).map((o) => `${o.field.name} ${o.dir}`)).toEqual(['vip desc', 'id asc'])
    expect(() => parseOrderBy(customer, { prefs: 'asc' })).toThrow(/json field cannot be ordered/)
  })
})

describe('patterns', () => {
  it('escapes LIKE and GLOB wildcards so they match themselves', () => {
    expect(likePattern('contains', '50%_off\\')).toBe('%50\\%\\_off\\\\%')
    expect(globPattern('startsWith', 'a*b?[c]')).toBe('a[*]b[?][[]c]*')
  })

  it('the JS evaluator agrees with the where semantics', () => {
    const w = parseWhere(customer, { name: { endsWith: 'NA', mode: 'sensitive' }, balance: { in: [1, 2] } })
    expect(matches(w, { name: 'JOHANNA', balance: 2 })).toBe(true)
    expect(matches(w, { name: 'Johanna', balance: 2 })).toBe(false)
  })
})
