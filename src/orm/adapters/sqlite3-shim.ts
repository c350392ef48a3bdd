/* eslint-disable @typescript-eslint/no-explicit-any -- mirrors the callback API of the sqlite3 package */
import { optional } from '../migrate/sql-client.js'

type Any = any
type Cb = (this: Any, err: Error | null, rows?: unknown) => void

/**
 * The slice of the `sqlite3` package's API that Sequelize 6 calls, over better-sqlite3. Sequelize can
 * only load `sqlite3`, whose install downloads a prebuilt binary; better-sqlite3 is already ecom's
 * SQLite driver, so Sequelize is handed this module as its `dialectModule`.
 */
export function createSqlite3Shim(onOpen: (db: Any) => void = () => {}): Any {
  const BetterSqlite = optional<Any>('better-sqlite3', 'the sequelize adapter on SQLite')

  class Statement {
    constructor(
      readonly lastID: number,
      readonly changes: number,
    ) {}
  }

  // Errors look like sqlite3's: `code` is the primary result code and the message starts with it,
  // which is what Sequelize's error parser reads. The extended code is kept.
  const asSqlite3Error = (e: Any): Error => {
    if (!e || typeof e.code !== 'string') return e
    const ext = e.code as string
    const primary = ext.split('_').slice(0, 2).join('_')
    const err = new Error(`${primary}: ${e.message}`) as Any
    err.code = primary
    err.extendedCode = ext
    err.errno = ext
    err.cause = e
    return err
  }

  const params = (sql: string, p: unknown): Any => {
    if (p === undefined || p === null) return []
    if (Array.isArray(p)) {
      // Sequelize binds `$1`, `$2` positionally; better-sqlite3 takes those as names "1", "2".
      if (/\$\d/.test(sql)) {
        const named: Record<string, unknown> = {}
        for (let i = 0; i < p.length; i++) named[i + 1] = fix(p[i])
        return [named]
      }
      return p.map(fix)
    }
    if (typeof p === 'object') return [Object.fromEntries(Object.entries(p as object).map(([k, v]) => [k.replace(/^[$:@]/, ''), fix(v)]))]
    return [fix(p)]
  }
  const fix = (v: unknown): unknown => (typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Date ? v.toISOString() : v)
  // Integers outside the safe range stay exact as bigint; the rest come back as numbers like sqlite3 gives.
  const MAX = BigInt(Number.MAX_SAFE_INTEGER)
  const MIN = BigInt(Number.MIN_SAFE_INTEGER)
  const narrow = (row: Any): Any => {
    for (const k in row) {
      const v = row[k]
      if (typeof v === 'bigint' && v <= MAX && v >= MIN) row[k] = Number(v)
    }
    return row
  }

  class Database {
    readonly filename: string
    readonly handle: Any
    constructor(filename: string, _mode?: number | Cb, cb?: Cb) {
      const done = typeof _mode === 'function' ? _mode : cb
      this.filename = filename
      try {
        this.handle = new BetterSqlite(filename)
        this.handle.pragma('journal_mode = WAL')
        this.handle.defaultSafeIntegers(true)
        onOpen(this.handle)
        if (done) process.nextTick(() => done.call(this, null))
      } catch (e) {
        if (done) process.nextTick(() => done.call(this, asSqlite3Error(e)))
        else throw e
      }
    }
    serialize(fn?: () => void): void {
      fn?.()
    }
    run(sql: string, p?: unknown, cb?: Cb): this {
      if (typeof p === 'function') [cb, p] = [p as Cb, undefined]
      try {
        const stmt = this.handle.prepare(sql)
        let info: Any
        if (stmt.reader) {
          stmt.all(...params(sql, p))
          info = { lastInsertRowid: 0, changes: 0 }
        } else info = stmt.run(...params(sql, p))
        cb?.call(new Statement(Number(info.lastInsertRowid), info.changes), null)
      } catch (e) {
        cb?.call(new Statement(0, 0), asSqlite3Error(e))
      }
      return this
    }
    all(sql: string, p?: unknown, cb?: Cb): this {
      if (typeof p === 'function') [cb, p] = [p as Cb, undefined]
      try {
        const stmt = this.handle.prepare(sql)
        if (stmt.reader) cb?.call(new Statement(0, 0), null, stmt.all(...params(sql, p)).map(narrow))
        else {
          const info = stmt.run(...params(sql, p))
          cb?.call(new Statement(Number(info.lastInsertRowid), info.changes), null, [])
        }
      } catch (e) {
        cb?.call(new Statement(0, 0), asSqlite3Error(e))
      }
      return this
    }
    get(sql: string, p?: unknown, cb?: Cb): this {
      return this.all(sql, p, function (this: Any, err, rows) {
        cb?.call(this, err, (rows as unknown[] | undefined)?.[0])
      })
    }
    exec(sql: string, cb?: Cb): this {
      try {
        this.handle.exec(sql)
        cb?.call(this, null)
      } catch (e) {
        cb?.call(this, asSqlite3Error(e))
      }
      return this
    }
    close(cb?: Cb): void {
      try {
        if (this.handle.open) this.handle.close()
        cb?.call(this, null)
      } catch (e) {
        cb?.call(this, asSqlite3Error(e))
      }
    }
  }

  return { Database, OPEN_READONLY: 1, OPEN_READWRITE: 2, OPEN_CREATE: 4, OPEN_FULLMUTEX: 0x10000, OPEN_URI: 0x40, verbose: () => ({ Database }) }
}
