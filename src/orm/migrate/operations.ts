import type { Dialect, FieldType } from '../schema.js'

/** A column as migrations record it: enough to print DDL for every dialect, nothing adapter-specific. */
export interface ColumnSpec {
  column: string
  type: FieldType
  length: number
  nullable: boolean
  primaryKey: boolean
  autoIncrement: boolean
  /** A literal default written into the DDL (generated defaults such as 'now' are applied by ecom). */
  default?: string | number | boolean
  references?: { table: string; column: string; onDelete: 'cascade' | 'restrict' | 'set null' }
}

export interface IndexSpec {
  name: string
  columns: string[]
  unique: boolean
}

/** Dialect-neutral migration steps; each dialect's DDL is printed from them when the migration runs. */
export type Operation =
  | { op: 'createTable'; table: string; columns: ColumnSpec[] }
  | { op: 'dropTable'; table: string }
  | { op: 'addColumn'; table: string; column: ColumnSpec }
  | { op: 'dropColumn'; table: string; column: string }
  | { op: 'createIndex'; table: string; index: IndexSpec }
  | { op: 'dropIndex'; table: string; name: string }
  /** Hand-written SQL, one text per dialect; a dialect without one is an error when it runs. */
  | { op: 'sql'; sql: Partial<Record<Dialect, string>> }

export interface Migration {
  /** Sortable id, e.g. `0001_init`. */
  id: string
  operations: Operation[]
  /** The model definition after this migration, so the next one can be planned as a diff. */
  snapshot?: unknown
}
