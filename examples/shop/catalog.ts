// The catalog: product validation (one rule set for the seed and for imports), NDJSON parsing through
// the native LineSplitter with per-line coded problems, the write of a validated batch, and the
// catalog version every worker compares to know when to rebuild its search indexes.
import type { Readable } from 'node:stream'
import { LineSplitter } from 'ecom/native'
import type { OrmManager, Repository, Transaction } from 'ecom/orm'
import type { ProductRow } from './db/schema.js'

export type ProductInput = Omit<ProductRow, 'id'>

export interface LineProblem {
  line: number
  code: string
  message: string
}

const SKU = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const CURRENCY = /^[A-Z]{3}$/

/** Checks one parsed NDJSON record; returns the product or every problem with it. */
export function validateProduct(v: unknown, line: number): { product?: ProductInput; problems: LineProblem[] } {
  const problems: LineProblem[] = []
  const bad = (field: string, message: string) => problems.push({ line, code: 'ECOM_ERR_SHOP_IMPORT_FIELD', message: `line ${line}: ${field}: ${message}` })
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push({ line, code: 'ECOM_ERR_SHOP_IMPORT_RECORD', message: `line ${line}: expected a JSON object` })
    return { problems }
  }
  const o = v as Record<string, unknown>
  const str = (k: string, max: number, required = true): string => {
    const x = o[k]
    if (x === undefined && !required) return ''
    if (typeof x !== 'string' || x.trim() === '') bad(k, 'expected a non-empty string')
    else if (x.length > max) bad(k, `at most ${max} characters, got ${x.length}`)
    return typeof x === 'string' ? x.trim() : ''
  }
  const sku = str('sku', 64)
  if (sku && !SKU.test(sku)) bad('sku', 'letters, digits, ".", "_" and "-" only')
  const title = str('title', 255)
  const brand = str('brand', 120, false)
  const category = str('category', 120, false)
  const description = str('description', 10_000, false)
  const price = o.priceCents
  if (!Number.isSafeInteger(price) || (price as number) <= 0) bad('priceCents', `expected a positive integer of minor units, got ${JSON.stringify(price)}`)
  const currency = o.currency ?? 'USD'
  if (typeof currency !== 'string' || !CURRENCY.test(currency)) bad('currency', `expected an ISO 4217 code, got ${JSON.stringify(currency)}`)
  const tags = o.tags ?? []
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) bad('tags', 'expected an array of strings')
  if (problems.length) return { problems }
  return {
    product: { sku, title, brand, category, description, priceCents: price as number, currency: currency as string, tags: tags as string[] },
    problems,
  }
}

export interface ParseResult {
  products: ProductInput[]
  problems: LineProblem[]
  lines: number
}

/**
 * Reads NDJSON through the native line splitter (one array of lines per chunk), parsing and
 * validating each line itself so a bad line is reported by number and the import goes on checking
 * the rest. Duplicate SKUs in one upload are a problem too (which line would win is not obvious).
 */
export async function parseCatalog(body: Readable, onProgress?: (lines: number) => void, maxProblems = 100): Promise<ParseResult> {
  const splitter = new LineSplitter({ batch: true, skipEmpty: false })
  body.on('error', (err) => splitter.destroy(err))
  const products: ProductInput[] = []
  const problems: LineProblem[] = []
  const seen = new Map<string, number>()
  let line = 0
  for await (const batch of body.pipe(splitter) as AsyncIterable<string[]>) {
    for (const text of batch) {
      line++
      if (text.trim() === '') continue
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch (err) {
        if (problems.length < maxProblems) problems.push({ line, code: 'ECOM_ERR_SHOP_IMPORT_JSON', message: `line ${line}: not JSON (${(err as Error).message})` })
        continue
      }
      const r = validateProduct(parsed, line)
      if (!r.product) {
        problems.push(...r.problems.slice(0, Math.max(0, maxProblems - problems.length)))
        continue
      }
      const first = seen.get(r.product.sku)
      if (first !== undefined) {
        if (problems.length < maxProblems) problems.push({ line, code: 'ECOM_ERR_SHOP_IMPORT_DUPLICATE', message: `line ${line}: sku ${r.product.sku} already appears on line ${first}` })
        continue
      }
      seen.set(r.product.sku, line)
      products.push(r.product)
    }
    onProgress?.(line)
  }
  return { products, problems, lines: line }
}

const CHUNK = 500

/** Inserts new SKUs and updates known ones, inside the caller's transaction. */
export async function writeProducts(tx: Transaction, products: ProductInput[]): Promise<{ created: number; updated: number }> {
  const repo = tx.repo('Product')
  let created = 0
  let updated = 0
  for (let i = 0; i < products.length; i += CHUNK) {
    const part = products.slice(i, i + CHUNK)
    const known = await repo.findMany({ where: { sku: { in: part.map((p) => p.sku) } }, select: ['id', 'sku'], limit: CHUNK })
    const ids = new Map(known.map((r) => [r.sku as string, r.id as number]))
    const fresh = part.filter((p) => !ids.has(p.sku))
    if (fresh.length) created += await repo.createMany(fresh)
    for (const p of part) {
      const id = ids.get(p.sku)
      if (id === undefined) continue
      await repo.update(id, { ...p, updatedAt: new Date() })
      updated++
    }
  }
  return { created, updated }
}

/**
 * Bumps the catalog version: the transaction's first statement, so on SQLite it takes the write lock
 * before anything is read (a read-then-write transaction could fail with SQLITE_BUSY under another
 * process's commit).
 */
export async function bumpCatalogVersion(tx: Transaction): Promise<void> {
  await tx.repo('ShopMeta').increment({ key: 'catalog_version' }, { value: 1 })
}

export async function catalogVersion(orm: OrmManager): Promise<number> {
  const row = await orm.repo('ShopMeta').findById('catalog_version')
  return row ? Number(row.value) : 0
}

export function productRepo(orm: OrmManager): Repository {
  return orm.repo('Product')
}
