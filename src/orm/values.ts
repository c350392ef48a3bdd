import { randomUUID } from 'node:crypto'
import { OrmNotNullViolationError, OrmValidationError } from '../errors.js'
import type { Field, Model } from './schema.js'

/** A row as the repository returns it: field names to JS values (bigint for bigint, Date for timestamp). */
export type Row = Record<string, unknown>

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (v instanceof Date) return 'Date'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`
  return typeof v
}

function bad(path: string, expected: string, got: unknown): OrmValidationError {
  return new OrmValidationError(`${path}: expected ${expected}, got ${describe(got)}`, { details: { path } })
}

function isJsonValue(v: unknown, depth = 0): boolean {
  if (depth > 64) return false
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (Array.isArray(v)) return v.every((x) => isJsonValue(x, depth + 1))
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.values(v as object).every((x) => isJsonValue(x, depth + 1))
  }
  return false
}

/**
 * Check one value against its field and return it in canonical JS form (bigint for bigint fields, Date
 * for timestamps). `null` passes through; whether null is allowed is the caller's business.
 */
export function coerceValue(field: Field, value: unknown, path: string): unknown {
  if (value === null) return null
  switch (field.type) {
    case 'string':
    case 'text':
      if (typeof value !== 'string') throw bad(path, 'a string', value)
      if (field.type === 'string' && value.length > field.length && [...value].length > field.length) throw bad(path, `a string of at most ${field.length} characters`, value)
      if (value.includes('\u0000')) throw bad(path, 'a string without NUL characters', value)
      return value
    case 'uuid':
      if (typeof value !== 'string' || !UUID.test(value)) throw bad(path, 'a UUID string', value)
      return value.toLowerCase()
    case 'int':
      if (!Number.isSafeInteger(value) || (value as number) > 2147483647 || (value as number) < -2147483648) throw bad(path, 'a 32-bit integer', value)
      return value
    case 'money':
      if (!Number.isSafeInteger(value)) throw bad(path, 'an integer amount of minor units', value)
      return value
    case 'bigint':
      if (typeof value === 'bigint') {
        if (value > 9223372036854775807n || value < -9223372036854775808n) throw bad(path, 'a 64-bit integer', value)
        return value
      }
      if (Number.isSafeInteger(value)) return BigInt(value as number)
      throw bad(path, 'a bigint or a safe integer', value)
    case 'boolean':
      if (typeof value !== 'boolean') throw bad(path, 'a boolean', value)
      return value
    case 'timestamp': {
      const d = value instanceof Date ? value : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined
      if (!d || Number.isNaN(d.getTime())) throw bad(path, 'a Date or an ISO 8601 string', value)
      return new Date(d.getTime())
    }
    case 'json':
      if (!isJsonValue(value)) throw bad(path, 'a JSON value (plain objects, arrays, strings, finite numbers, booleans, null)', value)
      return value
  }
}

export function fieldOf(model: Model, name: string, path: string): Field {
  const f = model.fieldMap.get(name)
  if (!f) throw new OrmValidationError(`${path}: unknown field "${name}" on model ${model.name}`, { details: { path } })
  return f
}

function plainObject(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Date) {
    throw new OrmValidationError(`${path}: expected an object, got ${describe(v)}`, { details: { path } })
  }
  return v as Record<string, unknown>
}

function generatedDefault(f: Field): unknown {
  if (f.default === 'now' && f.type === 'timestamp') return new Date()
  if (f.default === 'random' && f.type === 'uuid') return randomUUID()
  if (f.type === 'bigint' && typeof f.default === 'number') return BigInt(f.default)
  if (f.default instanceof Date) return new Date(f.default.getTime())
  return structuredClone(f.default)
}

/**
 * Validate the data of a create: known fields, right types, defaults filled in, and every
 * non-nullable field present. Auto-increment keys may be omitted.
 */
export function prepareCreate(model: Model, data: unknown, path: string): Row {
  const input = plainObject(data, path)
  const out: Row = {}
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue
    const f = fieldOf(model, k, path)
    out[k] = coerceValue(f, v, `${path}.${k}`)
  }
  for (const f of model.fields) {
    if (out[f.name] === undefined && f.hasDefault) out[f.name] = generatedDefault(f)
    const v = out[f.name]
    if (v === undefined && f.autoIncrement) continue
    if ((v === undefined || v === null) && !f.nullable) {
      throw new OrmNotNullViolationError(`${model.name}.${f.name} must not be null`, { details: { model: model.name, field: f.name } })
    }
    if (v === undefined) out[f.name] = null
  }
  return out
}

/** Validate the data of an update: known fields, right types, no null into a non-nullable field. */
export function prepareUpdate(model: Model, data: unknown, path: string): Row {
  const input = plainObject(data, path)
  const out: Row = {}
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue
    const f = fieldOf(model, k, path)
    const c = coerceValue(f, v, `${path}.${k}`)
    if (c === null && !f.nullable) {
      throw new OrmNotNullViolationError(`${model.name}.${f.name} must not be null`, { details: { model: model.name, field: f.name } })
    }
    out[k] = c
  }
  if (Object.keys(out).length === 0) throw new OrmValidationError(`${path}: nothing to update`, { details: { path } })
  return out
}

/** Turn what an ORM returned for one field into the canonical JS form every adapter must yield. */
export function decodeValue(f: Field, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null
  switch (f.type) {
    case 'int':
    case 'money':
      return typeof raw === 'number' ? raw : Number(raw)
    case 'bigint':
      return typeof raw === 'bigint' ? raw : BigInt(typeof raw === 'number' ? Math.trunc(raw) : String(raw))
    case 'boolean':
      return raw === true || raw === 1 || raw === 1n || raw === '1' || raw === 'true'
    case 'timestamp':
      if (raw instanceof Date) return raw
      if (typeof raw === 'number' || typeof raw === 'bigint') return new Date(Number(raw))
      if (typeof raw === 'string' && /^\d+$/.test(raw)) return new Date(Number(raw))
      return new Date(String(raw))
    case 'uuid':
      return String(raw).toLowerCase()
    case 'string':
    case 'text':
      return typeof raw === 'string' ? raw : String(raw)
    case 'json':
      return raw
  }
}

const CANONICAL = Symbol('ecom.orm.canonicalRows')

/** An adapter marks rows it already returns in canonical JS form (and with exactly the selected fields). */
export function markCanonical<T extends object[]>(rows: T): T {
  Object.defineProperty(rows, CANONICAL, { value: true })
  return rows
}

/**
 * Decode the rows of a find in place: they are fresh objects the ORM built for this call, keyed by
 * exactly the selected fields, so rewriting their values saves an allocation per row. A value already
 * in canonical form (most are) is left as it is rather than stored again.
 */
export function decodeRows(model: Model, rows: Array<Record<string, unknown>>, select?: readonly string[]): Row[] {
  if ((rows as unknown as Record<symbol, boolean>)[CANONICAL]) return rows as Row[]
  const fields = select ? select.map((n) => model.fieldMap.get(n)!) : model.fields
  for (const row of rows) {
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!
      const raw = row[f.name]
      const v = decodeValue(f, raw)
      if (v !== raw) row[f.name] = v
    }
  }
  return rows as Row[]
}

/** Decode a row keyed by field names, keeping only the selected fields. */
export function decodeRow(model: Model, raw: Record<string, unknown>, select?: readonly string[]): Row {
  const out: Row = {}
  if (select) {
    for (const name of select) out[name] = decodeValue(model.fieldMap.get(name)!, raw[name])
    return out
  }
  const fields = model.fields
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    out[f.name] = decodeValue(f, raw[f.name])
  }
  return out
}
