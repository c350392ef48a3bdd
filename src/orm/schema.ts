import { OrmSchemaError } from '../errors.js'

/** The portable field types. `money` is an integer count of minor units (cents), stored as BIGINT. */
export type FieldType = 'string' | 'text' | 'int' | 'bigint' | 'boolean' | 'timestamp' | 'json' | 'uuid' | 'money'

export const FIELD_TYPES: readonly FieldType[] = ['string', 'text', 'int', 'bigint', 'boolean', 'timestamp', 'json', 'uuid', 'money']

export type Dialect = 'sqlite' | 'postgres' | 'mysql'

export interface FieldInput {
  type: FieldType
  /** @default false */
  primaryKey?: boolean
  /** Only for int/bigint primary keys: the database numbers new rows. @default true for an int/bigint primary key */
  autoIncrement?: boolean
  /** @default false */
  nullable?: boolean
  /** @default false */
  unique?: boolean
  /**
   * A literal default, applied by the repository on create and written into the DDL.
   * Two generated defaults: `'now'` on a timestamp field, `'random'` on a uuid field.
   */
  default?: unknown
  /** Column name in the database. @default the field name in snake_case */
  column?: string
  /** Maximum length of a `string` field. @default 255 */
  length?: number
  /** A foreign key to another model's field (its primary key by default). */
  references?: { model: string; field?: string; onDelete?: 'cascade' | 'restrict' | 'set null' }
}

export interface IndexInput {
  fields: string[]
  /** @default false */
  unique?: boolean
  /** @default `<table>_<columns>_idx` (or `_key` for unique) */
  name?: string
}

export interface ModelInput {
  /** Table name. @default the model name in snake_case */
  table?: string
  fields: Record<string, FieldInput>
  indexes?: IndexInput[]
}

export interface SchemaInput {
  models: Record<string, ModelInput>
}

export interface Field {
  name: string
  model: string
  type: FieldType
  column: string
  primaryKey: boolean
  autoIncrement: boolean
  nullable: boolean
  unique: boolean
  hasDefault: boolean
  default: unknown
  length: number
  references: { model: string; field: string; onDelete: 'cascade' | 'restrict' | 'set null' } | undefined
}

export interface Index {
  name: string
  fields: string[]
  unique: boolean
}

export interface Model {
  name: string
  table: string
  fields: Field[]
  fieldMap: ReadonlyMap<string, Field>
  primaryKey: Field
  indexes: Index[]
}

export interface Schema {
  readonly models: readonly Model[]
  model(name: string): Model | undefined
  /** A stable JSON form of the definition: migrations snapshot it and checksums hash it. */
  toJSON(): SchemaSnapshot
}

