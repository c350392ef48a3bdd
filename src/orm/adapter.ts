import type { Dialect, Model, Schema } from './schema.js'
import type { DatabaseUrl } from './url.js'
import type { Row } from './values.js'
import type { Cond, OrderBy } from './where.js'

export type OrmName = 'prisma' | 'sequelize' | 'drizzle'

export interface FindQuery {
  where: Cond
  orderBy: OrderBy
  limit?: number
  offset?: number
  /** Field names to return; all when unset. */
  select?: string[]
}

/**
 * What one ORM must do, in field names and canonical JS values (see values.ts). Inputs are already
 * validated; outputs are rows keyed by field name that the repository decodes. A session is either the
 * adapter itself or the handle of a transaction in flight.
 */
export interface AdapterSession {
  insert(model: Model, row: Row): Promise<Record<string, unknown>>
  insertMany(model: Model, rows: Row[]): Promise<number>
  find(model: Model, q: FindQuery): Promise<Array<Record<string, unknown>>>
  count(model: Model, where: Cond): Promise<number>
  update(model: Model, where: Cond, data: Row): Promise<number>
  /** `SET col = col + by` in one statement. */
  increment(model: Model, where: Cond, by: Record<string, number | bigint>): Promise<number>
  delete(model: Model, where: Cond): Promise<number>
}

export interface OrmAdapter extends AdapterSession {
  readonly orm: OrmName
  readonly dialect: Dialect
  readonly db: DatabaseUrl
  readonly schema: Schema
  /** Open the connection and prove it with a round trip; throws OrmConnectionError naming host and port. */
  connect(): Promise<void>
  /** One cheap round trip (`SELECT 1`). */
  ping(): Promise<void>
  /** Run fn in one database transaction: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (session: AdapterSession) => Promise<T>): Promise<T>
  close(): Promise<void>
  /** The ORM's own handle (PrismaClient, Sequelize instance, Drizzle database), for what ecom does not cover. */
  readonly native: unknown
  /** The driver handle the adapter owns (better-sqlite3 Database, pg Pool, mariadb/mysql2 Pool). */
  readonly driver: unknown
}

/** A SQLite connection is one handle: queries outside a transaction must wait for it to finish. */
export class Lock {
  #tail: Promise<void> = Promise.resolve()
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#tail
    let release!: () => void
    this.#tail = new Promise<void>((r) => (release = r))
    await prev
    try {
      return await fn()
    } finally {
      release()
    }
  }
}
