/* eslint-disable @typescript-eslint/no-explicit-any -- Drizzle tables are built at run time from the model definition */
import { BaseAdapter, updateThenFind, type AdapterSession, type FindQuery, type OrmAdapter } from '../adapter.js'
import { normalizeError, connectionError } from '../driver-errors.js'
import { optional } from '../migrate/sql-client.js'
import type { Field, Model, Schema } from '../schema.js'
import { markCanonical, type Row } from '../values.js'
import { likePattern, type Cond } from '../where.js'

type Any = any

export interface DrizzleAdapterOptions {
  /** `file:./app.db`, `postgres://…` or `mysql://` / `mariadb://…`. @default $ECOM_DATABASE_URL, else `file:./ecom.db` */
  url?: string
  /** Pool size for PostgreSQL and MySQL. @default 5 */
  poolSize?: number
}

/** SQLite GLOB is case-sensitive and has no escape character: wildcards are escaped as classes. */
export function globPattern(op: 'contains' | 'startsWith' | 'endsWith', value: string): string {
  const esc = value.replace(/[*?[]/g, (c) => `[${c}]`)
  return op === 'contains' ? `*${esc}*` : op === 'startsWith' ? `${esc}*` : `*${esc}`
}

interface Orm {
  d: Any
  sql: Any
}

/**
 * Drizzle over better-sqlite3, node-postgres or mysql2. Tables are built from the model definition
 * with the column types the migrations create; every value travels as a bound parameter.
 */
export class DrizzleAdapter extends BaseAdapter implements OrmAdapter {
  readonly orm = 'drizzle' as const
  native: unknown
  driver: unknown
  #o!: Orm
  #tables = new Map<string, Any>()
  #closed = false

  constructor(
    readonly schema: Schema,
    readonly options: DrizzleAdapterOptions,
  ) {
    super(options.url, 'drizzle')
  }

  async connect(): Promise<void> {
    this.#closed = false
    this.resetRoot()
    const d = optional<Any>('drizzle-orm', 'the drizzle adapter')
    this.#o = { d, sql: d.sql }
    const db = this.db
    try {
      if (db.dialect === 'sqlite') {
        const Database = optional<Any>('better-sqlite3', 'the drizzle adapter on SQLite')
        const h = new Database(db.file)
        h.pragma('journal_mode = WAL')
        h.pragma('foreign_keys = ON')
        // Numbers past 2^53 must survive: integers come back as bigint and the repository narrows them.
        h.defaultSafeIntegers(true)
        this.driver = h
        this.native = optional<Any>('drizzle-orm/better-sqlite3', 'the drizzle adapter on SQLite').drizzle(h)
      } else if (db.dialect === 'postgres') {
        const pg = optional<Any>('pg', 'the drizzle adapter on PostgreSQL')
        const pool = new pg.Pool({
          host: db.host, port: db.port, user: db.user, password: db.password, database: db.database,
          max: this.options.poolSize ?? 5, connectionTimeoutMillis: 5000, application_name: 'ecom-orm-drizzle',
          options: `-c search_path=${db.schema}`,
        })
        pool.on('error', () => {}) // an idle client killed by the server; the pool replaces it
        this.driver = pool
        this.native = optional<Any>('drizzle-orm/node-postgres', 'the drizzle adapter on PostgreSQL').drizzle(pool)
      } else {
        const mysql = optional<Any>('mysql2', 'the drizzle adapter on MySQL/MariaDB')
        const pool = mysql.createPool({
          host: db.host, port: db.port, user: db.user, password: db.password, database: db.database,
          connectionLimit: this.options.poolSize ?? 5, connectTimeout: 5000, timezone: 'Z',
          supportBigNumbers: true, bigNumberStrings: true, dateStrings: false,
        })
        this.driver = pool
        this.native = optional<Any>('drizzle-orm/mysql2', 'the drizzle adapter on MySQL/MariaDB').drizzle(pool, { mode: 'default' })
      }
      for (const m of this.schema.models) this.#tables.set(m.name, this.#buildTable(m))
    } catch (err) {
      throw connectionError(err, db, 'drizzle')
    }
    try {
      await this.ping()
    } catch (err) {
      await this.close().catch(() => {})
      throw connectionError(err, db, 'drizzle')
    }
  }

  #buildTable(m: Model): Any {
    const dialect = this.dialect
    const cols: Record<string, Any> = {}
    if (dialect === 'sqlite') {
      const c = optional<Any>('drizzle-orm/sqlite-core', 'the drizzle adapter')
      const ct = (dataType: string, to: (v: Any) => Any, from: (v: Any) => Any): Any =>
        c.customType({ dataType: () => dataType, toDriver: to, fromDriver: from })
      const id = (v: Any): Any => v
      // Values leave Drizzle already in ecom's canonical JS form (integers arrive as bigint because the
      // handle uses safe integers), so the repository need not decode SQLite rows a second time.
      const num = (v: Any): number => Number(v)
      const big = (v: Any): bigint => (typeof v === 'bigint' ? v : BigInt(v))
      const kinds: Record<string, (col: string) => Any> = {
        string: (n) => c.text(n), text: (n) => c.text(n), uuid: (n) => ct('TEXT', id, (v) => String(v).toLowerCase())(n),
        int: (n) => ct('INTEGER', id, num)(n), bigint: (n) => ct('BIGINT', id, big)(n), money: (n) => ct('BIGINT', id, num)(n),
        boolean: (n) => ct('BOOLEAN', (v) => (v ? 1 : 0), (v) => v === 1n || v === 1 || v === true)(n),
        timestamp: (n) => ct('DATETIME', (v: Date) => v.getTime(), (v) => new Date(Number(v)))(n),
        json: (n) => ct('TEXT', (v) => JSON.stringify(v), (v) => JSON.parse(v))(n),
      }
      for (const f of m.fields) {
        let col = kinds[f.type]!(f.column)
        // the migrations made an auto-increment key an INTEGER PRIMARY KEY; inserts simply omit it
        if (f.primaryKey) col = col.primaryKey()
        if (!f.nullable && !f.primaryKey) col = col.notNull()
        cols[f.name] = col
      }
      return c.sqliteTable(m.table, cols)
    }
    if (dialect === 'postgres') {
      const c = optional<Any>('drizzle-orm/pg-core', 'the drizzle adapter')
      const kinds: Record<string, (f: Field) => Any> = {
        string: (f) => c.varchar(f.column, { length: f.length }), text: (f) => c.text(f.column), uuid: (f) => c.uuid(f.column),
        int: (f) => (f.autoIncrement ? c.serial(f.column) : c.integer(f.column)),
        bigint: (f) => (f.autoIncrement ? c.bigserial(f.column, { mode: 'bigint' }) : c.bigint(f.column, { mode: 'bigint' })),
        money: (f) => c.bigint(f.column, { mode: 'number' }), boolean: (f) => c.boolean(f.column),
        timestamp: (f) => c.timestamp(f.column, { withTimezone: true, precision: 3, mode: 'date' }), json: (f) => c.jsonb(f.column),
      }
      for (const f of m.fields) {
        let col = kinds[f.type]!(f)
        if (f.primaryKey) col = col.primaryKey()
        else if (!f.nullable) col = col.notNull()
        cols[f.name] = col
      }
      return c.pgTable(m.table, cols)
    }
    const c = optional<Any>('drizzle-orm/mysql-core', 'the drizzle adapter')
    const json = c.customType({
      dataType: () => 'json',
      toDriver: (v: Any) => JSON.stringify(v),
      // MariaDB's JSON is LONGTEXT, so the text arrives unparsed.
      fromDriver: (v: Any) => (typeof v === 'string' ? JSON.parse(v) : v),
    })
    const kinds: Record<string, (f: Field) => Any> = {
      string: (f) => c.varchar(f.column, { length: f.length }), text: (f) => c.text(f.column), uuid: (f) => c.char(f.column, { length: 36 }),
      int: (f) => c.int(f.column), bigint: (f) => c.bigint(f.column, { mode: 'bigint' }), money: (f) => c.bigint(f.column, { mode: 'number' }),
      boolean: (f) => c.boolean(f.column), timestamp: (f) => c.datetime(f.column, { mode: 'date', fsp: 3 }), json: (f) => json(f.column),
    }
    for (const f of m.fields) {
      let col = kinds[f.type]!(f)
      if (f.primaryKey) col = col.primaryKey()
      if (f.autoIncrement) col = col.autoincrement()
      if (!f.nullable && !f.primaryKey) col = col.notNull()
      cols[f.name] = col
    }
    return c.mysqlTable(m.table, cols)
  }

  #table(m: Model): Any {
    return this.#tables.get(m.name)
  }

  /** The Drizzle table built for a model, to use Drizzle directly for what the repository does not cover. */
  table(model: string): unknown {
    return this.#tables.get(model)
  }

  #where(m: Model, cond: Cond): Any {
    const { d, sql } = this.#o
    const t = this.#table(m)
    // the by-key shape (findById, update, delete) without building the walker
    if (cond.kind === 'cmp') return d[cond.op](t[cond.field.name], cond.value)
    const walk = (c: Cond): Any => {
      switch (c.kind) {
        case 'and':
          return c.items.length === 0 ? sql`1 = 1` : d.and(...c.items.map(walk))
        case 'or':
          return c.items.length === 0 ? sql`1 = 0` : d.or(...c.items.map(walk))
        case 'null':
          return c.isNull ? d.isNull(t[c.field.name]) : d.isNotNull(t[c.field.name])
        case 'in':
          return c.negate ? d.notInArray(t[c.field.name], c.values) : d.inArray(t[c.field.name], c.values)
        case 'cmp':
          return d[c.op](t[c.field.name], c.value)
        case 'text': {
          const col = t[c.field.name]
          if (this.dialect === 'sqlite') {
            const p = globPattern(c.op, c.value)
            return c.insensitive ? sql`lower(${col}) GLOB lower(${p})` : sql`${col} GLOB ${p}`
          }
          const p = likePattern(c.op, c.value)
          if (this.dialect === 'postgres') return c.insensitive ? sql`${col} ILIKE ${p}` : sql`${col} LIKE ${p}`
          return c.insensitive ? sql`LOWER(${col}) LIKE LOWER(${p})` : sql`${col} COLLATE utf8mb4_bin LIKE ${p}`
        }
      }
    }
    return walk(cond)
  }

  #values(m: Model, row: Row): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(row)) if (!(v === undefined && m.fieldMap.get(k)?.autoIncrement)) out[k] = v
    return out
  }

  #session(d: Any): AdapterSession {
    const self = this
    const wrap = <T>(fn: () => Promise<T>): Promise<T> =>
      fn().catch((err: unknown) => {
        throw normalizeError(err, this.db, 'drizzle')
      })
    const affected = (r: Any): number => Number(r?.changes ?? r?.rowCount ?? r?.[0]?.affectedRows ?? 0)
    const session: AdapterSession = {
      // The per-call methods normalize errors in their own frame (no wrapping promise).
      insert: async (m, row) => {
        try {
          const t = this.#table(m)
          const values = this.#values(m, row)
          if (this.dialect === 'mysql') {
            const res = await d.insert(t).values(values)
            const pk = m.primaryKey
            const id = pk.autoIncrement ? res[0].insertId : row[pk.name]
            const [one] = await d.select().from(t).where(this.#o.d.eq(t[pk.name], id)).limit(1)
            return one
          }
          const [one] = await d.insert(t).values(values).returning()
          return one
        } catch (err) {
          throw normalizeError(err, this.db, 'drizzle')
        }
      },
      insertMany: (m, rows) => wrap(async () => {
        if (rows.length === 0) return 0
        const r = await d.insert(this.#table(m)).values(rows.map((x) => this.#values(m, x)))
        return this.dialect === 'postgres' ? Number(r.rowCount) : this.dialect === 'sqlite' ? Number(r.changes) : Number(r[0].affectedRows)
      }),
      find: async (m, q: FindQuery) => {
        try {
          const t = this.#table(m)
          const fields = q.select ? Object.fromEntries(q.select.map((s) => [s, t[s]])) : undefined
          let query = (fields ? d.select(fields) : d.select()).from(t)
          if (!(q.where.kind === 'and' && q.where.items.length === 0)) query = query.where(this.#where(m, q.where))
          if (q.orderBy.length > 0) query = query.orderBy(...q.orderBy.map((o) => (o.dir === 'asc' ? this.#o.d.asc(t[o.field.name]) : this.#o.d.desc(t[o.field.name]))))
          if (q.limit !== undefined) query = query.limit(q.limit)
          else if (q.offset !== undefined && this.dialect !== 'postgres') query = query.limit(Number.MAX_SAFE_INTEGER)
          if (q.offset !== undefined) query = query.offset(q.offset)
          const rows = await query
          return this.dialect === 'sqlite' ? markCanonical(rows) : rows
        } catch (err) {
          throw normalizeError(err, this.db, 'drizzle')
        }
      },
      count: (m, where) => wrap(async () => {
        const [r] = await d.select({ n: this.#o.d.count() }).from(this.#table(m)).where(this.#where(m, where))
        return Number(r.n)
      }),
      update: (m, where, data) => wrap(async () => affected(await d.update(this.#table(m)).set(data).where(this.#where(m, where)))),
      updateById: async (m, id, data) => {
        if (this.dialect === 'mysql') return updateThenFind(session, m, id, data)
        try {
          const t = this.#table(m)
          const [row] = await d.update(t).set(data).where(this.#o.d.eq(t[m.primaryKey.name], id)).returning()
          return row
        } catch (err) {
          throw normalizeError(err, this.db, 'drizzle')
        }
      },
      increment: (m, where, by) => wrap(async () => {
        const t = this.#table(m)
        const set = Object.fromEntries(Object.entries(by).map(([k, n]) => [k, this.#o.sql`${t[k]} + ${n}`]))
        return affected(await d.update(t).set(set).where(this.#where(m, where)))
      }),
      delete: (m, where) => wrap(async () => affected(await d.delete(this.#table(m)).where(this.#where(m, where)))),
    }
    return session
  }

  protected rootSession(): AdapterSession {
    return this.#session(this.native)
  }

  async transaction<T>(fn: (s: AdapterSession) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') {
      // Drizzle's better-sqlite3 transactions are synchronous; an async callback needs BEGIN/COMMIT by
      // hand. The manager holds the SQLite lock meanwhile so no other call slips into this transaction.
      const h = this.driver as Any
      try {
        h.exec('BEGIN')
      } catch (err) {
        throw normalizeError(err, this.db, 'drizzle')
      }
      try {
        const out = await fn(this.root())
        h.exec('COMMIT')
        return out
      } catch (err) {
        if (h.open && h.inTransaction) h.exec('ROLLBACK')
        throw err
      }
    }
    let out!: T
    const mine = { err: undefined as unknown }
    try {
      await (this.native as Any).transaction(async (tx: Any) => {
        try {
          out = await fn(this.#session(tx))
        } catch (err) {
          mine.err = err
          throw err
        }
      })
    } catch (err) {
      if (err === mine.err) throw err
      throw normalizeError(err, this.db, 'drizzle')
    }
    return out
  }

  async ping(): Promise<void> {
    if (this.dialect === 'sqlite') {
      ;(this.driver as Any).prepare('SELECT 1').get()
      return
    }
    await (this.native as Any).execute(this.#o.sql`SELECT 1`)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const h = this.driver as Any
    if (!h) return
    if (this.dialect === 'sqlite') h.close()
    else await h.end()
  }
}

export function drizzleAdapter(schema: Schema, options: DrizzleAdapterOptions): DrizzleAdapter {
  return new DrizzleAdapter(schema, options)
}
