import { OrmMigrationError } from '../../errors.js'
import type { SchemaSnapshot } from '../schema.js'
import type { ColumnSpec, IndexSpec, Operation } from './operations.js'

type SnapModel = SchemaSnapshot['models'][number]
type SnapField = SnapModel['fields'][number]

function literalDefault(f: SnapField): ColumnSpec['default'] {
  const d = f.default
  if (!f.hasDefault || d === null || d === undefined) return undefined
  if (typeof d === 'string') return f.type === 'uuid' && d === 'random' ? undefined : f.type === 'timestamp' ? undefined : d
  if (typeof d === 'number' || typeof d === 'boolean') return d
  if (typeof d === 'object' && d !== null && '$bigint' in d) return Number((d as { $bigint: string }).$bigint)
  return undefined
}

function columnSpec(snap: SchemaSnapshot, f: SnapField): ColumnSpec {
  const spec: ColumnSpec = {
    column: f.column,
    type: f.type,
    length: f.length,
    nullable: f.nullable,
    primaryKey: f.primaryKey,
    autoIncrement: f.autoIncrement,
  }
  const d = literalDefault(f)
  if (d !== undefined) spec.default = d
  if (f.references) {
    const target = snap.models.find((m) => m.name === f.references!.model)!
    const tf = target.fields.find((x) => x.name === f.references!.field)!
    spec.references = { table: target.table, column: tf.column, onDelete: f.references.onDelete }
  }
  return spec
}

/** Unique fields become unique indexes named `<table>_<column>_key`, so every dialect names them alike. */
function indexSpecs(m: SnapModel): IndexSpec[] {
  const col = (name: string): string => m.fields.find((f) => f.name === name)!.column
  return [
    ...m.fields.filter((f) => f.unique).map((f) => ({ name: `${m.table}_${f.column}_key`.slice(0, 63), columns: [f.column], unique: true })),
    ...m.indexes.map((i) => ({ name: i.name, columns: i.fields.map(col), unique: i.unique })),
  ]
}

/** Referenced tables first, so foreign keys always point at a table that exists. */
function createOrder(models: SnapModel[]): SnapModel[] {
  const out: SnapModel[] = []
  const seen = new Set<string>()
  const visit = (m: SnapModel, stack: Set<string>): void => {
    if (seen.has(m.name) || stack.has(m.name)) return
    stack.add(m.name)
    for (const f of m.fields) {
      const t = f.references && models.find((x) => x.name === f.references!.model)
      if (t && t !== m) visit(t, stack)
    }
    seen.add(m.name)
    out.push(m)
  }
  for (const m of models) visit(m, new Set())
  return out
}

const COMPARED: Array<keyof SnapField> = ['type', 'length', 'nullable', 'primaryKey', 'autoIncrement']

/**
 * The operations that take a database from `prev` (undefined: empty) to `next`. Tables, columns and
 * indexes are added and dropped; a changed column is refused with a message asking for an `sql` step.
 */
export function planMigration(prev: SchemaSnapshot | undefined, next: SchemaSnapshot): Operation[] {
  const ops: Operation[] = []
  const before = new Map((prev?.models ?? []).map((m) => [m.table, m]))
  const after = new Map(next.models.map((m) => [m.table, m]))
  const dropIdx: Operation[] = []
  const createIdx: Operation[] = []
  for (const m of createOrder(next.models)) {
    const old = before.get(m.table)
    if (!old) {
      ops.push({ op: 'createTable', table: m.table, columns: m.fields.map((f) => columnSpec(next, f)) })
      for (const index of indexSpecs(m)) createIdx.push({ op: 'createIndex', table: m.table, index })
      continue
    }
    const oldCols = new Map(old.fields.map((f) => [f.column, f]))
    const newCols = new Map(m.fields.map((f) => [f.column, f]))
    for (const f of m.fields) {
      const o = oldCols.get(f.column)
      if (!o) {
        const spec = columnSpec(next, f)
        if (!f.nullable && spec.default === undefined) {
          throw new OrmMigrationError(`${m.name}.${f.name}: a new column on an existing table must be nullable or have a literal default`)
        }
        ops.push({ op: 'addColumn', table: m.table, column: spec })
        continue
      }
      const changed = COMPARED.filter((k) => JSON.stringify(o[k]) !== JSON.stringify(f[k]))
      if (changed.length > 0) {
        throw new OrmMigrationError(`${m.name}.${f.name}: changing ${changed.join(', ')} of an existing column is not planned automatically; add an { op: 'sql' } migration by hand`)
      }
    }
    for (const o of old.fields) if (!newCols.has(o.column)) ops.push({ op: 'dropColumn', table: m.table, column: o.column })
    const oldIdx = new Map(indexSpecs(old).map((i) => [i.name, i]))
    const newIdx = new Map(indexSpecs(m).map((i) => [i.name, i]))
    for (const [name, i] of oldIdx) {
      const n = newIdx.get(name)
      if (!n || JSON.stringify(n) !== JSON.stringify(i)) dropIdx.push({ op: 'dropIndex', table: m.table, name })
    }
    for (const [name, i] of newIdx) {
      const o = oldIdx.get(name)
      if (!o || JSON.stringify(o) !== JSON.stringify(i)) createIdx.push({ op: 'createIndex', table: m.table, index: i })
    }
  }
  const drops: Operation[] = []
  for (const m of [...(prev?.models ?? [])].reverse()) if (!after.has(m.table)) drops.push({ op: 'dropTable', table: m.table })
  return [...dropIdx, ...ops, ...createIdx, ...drops]
}
