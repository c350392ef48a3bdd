import { AsyncLocalStorage } from 'node:async_hooks'
import { debuglog } from 'node:util'
import type { Registry } from 'prom-client'
import {
  EcomError,
  InvalidOptionError,
  OrmConnectionError,
  OrmDriverError,
  OrmNoHealthyAdapterError,
  OrmValidationError,
} from '../errors.js'
import { getRegistry } from '../runtime/metrics.js'
import { Lock, type AdapterSession, type OrmAdapter } from './adapter.js'
import { normalizeError } from './driver-errors.js'
import { ormMetrics, queryChannel } from './observe.js'
import { Repository, type Executor } from './repository.js'
import type { Model, Schema } from './schema.js'

const debug = debuglog('ecom')

export { queryChannel }

export interface OrmManagerOptions {
  schema: Schema
  /** The adapters, by name, in fallback order. An array names each by its ORM. */
  adapters: Record<string, OrmAdapter> | OrmAdapter[]
  /** The adapter calls go to first. @default the first adapter */
  active?: string
  /** How long a failing adapter is benched at first; doubles on each further failure. @default 5000 */
  benchMs?: number
  /** The longest bench. @default 60000 */
  maxBenchMs?: number
  /** Ping every adapter this often and bench or restore it; 0 turns the timer off. @default 0 */
  healthCheckIntervalMs?: number
  /** @default getRegistry() */
  registry?: Registry
}

interface Slot {
  name: string
  adapter: OrmAdapter
  benchedUntil: number
  failures: number
  lastError: EcomError | undefined
  closed: boolean
  /** The SQLite lock of the adapter's file (null on other dialects), looked up on first call. */
  lock?: Lock | null
  /** Metric children per operation, looked up once. */
  metrics: Map<string, OpMetrics>
}

interface OpMetrics {
  ok: { inc(): void }
  err: { inc(): void }
  duration: { observe(v: number): void }
}

export interface AdapterStatus {
  name: string
  orm: string
  dialect: string
  active: boolean
  healthy: boolean
  benchedUntil: number | undefined
  lastError: string | undefined
}

/** A transaction in flight: repositories pinned to the one adapter (and connection) it began on. */
export interface Transaction {
  readonly adapter: string
  repo(model: string): Repository
}

/** Which SQLite lock the current async context holds exclusively (inside a transaction). */
const inSqliteTransaction = new AsyncLocalStorage<Lock>()

function failsOver(err: unknown): boolean {
  return err instanceof OrmConnectionError || err instanceof OrmDriverError
}

/**
 * Several adapters over the same database. Calls go to the active one; when it fails with a
 * connection or driver error (never a constraint or validation error) the call runs once more on the
 * next healthy adapter and the failing one is benched for a backoff period.
 */
export class OrmManager {
  readonly schema: Schema
  #slots: Slot[]
  #active: string
  #opts: Required<Pick<OrmManagerOptions, 'benchMs' | 'maxBenchMs' | 'healthCheckIntervalMs'>>
  #m: ReturnType<typeof ormMetrics>
  #locks = new Map<string, Lock>()
  #timer: NodeJS.Timeout | undefined
  #repos = new Map<string, Repository>()
  #activeSlot: Slot
  #connected = false

