/* eslint-disable @typescript-eslint/no-explicit-any -- Sequelize models are defined at run time from the model definition */
import { BaseAdapter, updateThenFind, type AdapterSession, type FindQuery, type OrmAdapter } from '../adapter.js'
import { connectionError, normalizeError } from '../driver-errors.js'
import { optional } from '../migrate/sql-client.js'
import type { Field, Model, Schema } from '../schema.js'
import type { Row } from '../values.js'
import { likePattern, type Cond } from '../where.js'
import { globPattern } from './drizzle.js'
import { createSqlite3Shim } from './sqlite3-shim.js'

type Any = any

const CMP_OPS = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const

export interface SequelizeAdapterOptions {
  /** `file:./app.db`, `postgres://…` or `mysql://` / `mariadb://…`. @default $ECOM_DATABASE_URL, else `file:./ecom.db` */
  url?: string
  /** Pool size for PostgreSQL and MySQL. @default 5 */
  poolSize?: number
}

/**
 * Sequelize 6 over pg, mariadb, or better-sqlite3 (through a sqlite3-compatible shim). Models are
 * defined from the model definition with `timestamps: false` and no Sequelize-side validation: ecom
 * validates before the call, the database enforces constraints.
 *
 * Every value is a bound parameter: Sequelize binds INSERT values itself, and ecom hands it WHERE and
 * SET clauses with `$n` placeholders plus the values (Sequelize 6 would otherwise inline them escaped).
 */
export class SequelizeAdapter extends BaseAdapter implements OrmAdapter {
  readonly orm = 'sequelize' as const
  native: Any
  driver: unknown
  #S!: Any
  #models = new Map<string, Any>()
  #sqliteHandles: Any[] = []
  #json = new WeakMap<Model, readonly string[]>()
  #cmpLiterals = new Map<string, Any>()
  #closed = false

  constructor(
    readonly schema: Schema,
    readonly options: SequelizeAdapterOptions,
  ) {
    super(options.url, 'sequelize')
  }

  async connect(): Promise<void> {
    this.#closed = false
    this.resetRoot()
    const S = optional<Any>('sequelize', 'the sequelize adapter')
    this.#S = S
    const db = this.db
    const common = { logging: false, benchmark: false, define: { timestamps: false, freezeTableName: true }, pool: { max: this.options.poolSize ?? 5, min: 0, acquire: 10_000, idle: 10_000 } }
    if (db.dialect === 'sqlite') {
      const shim = createSqlite3Shim((h) => this.#sqliteHandles.push(h))
      this.native = new S.Sequelize({ ...common, dialect: 'sqlite', storage: db.file, dialectModule: shim })
      // Sequelize opens the file lazily; `driver` closes whatever handles it opened.
      this.driver = { close: () => this.#sqliteHandles.forEach((h) => h.open && h.close()), handles: this.#sqliteHandles }
    } else if (db.dialect === 'postgres') {
      optional('pg', 'the sequelize adapter on PostgreSQL')
      this.native = new S.Sequelize({
        ...common, dialect: 'postgres', host: db.host, port: db.port, username: db.user, password: db.password, database: db.database,
        dialectOptions: { application_name: 'ecom-orm-sequelize', connectionTimeoutMillis: 5000 },
      })
    } else {
      const mariadb = optional<Any>('mariadb', 'the sequelize adapter on MySQL/MariaDB')
      this.native = new S.Sequelize({
        ...common, dialect: 'mariadb', dialectModule: mariadbForSequelize(mariadb), host: db.host, port: db.port, username: db.user, password: db.password, database: db.database,
        timezone: '+00:00', dialectOptions: { connectTimeout: 5000, supportBigNumbers: true, bigNumberStrings: true, },
      })
    }
    if (db.dialect !== 'sqlite') this.driver = this.native.connectionManager
    for (const m of this.schema.models) this.#models.set(m.name, this.#define(m))
    try {
      await this.ping()
    } catch (err) {
      await this.close().catch(() => {})
      throw connectionError(err, db, 'sequelize')
    }
  }

  #type(f: Field): Any {
    const T = this.#S.DataTypes
    const sqlite = this.dialect === 'sqlite'
    switch (f.type) {
      case 'string': return T.STRING(f.length)
      case 'text': return T.TEXT
      case 'uuid': return this.dialect === 'postgres' ? T.UUID : T.STRING(36)
      case 'int': return T.INTEGER
      case 'bigint': return T.BIGINT
      case 'money': return T.BIGINT
      case 'boolean': return T.BOOLEAN
      // SQLite keeps timestamps as epoch milliseconds, the format every adapter shares there.
      case 'timestamp': return sqlite ? T.BIGINT : T.DATE(3)
      case 'json': return sqlite ? T.TEXT : this.dialect === 'postgres' ? T.JSONB : T.JSON
    }
  }

  #define(m: Model): Any {
    const attrs: Record<string, Any> = {}
    for (const f of m.fields) {
      attrs[f.name] = { type: this.#type(f), field: f.column, primaryKey: f.primaryKey, autoIncrement: f.autoIncrement, allowNull: true }
    }
    const opts: Any = { tableName: m.table, timestamps: false, freezeTableName: true }
    if (this.dialect === 'postgres') opts.schema = this.db.schema
    return this.native.define(m.name, attrs, opts)
  }

  /** The Sequelize model defined for a model, to use Sequelize directly for what the repository does not cover. */
  model(name: string): unknown {
    return this.#models.get(name)
  }

  #quote(c: string): string {
    return this.dialect === 'mysql' ? `\`${c}\`` : `"${c}"`
  }