export interface SchemaSnapshot {
  models: Array<{
    name: string
    table: string
    fields: Array<Omit<Field, 'model'>>
    indexes: Index[]
  }>
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

function defaultAllowed(type: FieldType, value: unknown): boolean {
  if (value === null) return true
  switch (type) {
    case 'string':
    case 'text':
      return typeof value === 'string'
    case 'uuid':
      return value === 'random' || typeof value === 'string'
    case 'int':
    case 'money':
      return Number.isSafeInteger(value)
    case 'bigint':
      return typeof value === 'bigint' || Number.isSafeInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'timestamp':
      return value === 'now' || (value instanceof Date && !Number.isNaN(value.getTime()))
    case 'json':
      return true
  }
}

/**
 * Validate and normalise a model definition. Every problem is reported at once as `path: message`.
 * The result is what every adapter, the migration planner and the Prisma schema printer read.
 */
export function defineSchema(input: SchemaInput): Schema {
  const problems: string[] = []
  const models: Model[] = []
  if (input === null || typeof input !== 'object' || input.models === null || typeof input.models !== 'object') {
    throw new OrmSchemaError('schema.models must be an object of model definitions')
  }
  const tables = new Set<string>()
  for (const [name, m] of Object.entries(input.models)) {
    const at = `models.${name}`
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) problems.push(`${at}: a model name must be PascalCase letters and digits`)
    const table = m.table ?? snakeCase(name)
    if (!IDENT.test(table)) problems.push(`${at}.table: "${table}" is not a valid table name`)
    if (tables.has(table)) problems.push(`${at}.table: "${table}" is used by another model`)
    tables.add(table)
    const fields: Field[] = []
    const columns = new Set<string>()
    for (const [fname, f] of Object.entries(m.fields ?? {})) {
      const fat = `${at}.fields.${fname}`
      if (!/^[a-z][A-Za-z0-9]*$/.test(fname)) problems.push(`${fat}: a field name must be camelCase letters and digits`)
      if (!FIELD_TYPES.includes(f?.type)) {
        problems.push(`${fat}.type: expected one of ${FIELD_TYPES.join(', ')}, got ${JSON.stringify(f?.type)}`)
        continue
      }
      const column = f.column ?? snakeCase(fname)
      if (!IDENT.test(column)) problems.push(`${fat}.column: "${column}" is not a valid column name`)
      if (columns.has(column)) problems.push(`${fat}.column: "${column}" is used twice`)
      columns.add(column)
      const primaryKey = f.primaryKey === true
      const numericPk = primaryKey && (f.type === 'int' || f.type === 'bigint')
      const autoIncrement = f.autoIncrement ?? numericPk
      if (autoIncrement && !numericPk) problems.push(`${fat}.autoIncrement: only an int or bigint primary key can auto-increment`)
      if (primaryKey && f.nullable) problems.push(`${fat}.nullable: a primary key cannot be nullable`)
      if (primaryKey && (f.type === 'json' || f.type === 'text' || f.type === 'boolean')) problems.push(`${fat}.type: a ${f.type} field cannot be a primary key`)
      const hasDefault = Object.hasOwn(f, 'default')
      if (hasDefault && !defaultAllowed(f.type, f.default)) problems.push(`${fat}.default: ${String(f.default)} is not a valid ${f.type} default`)
      if (hasDefault && f.default === null && !f.nullable) problems.push(`${fat}.default: null on a non-nullable field`)
      if (f.length !== undefined && (!Number.isInteger(f.length) || f.length < 1 || f.length > 16383)) problems.push(`${fat}.length: expected an integer from 1 to 16383`)
      fields.push({
        name: fname,
        model: name,
        type: f.type,
        column,
        primaryKey,
        autoIncrement,
        nullable: f.nullable === true,
        unique: f.unique === true && !primaryKey,
        hasDefault,
        default: f.default,
        length: f.type === 'uuid' ? 36 : (f.length ?? 255),
        references: f.references
          ? { model: f.references.model, field: f.references.field ?? '', onDelete: f.references.onDelete ?? 'restrict' }
          : undefined,
      })
    }
    for (const f of fields) {
      if (f.unique && (f.type === 'text' || f.type === 'json')) problems.push(`${at}.fields.${f.name}.unique: a ${f.type} field cannot be unique (MySQL cannot index it whole); use string`)
    }
    const pks = fields.filter((f) => f.primaryKey)
    if (pks.length !== 1) problems.push(`${at}: exactly one field must be the primary key, found ${pks.length}`)
    const fieldMap = new Map(fields.map((f) => [f.name, f]))
    const indexes: Index[] = []
    for (const [i, ix] of (m.indexes ?? []).entries()) {
      const iat = `${at}.indexes[${i}]`
      if (!Array.isArray(ix.fields) || ix.fields.length === 0) {
        problems.push(`${iat}.fields: expected a non-empty list of field names`)
        continue
      }
      for (const fn of ix.fields) {
        const f = fieldMap.get(fn)
        if (!f) problems.push(`${iat}.fields: unknown field "${fn}"`)
        else if (f.type === 'text' || f.type === 'json') problems.push(`${iat}.fields: a ${f.type} field cannot be indexed (MySQL cannot index it whole); use string`)
      }
      const cols = ix.fields.map((fn) => fieldMap.get(fn)?.column ?? fn)
      const ixName = ix.name ?? `${table}_${cols.join('_')}_${ix.unique ? 'key' : 'idx'}`
      if (!IDENT.test(ixName)) problems.push(`${iat}.name: "${ixName}" is not a valid index name (at most 63 characters)`)
      indexes.push({ name: ixName, fields: [...ix.fields], unique: ix.unique === true })
    }
    models.push({ name, table, fields, fieldMap, primaryKey: pks[0]!, indexes })
  }
  const byName = new Map(models.map((m) => [m.name, m]))
  for (const m of models) {
    for (const f of m.fields) {
      if (!f.references) continue
      const fat = `models.${m.name}.fields.${f.name}.references`
      const target = byName.get(f.references.model)
      if (!target) {
        problems.push(`${fat}.model: unknown model "${f.references.model}"`)
        continue
      }
      if (!target.primaryKey) continue
      const tf = f.references.field === '' ? target.primaryKey : target.fieldMap.get(f.references.field)
      if (!tf) {
        problems.push(`${fat}.field: unknown field "${f.references.field}" on ${target.name}`)
        continue
      }
      if (!tf.primaryKey && !tf.unique) problems.push(`${fat}.field: ${target.name}.${tf.name} must be the primary key or unique`)
      const compatible = tf.type === f.type || (['int', 'bigint'].includes(tf.type) && ['int', 'bigint'].includes(f.type))
      if (!compatible) problems.push(`${fat}: ${f.type} cannot reference ${tf.type} ${target.name}.${tf.name}`)
      if (f.references.onDelete === 'set null' && !f.nullable) problems.push(`${fat}.onDelete: "set null" needs a nullable field`)
      f.references.field = tf.name
    }
  }
  if (problems.length > 0) throw new OrmSchemaError(`invalid model definition:\n${problems.map((p) => `  ${p}`).join('\n')}`, { details: { problems } })

  const snapshot: SchemaSnapshot = {
    models: models.map((m) => ({
      name: m.name,
      table: m.table,
      fields: m.fields.map(({ model: _model, ...rest }) => ({ ...rest, default: encodeDefault(rest.default) })),
      indexes: m.indexes,
    })),
  }
  return {
    models,
    model: (name) => byName.get(name),
    toJSON: () => structuredClone(snapshot),
  }
}

function encodeDefault(v: unknown): unknown {
  if (typeof v === 'bigint') return { $bigint: v.toString() }
  if (v instanceof Date) return { $date: v.toISOString() }
  return v
}

/** Unique constraints of a model: its primary key, unique fields and unique indexes, as field-name lists. */
export function uniqueKeys(model: Model): string[][] {
  return [
    [model.primaryKey.name],
    ...model.fields.filter((f) => f.unique).map((f) => [f.name]),
    ...model.indexes.filter((i) => i.unique).map((i) => i.fields),
  ]
}
