import {
  EcomError,
  OrmConnectionError,
  OrmDriverError,
  OrmForeignKeyViolationError,
  OrmNotNullViolationError,
  OrmUniqueViolationError,
} from '../errors.js'
import type { DatabaseUrl } from './url.js'

type Kind = 'unique' | 'fk' | 'notnull' | 'connection' | undefined

const UNIQUE = new Set(['23505', '1062', 'ER_DUP_ENTRY', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY', 'P2002', 'UniqueConstraintViolation', 'SequelizeUniqueConstraintError'])
const FK = new Set(['23503', '1451', '1452', '1216', '1217', 'ER_ROW_IS_REFERENCED_2', 'ER_NO_REFERENCED_ROW_2', 'SQLITE_CONSTRAINT_FOREIGNKEY', 'P2003', 'ForeignKeyConstraintViolation', 'SequelizeForeignKeyConstraintError'])
const NOTNULL = new Set(['23502', '1048', '1364', 'ER_BAD_NULL_ERROR', 'ER_NO_DEFAULT_FOR_FIELD', 'SQLITE_CONSTRAINT_NOTNULL', 'P2011', 'NullConstraintViolation'])
const CONNECTION = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE',
  'ER_GET_CONNECTION_TIMEOUT', 'ER_CONNECTION_ALREADY_CLOSED', 'ER_SOCKET_UNEXPECTED_CLOSE', 'PROTOCOL_CONNECTION_LOST',
  '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', 'P1001', 'P1002', 'P1017', 'DatabaseNotReachable',
  'ConnectionClosed', 'SequelizeConnectionRefusedError', 'SequelizeConnectionError', 'SequelizeHostNotFoundError', 'SequelizeConnectionTimedOutError',
])
const CONNECTION_TEXT = /connection (?:is )?(?:closed|terminated|lost|refused)|terminating connection|not open|pool (?:is )?(?:closed|ended)|after calling end on the pool|can't reach database server|socket has unexpectedly been closed|server closed the connection/i

/** Every code-like property on an error and its causes (Prisma, Sequelize and drivers nest them differently). */
function facts(err: unknown): { codes: Set<string>; text: string } {
  const codes = new Set<string>()
  let text = ''
  const seen = new Set<unknown>()
  const visit = (e: unknown, depth: number): void => {
    if (e === null || typeof e !== 'object' || seen.has(e) || depth > 8) return
    seen.add(e)
    const o = e as Record<string, unknown>
    for (const k of ['code', 'errno', 'sqlState', 'kind', 'name', 'originalCode']) {
      const v = o[k]
      if (typeof v === 'string' || typeof v === 'number') codes.add(String(v))
    }
    if (typeof o.message === 'string') text += `${o.message}\n`
    for (const k of ['cause', 'parent', 'original', 'meta', 'driverAdapterError']) visit(o[k], depth + 1)
    if (Array.isArray(o.errors)) for (const x of o.errors) visit(x, depth + 1)
  }
  visit(err, 0)
  return { codes, text }
}

function kindOf(err: unknown): Kind {
  const { codes, text } = facts(err)
  const has = (set: Set<string>): boolean => [...codes].some((c) => set.has(c))
  if (has(UNIQUE) || /UNIQUE constraint failed|duplicate key value|Duplicate entry/i.test(text)) return 'unique'
  if (has(FK) || /FOREIGN KEY constraint failed|violates foreign key|foreign key constraint fails/i.test(text)) return 'fk'
  if (has(NOTNULL) || /NOT NULL constraint failed|violates not-null|cannot be null|doesn't have a default value/i.test(text)) return 'notnull'
  if (has(CONNECTION) || CONNECTION_TEXT.test(text)) return 'connection'
  return undefined
}

function firstLine(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return m.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0]?.slice(0, 300) ?? 'unknown error'
}

/**
 * Map whatever an ORM threw to one coded ecom error, so callers see the same code for the same
 * condition on every adapter and database. Ecom errors pass through untouched.
 */
export function normalizeError(err: unknown, db: DatabaseUrl, adapter: string): EcomError {
  if (err instanceof EcomError) return err
  const details = { adapter, dialect: db.dialect, target: db.target }
  switch (kindOf(err)) {
    case 'unique':
      return new OrmUniqueViolationError(`unique constraint violated (${adapter} on ${db.dialect})`, { cause: err, details })
    case 'fk':
      return new OrmForeignKeyViolationError(`foreign key constraint violated (${adapter} on ${db.dialect})`, { cause: err, details })
    case 'notnull':
      return new OrmNotNullViolationError(`not-null constraint violated (${adapter} on ${db.dialect})`, { cause: err, details })
    case 'connection':
      return connectionError(err, db, adapter)
    default:
      return new OrmDriverError(`${adapter} on ${db.dialect} failed: ${firstLine(err)}`, { cause: err, details })
  }
}

export function connectionError(err: unknown, db: DatabaseUrl, adapter: string): OrmConnectionError {
  const where = db.dialect === 'sqlite' ? `SQLite file ${db.file}` : `${db.dialect} at ${db.host}:${db.port}`
  return new OrmConnectionError(`cannot reach ${where} (${adapter}): ${firstLine(err)}`, {
    cause: err,
    details: { adapter, dialect: db.dialect, host: db.host, port: db.port, target: db.target },
  })
}
