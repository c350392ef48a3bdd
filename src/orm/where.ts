import { OrmValidationError } from '../errors.js'
import type { Field, Model } from './schema.js'
import { coerceValue, fieldOf } from './values.js'

/**
 * The portable where. A plain object ANDs its keys; each key is a field (shorthand for `eq`, or an
 * object of operators) or `AND` / `OR` with a list of nested wheres.
 *
 * ```ts
 * { email: 'a@b.c', total: { gte: 100, lt: 500 }, name: { contains: 'ann', mode: 'insensitive' },
 *   OR: [{ status: { in: ['paid', 'shipped'] } }, { deletedAt: { isNull: true } }] }
 * ```
 */
export type Where = { [field: string]: unknown; AND?: Where[]; OR?: Where[] }

export type CompareOp = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'
export type TextOp = 'contains' | 'startsWith' | 'endsWith'

/** The validated where every adapter translates: values already in canonical JS form. */
export type Cond =
  | { kind: 'and'; items: Cond[] }
  | { kind: 'or'; items: Cond[] }
  | { kind: 'cmp'; field: Field; op: CompareOp; value: unknown }
  | { kind: 'in'; field: Field; values: unknown[]; negate: boolean }
  | { kind: 'text'; field: Field; op: TextOp; value: string; insensitive: boolean }
  | { kind: 'null'; field: Field; isNull: boolean }

const OPS = new Set(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'notIn', 'contains', 'startsWith', 'endsWith', 'isNull', 'mode'])
const ORDERED = new Set(['string', 'text', 'int', 'bigint', 'timestamp', 'money', 'uuid'])
const MAX_DEPTH = 16
const MAX_IN = 10_000

function fail(path: string, message: string): never {
  throw new OrmValidationError(`${path}: ${message}`, { details: { path } })
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)
}