  /** Canonical JS value to what Sequelize should send for this dialect. */
  #enc(f: Field, v: unknown): unknown {
    if (v === null || v === undefined) return v
    if (this.dialect === 'sqlite') {
      if (f.type === 'timestamp') return (v as Date).getTime()
      if (f.type === 'json') return JSON.stringify(v)
      if (f.type === 'boolean') return v ? 1 : 0
    }
    if (this.dialect === 'mysql' && f.type === 'json') return JSON.stringify(v)
    if (typeof v === 'bigint') return v.toString()
    return v
  }

  #row(m: Model, row: Row): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(row)) {
      const f = m.fieldMap.get(k)!
      if (v === undefined && f.autoIncrement) continue
      out[k] = this.#enc(f, v)
    }
    return out
  }

  /** What came back to field-keyed raw values; JSON kept as text on SQLite and MariaDB is parsed. */
  #dec(m: Model, raw: Any): Record<string, unknown> {
    if (this.dialect === 'postgres') return raw
    for (const name of this.#jsonFields(m)) {
      const v = raw[name]
      if (typeof v === 'string') raw[name] = JSON.parse(v)
    }
    return raw
  }

  /** The model's json fields, listed once per model. */
  #jsonFields(m: Model): readonly string[] {
    let names = this.#json.get(m)
    if (!names) {
      names = m.fields.filter((f) => f.type === 'json').map((f) => f.name)
      this.#json.set(m, names)
    }
    return names
  }

  /**
   * The where as a Sequelize literal with `$n` placeholders and the values in `bind`. Sequelize 6 would
   * inline WHERE values through its escaper; handing it placeholders keeps every value a bound
   * parameter. Column names come from the validated model definition.
   */
  #where(cond: Cond, bind: unknown[]): Any {
    if (cond.kind === 'cmp') {
      // The by-key shape (findById, update, delete): one comparison, its literal made once and reused
      // (a literal is immutable; the value still travels in `bind`).
      bind.push(this.#enc(cond.field, cond.value))
      const key = `${cond.field.column}\u0000${cond.op}\u0000${bind.length}`
      let lit = this.#cmpLiterals.get(key)
      if (!lit) {
        lit = this.#S.literal(`${this.#quote(cond.field.column)} ${CMP_OPS[cond.op]} $${bind.length}`)
        this.#cmpLiterals.set(key, lit)
      }
      return lit
    }
    const q = (c: string): string => (this.dialect === 'mysql' ? `\`${c}\`` : `"${c}"`)
    const p = (v: unknown): string => {
      bind.push(v)
      return `$${bind.length}`
    }
    const walk = (c: Cond): string => {
      switch (c.kind) {
        case 'and': return c.items.length === 0 ? '1 = 1' : `(${c.items.map(walk).join(' AND ')})`
        case 'or': return c.items.length === 0 ? '1 = 0' : `(${c.items.map(walk).join(' OR ')})`
        case 'null': return `${q(c.field.column)} IS ${c.isNull ? '' : 'NOT '}NULL`
        case 'cmp': return `${q(c.field.column)} ${CMP_OPS[c.op]} ${p(this.#enc(c.field, c.value))}`
        case 'in':
          if (c.values.length === 0) return c.negate ? '1 = 1' : '1 = 0'
          return `${q(c.field.column)} ${c.negate ? 'NOT IN' : 'IN'} (${c.values.map((v) => p(this.#enc(c.field, v))).join(', ')})`
        case 'text': {
          const col = q(c.field.column)
          if (this.dialect === 'sqlite') {
            const pat = p(globPattern(c.op, c.value))
            return c.insensitive ? `lower(${col}) GLOB lower(${pat})` : `${col} GLOB ${pat}`
          }
          const pat = p(likePattern(c.op, c.value))
          if (this.dialect === 'postgres') return `${col} ${c.insensitive ? 'ILIKE' : 'LIKE'} ${pat}`
          return c.insensitive ? `LOWER(${col}) LIKE LOWER(${pat})` : `${col} COLLATE utf8mb4_bin LIKE ${pat}`
        }
      }
    }
    return this.#S.literal(walk(cond))
  }

  /**
   * SET values as placeholders too (`bindParam: false` makes Sequelize use our `bind` for the whole
   * statement). Keyed by field name, like everything the repository hands over; `runUpdate` maps them to columns.
   */
  #set(m: Model, data: Row, bind: unknown[]): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(this.#row(m, data))) {
      // the driver gets the value untyped: JSON goes as text (pg would send an array as a pg array)
      bind.push(this.dialect === 'postgres' && m.fieldMap.get(k)!.type === 'json' && v !== null ? JSON.stringify(v) : v)
      out[k] = this.#S.literal(`$${bind.length}`)
    }
    return out
  }

  #session(transaction: Any): AdapterSession {
    const wrap = <T>(fn: () => Promise<T>): Promise<T> =>
      fn().catch((err: unknown) => {
        throw normalizeError(err, this.db, 'sequelize')
      })
    const M = (m: Model): Any => this.#models.get(m.name)
    // Sequelize's update path would bind SET values in its own array and refuse ours, so the statement
    // comes from Sequelize's query generator with every value a `$n` literal, and runs with our bind.
    // The generator prints SET keys as given (Model.update maps attributes to columns before calling
    // it), so the field-keyed values are re-keyed by column here: `updatedAt` is written as `updated_at`.
    const runUpdate = async (m: Model, byField: Record<string, unknown>, where: Any, bind: unknown[]): Promise<number> => {
      const values: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(byField)) values[m.fieldMap.get(k)!.column] = v
      const qi = this.native.getQueryInterface()
      const gen = qi.queryGenerator.updateQuery(M(m).getTableName(), values, where, { bindParam: false }, M(m).rawAttributes)
      const res = await this.native.query(typeof gen === 'string' ? gen : gen.query, { bind, type: this.#S.QueryTypes.BULKUPDATE, transaction, model: M(m) })
      if (typeof res === 'number') return res
      if (Array.isArray(res)) return Number(res[1] ?? res[0]?.affectedRows ?? 0)
      return Number(res?.affectedRows ?? 0)
    }
    const session: AdapterSession = {
      // The per-call methods normalize errors in their own frame (no wrapping promise).
      insert: async (m, row) => {
        try {
          const inst = await M(m).create(this.#row(m, row), { transaction, validate: false, hooks: false })
          return this.#dec(m, inst.get({ plain: true }))
        } catch (err) {
          throw normalizeError(err, this.db, 'sequelize')
        }
      },
      insertMany: (m, rows) => wrap(async () => {
        await M(m).bulkCreate(rows.map((r) => this.#row(m, r)), { transaction, validate: false, hooks: false, returning: false })
        return rows.length
      }),
      find: async (m, q: FindQuery) => {
        try {
          const opts: Any = { raw: true, transaction }
          // No where at all (findMany without one) is the same findAll a caller would write; otherwise
          // the where is a literal with its values bound.
          if (!(q.where.kind === 'and' && q.where.items.length === 0)) {
            const bind: unknown[] = []
            opts.where = this.#where(q.where, bind)
            opts.bind = bind
          }
          if (q.select) opts.attributes = q.select
          if (q.orderBy.length > 0) opts.order = q.orderBy.map((o) => [o.field.name, o.dir.toUpperCase()])
          if (q.limit !== undefined) opts.limit = q.limit
          if (q.offset !== undefined) opts.offset = q.offset
          const rows = await M(m).findAll(opts)
          if (this.dialect === 'postgres' || this.#jsonFields(m).length === 0) return rows
          for (const r of rows) this.#dec(m, r)
          return rows
        } catch (err) {
          throw normalizeError(err, this.db, 'sequelize')
        }
      },
      count: (m, where) => wrap(async () => {
        const bind: unknown[] = []
        return Number(await M(m).count({ where: this.#where(where, bind), bind, transaction }))
      }),
      update: async (m, where, data) => {
        try {
          const bind: unknown[] = []
          const values = this.#set(m, data, bind)
          return await runUpdate(m, values, this.#where(where, bind), bind)
        } catch (err) {
          throw normalizeError(err, this.db, 'sequelize')
        }
      },
      increment: (m, where, by) => wrap(async () => {
        const bind: unknown[] = []
        const q = (c: string): string => (this.dialect === 'mysql' ? `\`${c}\`` : `"${c}"`)
        const values: Record<string, unknown> = {}
        for (const [k, n] of Object.entries(by)) {
          bind.push(typeof n === 'bigint' ? n.toString() : n)
          values[k] = this.#S.literal(`${q(m.fieldMap.get(k)!.column)} + $${bind.length}`)
        }
        return runUpdate(m, values, this.#where(where, bind), bind)
      }),
      delete: (m, where) => wrap(async () => {
        const bind: unknown[] = []
        return Number(await M(m).destroy({ where: this.#where(where, bind), bind, transaction, hooks: false }))
      }),
      updateById: (m, id, data) => updateThenFind(session, m, id, data),
    }
    return session
  }

  protected rootSession(): AdapterSession {
    return this.#session(undefined)
  }

  async transaction<T>(fn: (s: AdapterSession) => Promise<T>): Promise<T> {
    const mine = { err: undefined as unknown }
    try {
      return await this.native.transaction(async (t: Any) => {
        try {
          return await fn(this.#session(t))
        } catch (err) {
          mine.err = err
          throw err
        }
      })
    } catch (err) {
      if (err === mine.err) throw err
      throw normalizeError(err, this.db, 'sequelize')
    }
  }

  async ping(): Promise<void> {
    await this.native.query('SELECT 1', { raw: true })
  }

  async close(): Promise<void> {
    if (this.#closed || !this.native) return
    this.#closed = true
    await this.native.close()
  }
}

/**
 * Sequelize 6 was written for mariadb 2, which left `meta` deletable on result arrays; mariadb 3 defines
 * it non-configurable and Sequelize's `delete rows.meta` throws. Hand Sequelize result arrays it can edit.
 */
function mariadbForSequelize(mariadb: Any): Any {
  const editable = (r: Any): Any => {
    if (!Array.isArray(r) || !('meta' in r)) return r
    const out: Any = [...r]
    out.meta = (r as Any).meta
    return out
  }
  return {
    ...mariadb,
    createConnection: async (cfg: Any) => {
      const conn = await mariadb.createConnection(cfg)
      const query = conn.query.bind(conn)
      conn.query = async (...args: Any[]) => editable(await query(...args))
      return conn
    },
  }
}

export function sequelizeAdapter(schema: Schema, options: SequelizeAdapterOptions): SequelizeAdapter {
  return new SequelizeAdapter(schema, options)
}
