/* eslint-disable @typescript-eslint/no-explicit-any -- Sequelize models are defined at run time from the model definition */
import { updateThenFind, type AdapterSession, type FindQuery, type OrmAdapter } from '../adapter.js'
import { connectionError, normalizeError } from '../driver-errors.js'
import { optional } from '../migrate/sql-client.js'
import type { Dialect, Field, Model, Schema } from '../schema.js'
import { parseDatabaseUrl, type DatabaseUrl } from '../url.js'
import type { Row } from '../values.js'
import { likePattern, type Cond } from '../where.js'
import { globPattern } from './drizzle.js'
import { createSqlite3Shim } from './sqlite3-shim.js'

type Any = any

export interface SequelizeAdapterOptions {
  url: string
  /** Pool size for PostgreSQL and MySQL. @default 5 */
  poolSize?: number
}

/**
 * Sequelize 6 over pg, mariadb, or better-sqlite3 (through a sqlite3-compatible shim). Models are
 * defined from the model definition with `timestamps: false` and no Sequelize-side validation: ecom
 * validates before the call, the database enforces constraints.
 *
 * Sequelize binds the values of INSERT and UPDATE; in WHERE clauses it inlines values escaped by its
 * dialect's escaper (its design, not a string ecom builds).
 */
export class SequelizeAdapter implements OrmAdapter {
  readonly orm = 'sequelize' as const
  readonly db: DatabaseUrl
  readonly dialect: Dialect
  native: Any
  driver: unknown
  #S!: Any
  #models = new Map<string, Any>()
  #sqliteHandles: Any[] = []
  #closed = false

  constructor(
    readonly schema: Schema,
    readonly options: SequelizeAdapterOptions,
  ) {
    this.db = parseDatabaseUrl(options.url, 'sequelize.url')
    this.dialect = this.db.dialect
  }

  async connect(): Promise<void> {
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
    const out: Record<string, unknown> = { ...raw }
    for (const f of m.fields) {
      const v = out[f.name]
      if (f.type === 'json' && typeof v === 'string' && this.dialect !== 'postgres') out[f.name] = JSON.parse(v)
    }
    return out
  }

