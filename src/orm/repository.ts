import { OrmValidationError } from '../errors.js'
import type { AdapterSession } from './adapter.js'
import type { Model } from './schema.js'
import { coerceValue, decodeRow, decodeRows, fieldOf, prepareCreate, prepareUpdate, type Row } from './values.js'
import { parseCount, parseOrderBy, parseSelect, parseWhere, type Cond, type Where } from './where.js'

export type { Where } from './where.js'
export type { Row } from './values.js'

export type OrderByInput = Record<string, 'asc' | 'desc'> | Array<Record<string, 'asc' | 'desc'>>

export interface FindManyArgs {
  where?: Where
  orderBy?: OrderByInput
  limit?: number
  offset?: number
  /** Field names to return; all fields when unset. */
  select?: string[]
}

export interface FindOneArgs {
  where?: Where
  orderBy?: OrderByInput
  select?: string[]
}

export interface UpsertArgs {
  /** Which row to update; it should name a unique key. */
  where: Where
  create: Row
  update: Row
}

/**
 * How a repository reaches an adapter: the manager (active adapter, fallback, metrics) or a transaction
 * pinned to one adapter. `op` names the operation for metrics and diagnostics.
 */
export interface Executor {
  run<T>(op: string, model: Model, fn: (s: AdapterSession) => Promise<T>): Promise<T>
  /** Run several steps atomically (upsert); a transaction executor runs them in place. */
  atomic<T>(fn: (exec: Executor) => Promise<T>): Promise<T>
}

const MAX_LIMIT = 100_000

/**
 * The repository API of one model. Every argument is validated against the model definition before
 * any SQL runs (OrmValidationError); rows come back in the same JS form whichever adapter ran them.
 */
export class Repository {
  constructor(
    readonly model: Model,
    private readonly exec: Executor,
  ) {}

