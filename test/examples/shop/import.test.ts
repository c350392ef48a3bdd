// The shop's catalog validation and NDJSON parsing (through the native LineSplitter): every bad
// line is reported by number with its code, good lines come back as products.
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { parseCatalog, validateProduct } from '../../../examples/shop/catalog.js'

const ok = { sku: 'A-1', title: 'Lamp', priceCents: 1200 }

describe('examples/shop catalog import', () => {
  it('accepts a minimal product and fills defaults', () => {
    expect(validateProduct(ok, 1)).toEqual({
      product: { sku: 'A-1', title: 'Lamp', brand: '', category: '', description: '', priceCents: 1200, currency: 'USD', tags: [] },
      problems: [],
    })
  })

  it('names every problem of a record with its line', () => {
    const r = validateProduct({ sku: 'has space', title: '', priceCents: 1.5, currency: 'usd', tags: [1] }, 7)
    expect(r.product).toBeUndefined()
    expect(r.problems.map((p) => p.message)).toEqual([
      'line 7: sku: letters, digits, ".", "_" and "-" only',
      'line 7: title: expected a non-empty string',
      'line 7: priceCents: expected a positive integer of minor units, got 1.5',
      'line 7: currency: expected an ISO 4217 code, got "usd"',
      'line 7: tags: expected an array of strings',
    ])
    expect(validateProduct([1], 2).problems).toEqual([{ line: 2, code: 'ECOM_ERR_SHOP_IMPORT_RECORD', message: 'line 2: expected a JSON object' }])
  })

  it('parses NDJSON split across chunks, with CRLF and blank lines, counting lines', async () => {
    const text = `${JSON.stringify(ok)}\r\n\n${JSON.stringify({ ...ok, sku: 'A-2' })}`
    const chunks = [text.slice(0, 10), text.slice(10, 31), text.slice(31)].map((s) => Buffer.from(s))
    const progress: number[] = []
    const r = await parseCatalog(Readable.from(chunks), (n) => progress.push(n))
    expect(r.problems).toEqual([])
    expect(r.products.map((p) => p.sku)).toEqual(['A-1', 'A-2'])
    expect(r.lines).toBe(3)
    expect(progress.at(-1)).toBe(3)
  })

  it('reports bad JSON and duplicate SKUs by line and keeps checking the rest', async () => {
    const text = [JSON.stringify(ok), '{"sku":', JSON.stringify(ok), JSON.stringify({ ...ok, sku: 'B', priceCents: 0 })].join('\n')
    const r = await parseCatalog(Readable.from([Buffer.from(text)]))
    expect(r.problems.map((p) => [p.line, p.code])).toEqual([
      [2, 'ECOM_ERR_SHOP_IMPORT_JSON'],
      [3, 'ECOM_ERR_SHOP_IMPORT_DUPLICATE'],
      [4, 'ECOM_ERR_SHOP_IMPORT_FIELD'],
    ])
    expect(r.problems[1]!.message).toBe('line 3: sku A-1 already appears on line 1')
  })
})