export function parseWhere(model: Model, where: unknown, path = 'where', depth = 0): Cond {
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH} levels`)
  if (where === undefined) return { kind: 'and', items: [] }
  if (!isPlain(where)) fail(path, 'expected an object')
  const items: Cond[] = []
  for (const [key, value] of Object.entries(where)) {
    if (value === undefined) continue
    const at = `${path}.${key}`
    if (key === 'AND' || key === 'OR') {
      if (!Array.isArray(value)) fail(at, 'expected a list of wheres')
      const sub = value.map((w, i) => parseWhere(model, w, `${at}[${i}]`, depth + 1))
      items.push({ kind: key === 'AND' ? 'and' : 'or', items: sub })
      continue
    }
    const field = fieldOf(model, key, path)
    if (!isPlain(value)) {
      items.push(value === null ? { kind: 'null', field, isNull: true } : { kind: 'cmp', field, op: 'eq', value: coerceValue(field, value, at) })
      continue
    }
    const ops = Object.keys(value)
    if (ops.length === 0) fail(at, 'expected at least one operator')
    for (const op of ops) if (!OPS.has(op)) fail(at, `unknown operator "${op}" (expected one of ${[...OPS].join(', ')})`)
    const mode = value.mode
    if (mode !== undefined && mode !== 'sensitive' && mode !== 'insensitive') fail(`${at}.mode`, 'expected "sensitive" or "insensitive"')
    if (mode !== undefined && !ops.some((o) => o === 'contains' || o === 'startsWith' || o === 'endsWith')) fail(`${at}.mode`, 'only applies to contains, startsWith and endsWith')
    for (const op of ops) {
      const v = value[op]
      const oat = `${at}.${op}`
      if (v === undefined || op === 'mode') continue
      switch (op) {
        case 'eq':
        case 'ne':
          if (v === null) items.push({ kind: 'null', field, isNull: op === 'eq' })
          else items.push({ kind: 'cmp', field, op, value: coerceValue(field, v, oat) })
          break
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte':
          if (!ORDERED.has(field.type)) fail(oat, `a ${field.type} field cannot be ordered`)
          if (v === null) fail(oat, 'cannot compare with null')
          items.push({ kind: 'cmp', field, op, value: coerceValue(field, v, oat) })
          break
        case 'in':
        case 'notIn':
          if (!Array.isArray(v)) fail(oat, 'expected a list')
          if (v.length > MAX_IN) fail(oat, `at most ${MAX_IN} values`)
          if (field.type === 'json') fail(oat, 'a json field cannot be matched by in/notIn')
          items.push({ kind: 'in', field, negate: op === 'notIn', values: v.map((x, i) => (x === null ? fail(`${oat}[${i}]`, 'null is not allowed; use isNull') : coerceValue(field, x, `${oat}[${i}]`))) })
          break
        case 'contains':
        case 'startsWith':
        case 'endsWith':
          if (field.type !== 'string' && field.type !== 'text' && field.type !== 'uuid') fail(oat, `a ${field.type} field has no text operators`)
          if (typeof v !== 'string') fail(oat, 'expected a string')
          items.push({ kind: 'text', field, op, value: v, insensitive: mode === 'insensitive' })
          break
        case 'isNull':
          if (typeof v !== 'boolean') fail(oat, 'expected true or false')
          items.push({ kind: 'null', field, isNull: v })
          break
      }
    }
    if (field.type === 'json' && items.some((c) => c.kind === 'cmp' && c.field === field)) fail(at, 'a json field can only be tested with isNull')
  }
  return items.length === 1 ? items[0]! : { kind: 'and', items }
}

export type OrderBy = Array<{ field: Field; dir: 'asc' | 'desc' }>

/** `orderBy: { createdAt: 'desc' }` or a list of such objects for several keys. */
export function parseOrderBy(model: Model, orderBy: unknown, path = 'orderBy'): OrderBy {
  if (orderBy === undefined) return []
  const list = Array.isArray(orderBy) ? orderBy : [orderBy]
  const out: OrderBy = []
  list.forEach((o, i) => {
    const at = Array.isArray(orderBy) ? `${path}[${i}]` : path
    if (!isPlain(o)) fail(at, 'expected { field: "asc" | "desc" }')
    for (const [k, d] of Object.entries(o)) {
      const field = fieldOf(model, k, at)
      if (d !== 'asc' && d !== 'desc') fail(`${at}.${k}`, 'expected "asc" or "desc"')
      if (field.type === 'json') fail(`${at}.${k}`, 'a json field cannot be ordered')
      out.push({ field, dir: d })
    }
  })
  return out
}

export function parseSelect(model: Model, select: unknown, path = 'select'): string[] | undefined {
  if (select === undefined) return undefined
  if (!Array.isArray(select) || select.length === 0) fail(path, 'expected a non-empty list of field names')
  return select.map((s, i) => {
    if (typeof s !== 'string') fail(`${path}[${i}]`, 'expected a field name')
    return fieldOf(model, s, path).name
  })
}

export function parseCount(v: unknown, path: string): number | undefined {
  if (v === undefined) return undefined
  if (!Number.isSafeInteger(v) || (v as number) < 0) fail(path, `expected a non-negative integer, got ${String(v)}`)
  return v as number
}

/** Escape LIKE wildcards; the adapters pair this with ESCAPE '\'. */
export function likePattern(op: TextOp, value: string): string {
  const esc = value.replace(/[\\%_]/g, (c) => `\\${c}`)
  return op === 'contains' ? `%${esc}%` : op === 'startsWith' ? `${esc}%` : `%${esc}`
}

/** Evaluate a where on a decoded row in JS; used where an ORM cannot express a case rule natively. */
export function matches(cond: Cond, row: Record<string, unknown>): boolean {
  switch (cond.kind) {
    case 'and':
      return cond.items.every((c) => matches(c, row))
    case 'or':
      return cond.items.some((c) => matches(c, row))
    case 'null':
      return (row[cond.field.name] === null) === cond.isNull
    case 'text': {
      const raw = row[cond.field.name]
      if (raw === null || raw === undefined) return false
      const hay = cond.insensitive ? String(raw).toLowerCase() : String(raw)
      const needle = cond.insensitive ? cond.value.toLowerCase() : cond.value
      return cond.op === 'contains' ? hay.includes(needle) : cond.op === 'startsWith' ? hay.startsWith(needle) : hay.endsWith(needle)
    }
    case 'in': {
      const v = row[cond.field.name]
      if (v === null || v === undefined) return false
      const hit = cond.values.some((x) => cmp(v, x) === 0)
      return cond.negate ? !hit : hit
    }
    case 'cmp': {
      const v = row[cond.field.name]
      if (v === null || v === undefined) return false
      const c = cmp(v, cond.value)
      switch (cond.op) {
        case 'eq': return c === 0
        case 'ne': return c !== 0
        case 'gt': return c > 0
        case 'gte': return c >= 0
        case 'lt': return c < 0
        case 'lte': return c <= 0
      }
    }
  }
}

function cmp(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a
  const y = b instanceof Date ? b.getTime() : b
  return (x as number) < (y as number) ? -1 : (x as number) > (y as number) ? 1 : 0
}

/** Every field a where refers to. */
export function whereFields(cond: Cond, out = new Set<string>()): Set<string> {
  if (cond.kind === 'and' || cond.kind === 'or') for (const c of cond.items) whereFields(c, out)
  else out.add(cond.field.name)
  return out
}

/** True if the where contains a text operator of the given sensitivity. */
export function hasTextOp(cond: Cond, insensitive: boolean): boolean {
  if (cond.kind === 'and' || cond.kind === 'or') return cond.items.some((c) => hasTextOp(c, insensitive))
  return cond.kind === 'text' && cond.insensitive === insensitive
}