  #where(m: Model, cond: Cond): Any {
    const { Op, where, col, fn, literal } = this.#S
    const q = (c: string): string => (this.dialect === 'mysql' ? `\`${c}\`` : `"${c}"`)
    const walk = (c: Cond): Any => {
      switch (c.kind) {
        case 'and': return { [Op.and]: c.items.map(walk) }
        case 'or': return c.items.length === 0 ? literal('1 = 0') : { [Op.or]: c.items.map(walk) }
        case 'null': return { [c.field.name]: { [c.isNull ? Op.is : Op.not]: null } }
        case 'cmp': return { [c.field.name]: { [Op[c.op]]: this.#enc(c.field, c.value) } }
        case 'in':
          // Sequelize prints `IN (NULL)` for an empty list, which is wrong for NOT IN.
          if (c.values.length === 0) return literal(c.negate ? '1 = 1' : '1 = 0')
          return { [c.field.name]: { [c.negate ? Op.notIn : Op.in]: c.values.map((v) => this.#enc(c.field, v)) } }
        case 'text': {
          const column = c.field.column
          if (this.dialect === 'sqlite') {
            const p = globPattern(c.op, c.value)
            return c.insensitive ? where(fn('lower', col(column)), 'GLOB', p.toLowerCase()) : where(col(column), 'GLOB', p)
          }
          const p = likePattern(c.op, c.value)
          if (this.dialect === 'postgres') return { [c.field.name]: { [c.insensitive ? Op.iLike : Op.like]: p } }
          return c.insensitive
            ? where(fn('LOWER', col(column)), { [Op.like]: p.toLowerCase() })
            : where(literal(`${q(column)} COLLATE utf8mb4_bin`), { [Op.like]: p })
        }
      }
    }
    return walk(cond)
  }

  #session(transaction: Any): AdapterSession {
    const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
      try {
        return await fn()
      } catch (err) {
        throw normalizeError(err, this.db, 'sequelize')
      }
    }
    const M = (m: Model): Any => this.#models.get(m.name)
    const session: AdapterSession = {
      insert: (m, row) => wrap(async () => {
        const inst = await M(m).create(this.#row(m, row), { transaction, validate: false, hooks: false })
        return this.#dec(m, inst.get({ plain: true }))
      }),
      insertMany: (m, rows) => wrap(async () => {
        await M(m).bulkCreate(rows.map((r) => this.#row(m, r)), { transaction, validate: false, hooks: false, returning: false })
        return rows.length
      }),
      find: (m, q: FindQuery) => wrap(async () => {
        const opts: Any = { where: this.#where(m, q.where), raw: true, transaction }
        if (q.select) opts.attributes = q.select
        if (q.orderBy.length > 0) opts.order = q.orderBy.map((o) => [o.field.name, o.dir.toUpperCase()])
        if (q.limit !== undefined) opts.limit = q.limit
        if (q.offset !== undefined) opts.offset = q.offset
        const rows = await M(m).findAll(opts)
        return rows.map((r: Any) => this.#dec(m, r))
      }),
      count: (m, where) => wrap(async () => Number(await M(m).count({ where: this.#where(m, where), transaction }))),
      update: (m, where, data) => wrap(async () => {
        const [n] = await M(m).update(this.#row(m, data), { where: this.#where(m, where), transaction, validate: false, hooks: false })
        return Number(n)
      }),
      increment: (m, where, by) => wrap(async () => {
        const amounts = Object.fromEntries(Object.entries(by).map(([k, v]) => [k, Number(v)]))
        const res = await M(m).increment(amounts, { where: this.#where(m, where), transaction })
        return affectedOfIncrement(this.dialect, res)
      }),
      delete: (m, where) => wrap(async () => Number(await M(m).destroy({ where: this.#where(m, where), transaction, hooks: false }))),
      updateById: (m, id, data) => wrap(async () => {
        if (this.dialect !== 'postgres') return updateThenFind(session, m, id, data)
        const [, rows] = await M(m).update(this.#row(m, data), { where: { [m.primaryKey.name]: this.#enc(m.primaryKey, id) }, transaction, validate: false, hooks: false, returning: true })
        return rows[0] ? this.#dec(m, rows[0].get({ plain: true })) : undefined
      }),
    }
    return session
  }

  #root?: AdapterSession
  #s(): AdapterSession {
    this.#root ??= this.#session(undefined)
    return this.#root
  }

  insert(m: Model, row: Row) { return this.#s().insert(m, row) }
  insertMany(m: Model, rows: Row[]) { return this.#s().insertMany(m, rows) }
  find(m: Model, q: FindQuery) { return this.#s().find(m, q) }
  count(m: Model, where: Cond) { return this.#s().count(m, where) }
  update(m: Model, where: Cond, data: Row) { return this.#s().update(m, where, data) }
  updateById(m: Model, id: unknown, data: Row) { return this.#s().updateById(m, id, data) }
  increment(m: Model, where: Cond, by: Record<string, number | bigint>) { return this.#s().increment(m, where, by) }
  delete(m: Model, where: Cond) { return this.#s().delete(m, where) }

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

/** Model.increment returns a different shape per dialect; all carry the affected row count somewhere. */
function affectedOfIncrement(dialect: Dialect, res: Any): number {
  const first = res?.[0]
  if (dialect === 'mysql') return Number(first?.affectedRows ?? first?.[0]?.affectedRows ?? first?.[1] ?? 0)
  return Number(first?.[1] ?? 0)
}

export function sequelizeAdapter(schema: Schema, options: SequelizeAdapterOptions): SequelizeAdapter {
  return new SequelizeAdapter(schema, options)
}