  #where(where: unknown, path = 'where'): Cond {
    return parseWhere(this.model, where, `${this.model.name}.${path}`)
  }

  #idWhere(id: unknown, path: string): Cond {
    const pk = this.model.primaryKey
    if (id === null || id === undefined) throw new OrmValidationError(`${this.model.name}.${path}: expected a ${pk.type} primary key, got ${String(id)}`, { details: { path } })
    return { kind: 'cmp', field: pk, op: 'eq', value: coerceValue(pk, id, `${this.model.name}.${path}`) }
  }

  async create(data: Row): Promise<Row> {
    const row = prepareCreate(this.model, data, `${this.model.name}.create`)
    const raw = await this.exec.run('create', this.model, (s) => s.insert(this.model, row))
    return decodeRow(this.model, raw)
  }

  /** Insert many rows in one statement; returns how many were written. */
  async createMany(rows: Row[]): Promise<number> {
    if (!Array.isArray(rows)) throw new OrmValidationError(`${this.model.name}.createMany: expected a list of rows`, { details: { path: 'createMany' } })
    const prepared = rows.map((r, i) => prepareCreate(this.model, r, `${this.model.name}.createMany[${i}]`))
    if (prepared.length === 0) return 0
    return this.exec.run('createMany', this.model, (s) => s.insertMany(this.model, prepared))
  }

  async findById(id: unknown, opts: { select?: string[] } = {}): Promise<Row | null> {
    const where = this.#idWhere(id, 'findById')
    const select = parseSelect(this.model, opts.select, `${this.model.name}.select`)
    const rows = await this.exec.run('findById', this.model, (s) => s.find(this.model, { where, orderBy: [], limit: 1, select }))
    return rows[0] ? decodeRow(this.model, rows[0], select) : null
  }

  async findOne(args: FindOneArgs = {}): Promise<Row | null> {
    const rows = await this.#find('findOne', { ...args, limit: 1 })
    return rows[0] ?? null
  }

  async findMany(args: FindManyArgs = {}): Promise<Row[]> {
    return this.#find('findMany', args)
  }

  async #find(op: string, args: FindManyArgs): Promise<Row[]> {
    if (args === null || typeof args !== 'object') throw new OrmValidationError(`${this.model.name}.${op}: expected an object of options`, { details: { path: op } })
    for (const k of Object.keys(args)) {
      if (!['where', 'orderBy', 'limit', 'offset', 'select'].includes(k)) throw new OrmValidationError(`${this.model.name}.${op}: unknown option "${k}"`, { details: { path: `${op}.${k}` } })
    }
    const where = this.#where(args.where)
    const orderBy = parseOrderBy(this.model, args.orderBy, `${this.model.name}.orderBy`)
    const limit = parseCount(args.limit, `${this.model.name}.limit`)
    const offset = parseCount(args.offset, `${this.model.name}.offset`)
    if (limit !== undefined && limit > MAX_LIMIT) throw new OrmValidationError(`${this.model.name}.limit: at most ${MAX_LIMIT}`, { details: { path: 'limit' } })
    const select = parseSelect(this.model, args.select, `${this.model.name}.select`)
    const q = { where, orderBy, limit, offset, select }
    const rows = await this.exec.run(op, this.model, (s) => s.find(this.model, q))
    return decodeRows(this.model, rows, select)
  }

  async count(where?: Where): Promise<number> {
    const cond = this.#where(where)
    return this.exec.run('count', this.model, (s) => s.count(this.model, cond))
  }

  /** Update one row by primary key; returns it as stored, or null when there is no such row. */
  async update(id: unknown, data: Row): Promise<Row | null> {
    const where = this.#idWhere(id, 'update')
    const patch = prepareUpdate(this.model, data, `${this.model.name}.update`)
    const key = (where as { value: unknown }).value
    const raw = await this.exec.run('update', this.model, (s) => s.updateById(this.model, key, patch))
    return raw ? decodeRow(this.model, raw) : null
  }

  /** Update every row the where matches; returns how many. */
  async updateMany(where: Where, data: Row): Promise<number> {
    const cond = this.#where(where)
    const patch = prepareUpdate(this.model, data, `${this.model.name}.updateMany`)
    return this.exec.run('updateMany', this.model, (s) => s.update(this.model, cond, patch))
  }

  /** Delete one row by primary key; true when it existed. */
  async delete(id: unknown): Promise<boolean> {
    const where = this.#idWhere(id, 'delete')
    return (await this.exec.run('delete', this.model, (s) => s.delete(this.model, where))) > 0
  }

  /** Delete every row the where matches (`{}` deletes all); returns how many. */
  async deleteMany(where: Where): Promise<number> {
    if (where === undefined) throw new OrmValidationError(`${this.model.name}.deleteMany: a where is required (pass {} to delete every row)`, { details: { path: 'deleteMany' } })
    const cond = this.#where(where)
    return this.exec.run('deleteMany', this.model, (s) => s.delete(this.model, cond))
  }

  /**
   * Update the row the where matches, or create it. Runs as find-then-write inside one transaction, so
   * the same code path holds on every adapter; a concurrent insert of the same key surfaces as
   * OrmUniqueViolationError.
   */
  async upsert(args: UpsertArgs): Promise<Row> {
    if (args === null || typeof args !== 'object') throw new OrmValidationError(`${this.model.name}.upsert: expected { where, create, update }`, { details: { path: 'upsert' } })
    const cond = this.#where(args.where, 'upsert.where')
    const create = prepareCreate(this.model, args.create, `${this.model.name}.upsert.create`)
    const patch = prepareUpdate(this.model, args.update, `${this.model.name}.upsert.update`)
    const pk = this.model.primaryKey
    const raw = await this.exec.atomic((exec) =>
      exec.run('upsert', this.model, async (s) => {
        const [found] = await s.find(this.model, { where: cond, orderBy: [], limit: 1 })
        if (!found) return s.insert(this.model, create)
        const key = decodeRow(this.model, found)[pk.name]
        const byKey: Cond = { kind: 'cmp', field: pk, op: 'eq', value: key }
        await s.update(this.model, byKey, patch)
        const [row] = await s.find(this.model, { where: { kind: 'cmp', field: pk, op: 'eq', value: patch[pk.name] ?? key }, orderBy: [], limit: 1 })
        return row!
      }),
    )
    return decodeRow(this.model, raw)
  }

  /**
   * Atomically add to numeric fields (`{ stock: -1 }`) in one `SET col = col + ?` statement on every
   * row the where matches; returns how many rows changed.
   */
  async increment(where: Where, by: Record<string, number | bigint>): Promise<number> {
    const cond = this.#where(where)
    if (by === null || typeof by !== 'object' || Object.keys(by).length === 0) {
      throw new OrmValidationError(`${this.model.name}.increment: expected { field: amount }`, { details: { path: 'increment' } })
    }
    const amounts: Record<string, number | bigint> = {}
    for (const [k, v] of Object.entries(by)) {
      const f = fieldOf(this.model, k, `${this.model.name}.increment`)
      if (f.type !== 'int' && f.type !== 'bigint' && f.type !== 'money') {
        throw new OrmValidationError(`${this.model.name}.increment.${k}: a ${f.type} field cannot be incremented`, { details: { path: `increment.${k}` } })
      }
      if (f.primaryKey) throw new OrmValidationError(`${this.model.name}.increment.${k}: the primary key cannot be incremented`, { details: { path: `increment.${k}` } })
      amounts[k] = coerceValue(f, v, `${this.model.name}.increment.${k}`) as number | bigint
    }
    return this.exec.run('increment', this.model, (s) => s.increment(this.model, cond, amounts))
  }
}
