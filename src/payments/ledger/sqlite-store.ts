import { loadSdk } from '../load-optional.js'
import type { AttemptRow, AttemptState, LedgerStore, PaymentRow, PaymentState } from './types.js'

export interface SqliteStoreOptions {
  /** A file path, or ':memory:' for a process-local ledger. @default ':memory:' */
  filename?: string
  /** Table name prefix, so several ledgers can share one database file. @default 'ecom_' */
  prefix?: string
  /**
   * SQLite's `synchronous` for a file ledger (WAL). `'full'`: every commit is fsynced before it returns,
   * so a row written before a provider call survives power loss. `'before-call'`: the commits made
   * before a provider call (the inserts: a payment, an attempt and its idempotency key) are fsynced
   * before they return; the commits that record an answer (the updates) are not, and become durable
   * with the next fsynced commit or checkpoint (a WAL is a log: fsyncing a later commit makes every
   * earlier one durable). A power loss can roll back a recorded answer, never the record of a call;
   * the sweeper recovers such a payment from the provider by the attempt's key. `'normal'`: no commit
   * is fsynced until a checkpoint; a power loss (not a process crash) can lose the last commits. See
   * docs/payments.md ("Durability") for what each costs and when it is acceptable. Set explicitly on
   * every open (the driver is compiled with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1: without the pragma, WAL
   * runs at NORMAL). @default 'full'
   */
  synchronous?: 'full' | 'before-call' | 'normal'
}

const PAYMENT_COLS: Array<[keyof PaymentRow, string]> = [
  ['id', 'id'], ['amount', 'amount'], ['currency', 'currency'], ['capture', 'capture'], ['requestHash', 'request_hash'],
  ['state', 'state'], ['provider', 'provider'], ['providerReference', 'provider_reference'], ['winningAttempt', 'winning_attempt'],
  ['authorized', 'authorized'], ['captured', 'captured'], ['refunded', 'refunded'], ['outcome', 'outcome'], ['code', 'code'],
  ['request', 'request'], ['createdAt', 'created_at'], ['updatedAt', 'updated_at'],
]
const ATTEMPT_COLS: Array<[keyof AttemptRow, string]> = [
  ['paymentId', 'payment_id'], ['seq', 'seq'], ['operation', 'operation'], ['provider', 'provider'], ['idempotencyKey', 'idempotency_key'],
  ['amount', 'amount'], ['state', 'state'], ['outcome', 'outcome'], ['code', 'code'], ['providerReference', 'provider_reference'],
  ['httpStatus', 'http_status'], ['message', 'message'], ['createdAt', 'created_at'], ['updatedAt', 'updated_at'],
]
const P_COL = new Map(PAYMENT_COLS)
const A_COL = new Map(ATTEMPT_COLS)
const P_KEYS = PAYMENT_COLS.map((c) => c[0])
const A_KEYS = ATTEMPT_COLS.map((c) => c[0])

function toDb(v: unknown): unknown {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v ?? null
}

/** A row's values in column order, for a positional INSERT (one array, no closures per call). */
function bindRow<T>(row: T, keys: ReadonlyArray<keyof T>): unknown[] {
  const out = new Array<unknown>(keys.length)
  for (let i = 0; i < keys.length; i++) out[i] = toDb(row[keys[i]!])
  return out
}

/** A prepared UPDATE for one patch shape: its columns in order, and the number of states it may start from. */
interface Shape {
  readonly keys: readonly string[]
  readonly states: number
  readonly st: { run(args: unknown[]): { changes: number } }
}

function shapeOf(shapes: Shape[], keys: readonly string[], states: number, prepare: () => Shape['st']): Shape['st'] {
  next: for (const s of shapes) {
    if (s.states !== states || s.keys.length !== keys.length) continue
    for (let i = 0; i < keys.length; i++) if (s.keys[i] !== keys[i]) continue next
    return s.st
  }
  const st = prepare()
  shapes.push({ keys, states, st })
  return st
}

function fromDb<T>(row: Record<string, unknown>, cols: Array<[keyof T, string]>): T {
  const out: Record<string, unknown> = {}
  for (const [k, c] of cols) out[k as string] = row[c]
  return out as T
}