  constructor(options: OrmManagerOptions) {
    if (!options || typeof options !== 'object') throw new InvalidOptionError('options must be an object')
    if (!options.schema || typeof options.schema.model !== 'function') throw new InvalidOptionError('options.schema must come from defineSchema()')
    this.schema = options.schema
    const entries = Array.isArray(options.adapters) ? options.adapters.map((a) => [a.orm, a] as const) : Object.entries(options.adapters ?? {})
    if (entries.length === 0) throw new InvalidOptionError('options.adapters must hold at least one adapter')
    const names = new Set<string>()
    this.#slots = entries.map(([name, adapter]) => {
      if (names.has(name)) throw new InvalidOptionError(`options.adapters: two adapters are named "${name}"; pass an object to name them`)
      names.add(name)
      if (adapter.schema !== options.schema) throw new InvalidOptionError(`options.adapters.${name} was built for another schema`)
      return { name, adapter, benchedUntil: 0, failures: 0, lastError: undefined, closed: false, metrics: new Map() }
    })
    const num = (v: unknown, path: string, dflt: number): number => {
      if (v === undefined) return dflt
      if (!Number.isFinite(v) || (v as number) < 0) throw new InvalidOptionError(`${path} must be a non-negative number of milliseconds, got ${String(v)}`)
      return v as number
    }
    this.#opts = {
      benchMs: num(options.benchMs, 'options.benchMs', 5000),
      maxBenchMs: num(options.maxBenchMs, 'options.maxBenchMs', 60_000),
      healthCheckIntervalMs: num(options.healthCheckIntervalMs, 'options.healthCheckIntervalMs', 0),
    }
    this.#active = options.active ?? this.#slots[0]!.name
    if (!names.has(this.#active)) throw new InvalidOptionError(`options.active must name an adapter (${[...names].join(', ')}), got "${this.#active}"`)
    this.#activeSlot = this.#slot(this.#active)
    this.#m = ormMetrics(options.registry ?? getRegistry())
    this.#markActive()
  }

  #markActive(): void {
    for (const s of this.#slots) this.#m.active.set({ adapter: s.name }, s.name === this.#active ? 1 : 0)
  }

  /** Connect every adapter. Ones that fail are benched; when none connects the first error is thrown. */
  async connect(): Promise<void> {
    if (this.#connected) return
    this.#connected = true
    const results = await Promise.allSettled(this.#slots.map((s) => s.adapter.connect()))
    const errors: unknown[] = []
    results.forEach((r, i) => {
      const slot = this.#slots[i]!
      if (r.status === 'rejected') {
        errors.push(r.reason)
        this.#bench(slot, r.reason instanceof EcomError ? r.reason : new OrmDriverError(String(r.reason), { cause: r.reason }))
      } else this.#m.healthy.set({ adapter: slot.name }, 1)
    })
    if (errors.length === this.#slots.length) {
      this.#connected = false
      throw errors[0]
    }
    if (this.#opts.healthCheckIntervalMs > 0) {
      this.#timer = setInterval(() => void this.checkHealth().catch(() => {}), this.#opts.healthCheckIntervalMs)
      this.#timer.unref()
    }
  }

  get active(): string {
    return this.#active
  }

  get adapterNames(): string[] {
    return this.#slots.map((s) => s.name)
  }

  adapter(name: string): OrmAdapter {
    return this.#slot(name).adapter
  }

  /** Send new calls to another adapter. Transactions in flight stay on the adapter they began on. */
  use(name: string): void {
    this.#activeSlot = this.#slot(name)
    this.#active = name
    this.#markActive()
    debug('orm: active adapter is now %s', name)
  }

  #slot(name: string): Slot {
    const s = this.#slots.find((x) => x.name === name)
    if (!s) throw new InvalidOptionError(`no ORM adapter named "${name}" (have ${this.#slots.map((x) => x.name).join(', ')})`)
    return s
  }

  /** The repository of one model, going through this manager. */
  repo(model: string): Repository {
    let r = this.#repos.get(model)
    if (!r) {
      r = new Repository(this.#model(model), this.#executor())
      this.#repos.set(model, r)
    }
    return r
  }

  #model(name: string): Model {
    const m = this.schema.model(name)
    if (!m) throw new OrmValidationError(`unknown model "${name}" (have ${this.schema.models.map((x) => x.name).join(', ')})`, { details: { path: name } })
    return m
  }

  /**
   * Adapters to try, best first: the active one, then the others in their declared order, skipping
   * benched ones. When every adapter is benched the active one is still tried rather than failing blind.
   */
  #order(exclude?: Slot): Slot[] {
    const now = Date.now()
    const active = this.#activeSlot
    if (!exclude && !active.closed && active.benchedUntil <= now) return [active]
    const open = [active, ...this.#slots.filter((s) => s !== active)].filter((s) => s !== exclude && !s.closed)
    const healthy = open.filter((s) => s.benchedUntil <= now)
    if (healthy.length > 0 || exclude) return healthy
    return open.slice(0, 1)
  }

  #bench(slot: Slot, err: EcomError): void {
    slot.failures++
    slot.lastError = err
    const ms = Math.min(this.#opts.maxBenchMs, this.#opts.benchMs * 2 ** (slot.failures - 1))
    slot.benchedUntil = Date.now() + ms
    this.#m.healthy.set({ adapter: slot.name }, 0)
    debug('orm: adapter %s benched for %dms: %s', slot.name, ms, err.message)
  }

  #lock(slot: Slot): Lock | undefined {
    if (slot.lock !== undefined) return slot.lock ?? undefined
    const a = slot.adapter
    let l: Lock | null = null
    if (a.dialect === 'sqlite') {
      l = this.#locks.get(a.db.file) ?? null
      if (!l) {
        l = new Lock()
        this.#locks.set(a.db.file, l)
      }
    }
    slot.lock = l
    return l ?? undefined
  }

  /** Metric children of (adapter, operation), looked up once per slot and operation. */
  #metricsFor(slot: Slot, op: string): OpMetrics {
    let c = slot.metrics.get(op)
    if (!c) {
      const adapter = slot.name
      c = {
        ok: this.#m.queries.child({ adapter, operation: op, outcome: 'ok' }),
        err: this.#m.queries.child({ adapter, operation: op, outcome: 'error' }),
        duration: this.#m.duration.child({ adapter, operation: op }),
      }
      slot.metrics.set(op, c)
    }
    return c
  }

  /** Count, time and publish one finished call (the metrics and diagnostics every call gets). */
  #record(slot: Slot, op: string, model: Model, m: OpMetrics, start: number, err: unknown, fallbackFrom: string | undefined): void {
    const ms = performance.now() - start
    let error: EcomError | undefined
    if (err !== undefined) {
      error = err instanceof EcomError ? err : new OrmDriverError(String((err as Error)?.message ?? err), { cause: err })
      this.#m.errors.inc({ adapter: slot.name, operation: op, code: error.code })
      m.err.inc()
    } else m.ok.inc()
    m.duration.observe(ms / 1000)
    if (queryChannel.hasSubscribers) {
      queryChannel.publish({ adapter: slot.name, orm: slot.adapter.orm, dialect: slot.adapter.dialect, model: model.name, operation: op, durationMs: ms, error, fallbackFrom })
    }
  }

  async #timed<T>(slot: Slot, op: string, model: Model, fn: () => Promise<T>, fallbackFrom?: string): Promise<T> {
    const start = performance.now()
    const m = this.#metricsFor(slot, op)
    try {
      const out = await fn()
      this.#record(slot, op, model, m, start, undefined, fallbackFrom)
      return out
    } catch (err) {
      this.#record(slot, op, model, m, start, err ?? new OrmDriverError(String(err)), fallbackFrom)
      throw err
    }
  }

  #runOn<T>(slot: Slot, op: string, model: Model, fn: (s: AdapterSession) => Promise<T>, fallbackFrom?: string): Promise<T> {
    const lock = this.#lock(slot)
    if (lock && inSqliteTransaction.getStore() === lock) {
      // Waiting for our own transaction to end would hang forever: say so instead.
      return Promise.reject(this.#ownTransaction(model, op))
    }
    const call = (): Promise<T> => fn(slot.adapter)
    return this.#timed(slot, op, model, lock ? () => lock.shared(call) : call, fallbackFrom)
  }

  #ownTransaction(model: Model, op: string): OrmValidationError {
    return new OrmValidationError(`${model.name}.${op}: called through the manager inside a SQLite transaction; use the transaction's tx.repo()`, { details: { path: op } })
  }

  /**
   * The common case in one async frame: the active adapter is healthy and its SQLite lock (if any) is
   * free, so the call runs there with its metrics, and no fallback closure or lock promise is made. A
   * failure goes through the same fallback handling as #withFallback.
   */
  async #runFast<T>(slot: Slot, op: string, model: Model, fn: (s: AdapterSession) => Promise<T>, lock: Lock | undefined): Promise<T> {
    const m = this.#metricsFor(slot, op)
    const start = performance.now()
    try {
      const out = await fn(slot.adapter)
      this.#record(slot, op, model, m, start, undefined, undefined)
      return out
    } catch (err) {
      this.#record(slot, op, model, m, start, err ?? new OrmDriverError(String(err)), undefined)
      return this.#failedOver(slot, err, op, model, (next) => this.#runOn(next, op, model, fn, slot.name))
    } finally {
      if (lock) lock.releaseShared()
    }
  }

  async #withFallback<T>(op: string, model: Model, attempt: (slot: Slot) => Promise<T>): Promise<T> {
    const first = this.#order()[0]
    if (!first) throw this.#noneHealthy()
    let out: T
    try {
      out = await attempt(first)
    } catch (err) {
      return this.#failedOver(first, err, op, model, attempt)
    }
    if (first.failures > 0 && first.benchedUntil <= Date.now()) {
      first.failures = 0
      this.#m.healthy.set({ adapter: first.name }, 1)
    }
    return out
  }

  /** The first adapter failed with err: bench it and retry once on the next healthy one when the error allows. */
  async #failedOver<T>(first: Slot, err: unknown, op: string, model: Model, attempt: (slot: Slot) => Promise<T>): Promise<T> {
    if (!failsOver(err)) throw err
    this.#bench(first, err as EcomError)
    if ((err as { noFallback?: boolean }).noFallback) throw err
    const next = this.#order(first)[0]
    if (!next) throw err
    this.#m.failovers.inc({ from: first.name, to: next.name })
    debug('orm: %s %s failed on %s, retrying on %s', model.name, op, first.name, next.name)
    try {
      return await attempt(next)
    } catch (err2) {
      if (failsOver(err2)) this.#bench(next, err2 as EcomError)
      throw err2
    }
  }

  #noneHealthy(): OrmNoHealthyAdapterError {
    const why = this.#slots.map((s) => `${s.name}: ${s.closed ? 'closed' : (s.lastError?.message ?? 'benched')}`).join('; ')
    return new OrmNoHealthyAdapterError(`no healthy ORM adapter (${why})`)
  }

  #executor(): Executor {
    const self = this
    return {
      run(op, model, fn) {
        const slot = self.#activeSlot
        if (!slot.closed && slot.failures === 0 && slot.benchedUntil <= Date.now()) {
          const lock = self.#lock(slot)
          if (!lock) return self.#runFast(slot, op, model, fn, undefined)
          if (inSqliteTransaction.getStore() === lock) return Promise.reject(self.#ownTransaction(model, op))
          if (lock.tryShared()) return self.#runFast(slot, op, model, fn, lock)
        }
        let firstName: string | undefined
        return self.#withFallback(op, model, (slot) => {
          const from = firstName
          firstName ??= slot.name
          return self.#runOn(slot, op, model, fn, from === slot.name ? undefined : from)
        })
      },
      atomic(fn) {
        return self.#transaction((tx) => fn(tx.executor))
      },
    }
  }

  /**
   * Run fn in one transaction on the adapter active when it starts; commit when fn resolves, roll back
   * when it throws (the error is rethrown). If the transaction cannot even begin because of a connection
   * or driver error, it is started once more on the next healthy adapter.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#transaction((t) => fn(t.handle))
  }

  async #transaction<T>(fn: (t: { handle: Transaction; executor: Executor }) => Promise<T>): Promise<T> {
    const txModel = { name: '$transaction' } as Model
    return this.#withFallback('transaction', txModel, async (slot) => {
      let began = false
      const lock = this.#lock(slot)
      const body = (): Promise<T> =>
        slot.adapter.transaction(async (session) => {
          began = true
          const executor: Executor = {
            run: (op, model, f) => this.#timed(slot, op, model, () => f(session)),
            atomic: (f) => f(executor),
          }
          const repos = new Map<string, Repository>()
          const handle: Transaction = {
            adapter: slot.name,
            repo: (name) => {
              let r = repos.get(name)
              if (!r) repos.set(name, (r = new Repository(this.#model(name), executor)))
              return r
            },
          }
          return fn({ handle, executor })
        })
      try {
        return await this.#timed(slot, 'transaction', txModel, lock ? () => lock.exclusive(() => inSqliteTransaction.run(lock, body)) : body)
      } catch (err) {
        // Once user code ran, replaying it elsewhere could repeat its side effects: no fallback then.
        if (began && failsOver(err)) throw Object.assign(err as EcomError, { noFallback: true })
        throw err
      }
    }).catch((err) => {
      if (err && typeof err === 'object' && 'noFallback' in err) delete (err as { noFallback?: boolean }).noFallback
      throw err
    })
  }

  /** Ping every adapter: a benched one that answers is restored, a failing one is benched. */
  async checkHealth(): Promise<AdapterStatus[]> {
    await Promise.all(
      this.#slots.map(async (s) => {
        if (s.closed) return
        try {
          await s.adapter.ping()
          s.benchedUntil = 0
          s.failures = 0
          this.#m.healthy.set({ adapter: s.name }, 1)
        } catch (err) {
          this.#bench(s, normalizeError(err, s.adapter.db, s.name))
        }
      }),
    )
    return this.status()
  }

  status(): AdapterStatus[] {
    const now = Date.now()
    return this.#slots.map((s) => ({
      name: s.name,
      orm: s.adapter.orm,
      dialect: s.adapter.dialect,
      active: s.name === this.#active,
      healthy: !s.closed && s.benchedUntil <= now,
      benchedUntil: s.benchedUntil > now ? s.benchedUntil : undefined,
      lastError: s.lastError?.message,
    }))
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await Promise.all(
      this.#slots.map(async (s) => {
        s.closed = true
        await s.adapter.close().catch(() => {})
      }),
    )
  }
}
