import { OrmMigrationError } from '../../errors.js'
import type { Dialect } from '../schema.js'
import type { ColumnSpec, Operation } from './operations.js'

export function quote(dialect: Dialect, ident: string): string {
  return dialect === 'mysql' ? `\`${ident}\`` : `"${ident}"`
}

/** The column type each dialect stores a field type in; every adapter declares the same. */
export function columnType(dialect: Dialect, c: Pick<ColumnSpec, 'type' | 'length' | 'autoIncrement'>): string {
  switch (dialect) {
    case 'sqlite':
      if (c.autoIncrement) return 'INTEGER'
      return { string: 'TEXT', text: 'TEXT', uuid: 'TEXT', int: 'INTEGER', bigint: 'BIGINT', money: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'DATETIME', json: 'TEXT' }[c.type]
    case 'postgres':
      if (c.autoIncrement) return c.type === 'bigint' ? 'BIGSERIAL' : 'SERIAL'
      return { string: `VARCHAR(${c.length})`, text: 'TEXT', uuid: 'UUID', int: 'INTEGER', bigint: 'BIGINT', money: 'BIGINT', boolean: 'BOOLEAN', timestamp: 'TIMESTAMPTZ(3)', json: 'JSONB' }[c.type]
    case 'mysql':
      return { string: `VARCHAR(${c.length})`, text: 'TEXT', uuid: 'CHAR(36)', int: 'INT', bigint: 'BIGINT', money: 'BIGINT', boolean: 'TINYINT(1)', timestamp: 'DATETIME(3)', json: 'JSON' }[c.type]
  }
}

function literal(dialect: Dialect, v: string | number | boolean): string {
  if (typeof v === 'boolean') return dialect === 'postgres' ? (v ? 'TRUE' : 'FALSE') : v ? '1' : '0'
  if (typeof v === 'number') return String(v)
  return `'${v.replace(/'/g, "''")}'`
}

function columnDef(dialect: Dialect, c: ColumnSpec, inlinePk: boolean): string {
  const parts = [quote(dialect, c.column), columnType(dialect, c)]
  if (inlinePk && c.primaryKey) {
    parts.push('PRIMARY KEY')
    if (c.autoIncrement && dialect === 'sqlite') parts.push('AUTOINCREMENT')
    if (c.autoIncrement && dialect === 'mysql') parts.push('AUTO_INCREMENT')
  } else if (!c.nullable) parts.push('NOT NULL')
  else parts.push('NULL')
  if (c.default !== undefined && !(dialect === 'mysql' && c.type === 'text')) parts.push(`DEFAULT ${literal(dialect, c.default)}`)
  return parts.join(' ')
}

function fkClause(dialect: Dialect, table: string, c: ColumnSpec): string {
  const r = c.references!
  const name = `${table}_${c.column}_fkey`.slice(0, 63)
  return `CONSTRAINT ${quote(dialect, name)} FOREIGN KEY (${quote(dialect, c.column)}) REFERENCES ${quote(dialect, r.table)} (${quote(dialect, r.column)}) ON DELETE ${r.onDelete.toUpperCase()}`
}

/** The statements one operation becomes on one dialect. */
export function operationSql(dialect: Dialect, op: Operation): string[] {
  const q = (s: string): string => quote(dialect, s)
  switch (op.op) {
    case 'createTable': {
      const defs = op.columns.map((c) => columnDef(dialect, c, true))
      for (const c of op.columns) if (c.references) defs.push(fkClause(dialect, op.table, c))
      const tail = dialect === 'mysql' ? ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4' : ''
      return [`CREATE TABLE ${q(op.table)} (\n  ${defs.join(',\n  ')}\n)${tail}`]
    }
    case 'dropTable':
      return [`DROP TABLE ${q(op.table)}`]
    case 'addColumn': {
      const stmts = [`ALTER TABLE ${q(op.table)} ADD COLUMN ${columnDef(dialect, op.column, false)}`]
      if (op.column.references) {
        if (dialect === 'sqlite') throw new OrmMigrationError(`SQLite cannot add a foreign key column to an existing table (${op.table}.${op.column.column}); write an sql migration`)
        stmts.push(`ALTER TABLE ${q(op.table)} ADD ${fkClause(dialect, op.table, op.column)}`)
      }
      return stmts
    }
    case 'dropColumn':
      return [`ALTER TABLE ${q(op.table)} DROP COLUMN ${q(op.column)}`]
    case 'createIndex':
      return [`CREATE ${op.index.unique ? 'UNIQUE ' : ''}INDEX ${q(op.index.name)} ON ${q(op.table)} (${op.index.columns.map(q).join(', ')})`]
    case 'dropIndex':
      return [dialect === 'mysql' ? `DROP INDEX ${q(op.name)} ON ${q(op.table)}` : `DROP INDEX ${q(op.name)}`]
    case 'sql': {
      const text = op.sql[dialect]
      if (text === undefined) throw new OrmMigrationError(`an sql migration step has no ${dialect} text`)
      return [text]
    }
  }
}