/**
 * The embedded ledger on better-sqlite3 (WAL, synchronous statements, so each write is durable and
 * atomic before the provider is called). Conditional updates (`WHERE state = ?`) keep the state machine
 * monotonic even when two processes share the file.
 */
export async function createSqliteStore(options: SqliteStoreOptions = {}): Promise<LedgerStore> {
  const mod = await loadSdk('better-sqlite3', () => import('better-sqlite3'))
  const Database = (mod as { default: new (f: string) => any }).default
  const db = new Database(options.filename ?? ':memory:')
  const pre = options.prefix ?? 'ecom_'
  if (!/^[a-z0-9_]*$/i.test(pre)) throw new Error(`prefix must be [a-z0-9_], got "${pre}"`)
  const P = `${pre}payments`
  const A = `${pre}payment_attempts`
  const sync = options.synchronous ?? 'full'
  if (sync !== 'full' && sync !== 'before-call' && sync !== 'normal') {
    throw new Error(`synchronous must be 'full', 'before-call' or 'normal', got "${String(sync)}"`)
  }
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`)
  db.pragma('busy_timeout = 5000')
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${P} (
      id TEXT PRIMARY KEY, amount INTEGER NOT NULL, currency TEXT NOT NULL, capture INTEGER NOT NULL,
      request_hash TEXT NOT NULL, state TEXT NOT NULL, provider TEXT, provider_reference TEXT, winning_attempt INTEGER,
      authorized INTEGER NOT NULL DEFAULT 0, captured INTEGER NOT NULL DEFAULT 0, refunded INTEGER NOT NULL DEFAULT 0,
      outcome TEXT, code TEXT, request TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS ${P}_state ON ${P}(state);
    CREATE TABLE IF NOT EXISTS ${A} (
      idempotency_key TEXT PRIMARY KEY, payment_id TEXT NOT NULL, seq INTEGER NOT NULL, operation TEXT NOT NULL,
      provider TEXT NOT NULL, amount INTEGER, state TEXT NOT NULL, outcome TEXT, code TEXT, provider_reference TEXT,
      http_status INTEGER, message TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
      UNIQUE (payment_id, seq));
    CREATE INDEX IF NOT EXISTS ${A}_state ON ${A}(state);
  `)
  const insP = db.prepare(`INSERT OR IGNORE INTO ${P} (${PAYMENT_COLS.map((c) => c[1]).join(',')}) VALUES (${PAYMENT_COLS.map(() => '?').join(',')})`)
  const getP = db.prepare(`SELECT * FROM ${P} WHERE id = ?`)
  const insA = db.prepare(`INSERT INTO ${A} (${ATTEMPT_COLS.map((c) => c[1]).join(',')}) VALUES (${ATTEMPT_COLS.map(() => '?').join(',')})`)
  const listA = db.prepare(`SELECT * FROM ${A} WHERE payment_id = ? ORDER BY seq`)
  const countP = db.prepare(`SELECT state, COUNT(*) AS n FROM ${P} GROUP BY state`)
  const updCache = new Map<string, any>()
  // 'before-call' on a file: the connection stays at FULL (so inserts, and anything unforeseen, are
  // fsynced) and drops to NORMAL only around an update's transaction. In memory there is no fsync.
  // exec, not a prepared statement: SQLite applies this pragma when it compiles it, so a prepared one
  // would act once, at prepare time (about 1 µs the pair).
  const relaxUpdates = sync === 'before-call' && db.memory !== true
  const relaxed = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) =>
    !relaxUpdates
      ? fn
      : (...args: A) => {
          db.exec('PRAGMA synchronous = NORMAL')
          try {
            return fn(...args)
          } finally {
            db.exec('PRAGMA synchronous = FULL')
          }
        }

  // Statements keyed by the shape of the update (which columns), built once.
  const prepared = (shape: string, sql: () => string = () => shape) => {
    let st = updCache.get(shape)
    if (!st) updCache.set(shape, (st = db.prepare(sql())))
    return st
  }
  // An update's statement and bindings, by the shape of the patch (which columns, in which order, and
  // how many states it may start from). A shape is found by comparing the patch's keys with the few
  // known ones, not by building a string key for a map on every update.
  const pShapes: Shape[] = []
  const aShapes: Shape[] = []
  const paymentUpdate = (id: string, fromState: PaymentState, patch: Partial<PaymentRow>) => {
    const keys = Object.keys(patch) as Array<keyof PaymentRow>
    const st = shapeOf(pShapes, keys, 1, () => db.prepare(`UPDATE ${P} SET ${keys.map((k) => `${P_COL.get(k)} = ?`).join(', ')} WHERE id = ? AND state = ?`))
    const args = bindRow(patch, keys)
    args.push(id, fromState)
    return st.run(args).changes === 1
  }
  const attemptUpdate = (key: string, fromStates: readonly AttemptState[], patch: Partial<AttemptRow>) => {
    const keys = Object.keys(patch) as Array<keyof AttemptRow>
    const n = fromStates.length
    const st = shapeOf(aShapes, keys, n, () =>
      db.prepare(`UPDATE ${A} SET ${keys.map((k) => `${A_COL.get(k)} = ?`).join(', ')} WHERE idempotency_key = ? AND state IN (${fromStates.map(() => '?').join(',')})`)
    )
    const args = bindRow(patch, keys)
    args.push(key)
    for (let i = 0; i < n; i++) args.push(fromStates[i])
    return st.run(args).changes === 1
  }
  // One IMMEDIATE transaction each (the write lock taken up front, so busy_timeout applies): one commit.
  const insertBoth = db.transaction((p: PaymentRow, a: AttemptRow) => {
    if (insP.run(bindRow(p, P_KEYS)).changes !== 1) return false
    insA.run(bindRow(a, A_KEYS))
    return true
  }).immediate
  type BothResult = { payment: boolean; attempt: boolean }
  const updateBoth: (...args: [string, PaymentState, Partial<PaymentRow>, string, readonly AttemptState[], Partial<AttemptRow>]) => BothResult = relaxed(db.transaction(
    (id: string, fromState: PaymentState, patch: Partial<PaymentRow>, key: string, fromStates: readonly AttemptState[], aPatch: Partial<AttemptRow>) => {
      if (!paymentUpdate(id, fromState, patch)) return { payment: false, attempt: false }
      return { payment: true, attempt: attemptUpdate(key, fromStates, aPatch) }
    }
  ).immediate)
  // On their own (autocommit), each update is one commit: relaxed like the pair above.
  const paymentUpdateAlone = relaxed(paymentUpdate)
  const attemptUpdateAlone = relaxed(attemptUpdate)
  const pRow = (r: Record<string, unknown> | undefined) => {
    if (!r) return undefined
    const row = fromDb<PaymentRow>(r, PAYMENT_COLS)
    row.capture = Boolean(row.capture)
    return row
  }

  return {
    async insertPayment(row) {
      return insP.run(bindRow(row, P_KEYS)).changes === 1
    },
    async getPayment(id) {
      return pRow(getP.get(id))
    },
    async updatePayment(id, fromState, patch) {
      return paymentUpdateAlone(id, fromState, patch)
    },
    async insertAttempt(row) {
      insA.run(bindRow(row, A_KEYS))
    },
    async updateAttempt(key, fromStates, patch) {
      return attemptUpdateAlone(key, fromStates, patch)
    },
    async insertPaymentWithAttempt(payment, attempt) {
      return insertBoth(payment, attempt)
    },
    async updatePaymentAndAttempt(id, fromState, patch, key, fromStates, attemptPatch) {
      return updateBoth(id, fromState, patch, key, fromStates, attemptPatch)
    },
    async attempts(paymentId) {
      return listA.all(paymentId).map((r: Record<string, unknown>) => fromDb<AttemptRow>(r, ATTEMPT_COLS))
    },
    async paymentsInState(states: readonly PaymentState[], limit) {
      const sql = `SELECT * FROM ${P} WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY updated_at LIMIT ?`
      return prepared(sql).all(...states, limit).map((r: Record<string, unknown>) => pRow(r)!)
    },
    async attemptsInState(states: readonly AttemptState[], limit) {
      const sql = `SELECT * FROM ${A} WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY updated_at LIMIT ?`
      return prepared(sql).all(...states, limit).map((r: Record<string, unknown>) => fromDb<AttemptRow>(r, ATTEMPT_COLS))
    },
    async countByState() {
      const out: Record<string, number> = {}
      for (const r of countP.all() as Array<{ state: string; n: number }>) out[r.state] = r.n
      return out
    },
    async close() {
      db.close()
    },
  }
}
