import type { Dialect, Model, Schema } from './schema.js'
import { defaultDatabaseUrl, parseDatabaseUrl, type DatabaseUrl } from './url.js'
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
  /** Update one row by primary key and return it as stored (undefined when missing), in one round trip where the ORM can. */
  updateById(model: Model, id: unknown, data: Row): Promise<Record<string, unknown> | undefined>
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

/**
 * What the three adapters share: the database URL they were given (or the default), and one root
 * session for calls made outside a transaction, built on first use and dropped on reconnect. The
 * adapters differ only in how a session is made from a handle.
 */
export abstract class BaseAdapter implements AdapterSession {
  readonly db: DatabaseUrl
  readonly dialect: Dialect
  #root?: AdapterSession

  constructor(url: string | undefined, orm: OrmName) {
    this.db = parseDatabaseUrl(url ?? defaultDatabaseUrl(), `${orm}.url`)
    this.dialect = this.db.dialect
  }

  /** The session over the adapter's own connection (not a transaction's). */
  protected abstract rootSession(): AdapterSession

  protected root(): AdapterSession {
    this.#root ??= this.rootSession()
    return this.#root
  }

  /** Forget the root session, so the next call builds one over the new connection. */
  protected resetRoot(): void {
    this.#root = undefined
  }

  insert(m: Model, row: Row) { return this.root().insert(m, row) }
  insertMany(m: Model, rows: Row[]) { return this.root().insertMany(m, rows) }
  find(m: Model, q: FindQuery) { return this.root().find(m, q) }
  count(m: Model, where: Cond) { return this.root().count(m, where) }
  update(m: Model, where: Cond, data: Row) { return this.root().update(m, where, data) }
  updateById(m: Model, id: unknown, data: Row) { return this.root().updateById(m, id, data) }
  increment(m: Model, where: Cond, by: Record<string, number | bigint>) { return this.root().increment(m, where, by) }
  delete(m: Model, where: Cond) { return this.root().delete(m, where) }
}

/** updateById for ORMs without UPDATE ... RETURNING: update, then read the row back by its (new) key. */
export async function updateThenFind(s: AdapterSession, m: Model, id: unknown, data: Row): Promise<Record<string, unknown> | undefined> {
  const pk = m.primaryKey
  const n = await s.update(m, { kind: 'cmp', field: pk, op: 'eq', value: id }, data)
  if (n === 0) return undefined
  const rows = await s.find(m, { where: { kind: 'cmp', field: pk, op: 'eq', value: data[pk.name] ?? id }, orderBy: [], limit: 1 })
  return rows[0]
}

/**
 * A SQLite connection is one handle: a transaction must not interleave with other calls. Ordinary calls
 * share the handle freely (no promise on the fast path); a transaction waits for them to drain and runs
 * alone, and calls arriving meanwhile wait for it.
 */
export class Lock {
  #shared = 0
  #exclusive = false
  #waiters: Array<() => void> = []

  #wake(): void {
    const w = this.#waiters
    this.#waiters = []
    for (const f of w) f()
  }

  shared<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#exclusive) return this.#sharedSlow(fn)
    this.#shared++
    let p: Promise<T>
    try {
      p = fn()
    } catch (err) {
      this.#doneShared()
      return Promise.reject(err)
    }
    return p.finally(() => this.#doneShared())
  }

  /** Take a shared hold without waiting; false while a transaction holds the lock. Pair with releaseShared(). */
  tryShared(): boolean {
    if (this.#exclusive) return false
    this.#shared++
    return true
  }

  releaseShared(): void {
    this.#doneShared()
  }

  #doneShared(): void {
    if (--this.#shared === 0 && this.#waiters.length > 0) this.#wake()
  }

  async #sharedSlow<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive) await new Promise<void>((r) => this.#waiters.push(r))
    return this.shared(fn)
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.#exclusive || this.#shared > 0) await new Promise<void>((r) => this.#waiters.push(r))
    this.#exclusive = true
    try {
      return await fn()
    } finally {
      this.#exclusive = false
      this.#wake()
    }
  }
}
