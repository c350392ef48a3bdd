import { describe, expect, it } from 'vitest'
import { GenerateAppLayoutError, GenerateNameError } from '../../../src/errors.js'
import { IMPORT_MARKER, LIST_MARKER, registerModule } from '../../../src/runtime/generate/generator.js'
import { parseName } from '../../../src/runtime/generate/names.js'
import { renderText, varsFor } from '../../../src/runtime/generate/render.js'

describe('generate: names', () => {
  it.each([
    ['order-items', 'order-items', 'OrderItems', 'orderItems', 'order_items'],
    ['orderItems', 'order-items', 'OrderItems', 'orderItems', 'order_items'],
    ['OrderItems', 'order-items', 'OrderItems', 'orderItems', 'order_items'],
    ['order_items', 'order-items', 'OrderItems', 'orderItems', 'order_items'],
    ['products', 'products', 'Products', 'products', 'products'],
    ['v2-api', 'v2-api', 'V2Api', 'v2Api', 'v2_api'],
    ['HTTPLogs', 'http-logs', 'HttpLogs', 'httpLogs', 'http_logs'],
  ])('%s -> %s / %s / %s / %s', (raw, kebab, pascal, camel, snake) => {
    expect(parseName(raw)).toMatchObject({ kebab, pascal, camel, snake })
  })

  it('fills every placeholder form', () => {
    const vars = varsFor('module', parseName('order-items'))
    expect(renderText('__moduleKebab__ __modulePascal__ __moduleCamel__ __moduleSnake__ __moduleConstant__ __moduleTitle__', vars)).toBe(
      'order-items OrderItems orderItems order_items ORDER_ITEMS Order items'
    )
  })

  it.each(['', '1items', '-items', 'items-', 'order--items', 'a b', '../etc', 'a/b', 'naïve', 'x.y', 'a'.repeat(49)])('refuses %j', (raw) => {
    expect(() => parseName(raw)).toThrow(GenerateNameError)
  })

  it.each(['modules', 'delete', 'class', 'node_modules', 'ecom'])('refuses the reserved name %j', (raw) => {
    expect(() => parseName(raw)).toThrow(/reserved/)
  })
})

describe('generate: module registry', () => {
  const registry = `import type { AppModule } from '../types.js'\n${IMPORT_MARKER}\n\nexport const modules: AppModule[] = [\n  ${LIST_MARKER}\n]\n`

  it('adds the import and the entry before the markers, once', () => {
    const once = registerModule(registry, parseName('order-items'))!
    expect(once).toContain(`import orderItemsModule from './order-items/index.js'\n${IMPORT_MARKER}`)
    expect(once).toContain(`  orderItemsModule,\n  ${LIST_MARKER}`)
    expect(registerModule(once, parseName('order-items'))).toBeUndefined()
    const twice = registerModule(once, parseName('users'))!
    expect(twice.indexOf('orderItemsModule,')).toBeLessThan(twice.indexOf('usersModule,'))
  })

  it('refuses a registry without its markers', () => {
    expect(() => registerModule('export const modules = []\n', parseName('users'))).toThrow(GenerateAppLayoutError)
  })
})
