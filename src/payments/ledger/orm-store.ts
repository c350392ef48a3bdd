import type { OrmManager } from '../../orm/manager.js'
import type { Row } from '../../orm/repository.js'
import type { ModelInput } from '../../orm/schema.js'
import { InvalidOptionError, OrmUniqueViolationError } from '../../errors.js'
import type { AttemptRow, AttemptState, LedgerStore, PaymentRow, PaymentState } from './types.js'

export interface LedgerModelsOptions {
  /** Table name prefix: the tables are `<prefix>payments` and `<prefix>payment_attempts`, as in the SQLite store. @default 'ecom_' */
  prefix?: string
  /** Model names in your schema. @default 'EcomPayment', 'EcomPaymentAttempt' */
  paymentModel?: string
  attemptModel?: string
}

export interface OrmStoreOptions {
  /** Your connected `OrmManager`, whose schema includes `ledgerModels()` (same options). */
  orm: OrmManager
  /** @default 'EcomPayment' */
  paymentModel?: string
  /** @default 'EcomPaymentAttempt' */
  attemptModel?: string
  /** `close()` closes the manager too (when the ledger owns it). @default false */
  closeManager?: boolean
}

const PAYMENT_STATES: readonly PaymentState[] = ['pending', 'processing', 'authorized', 'captured', 'partially_refunded', 'refunded', 'voided', 'failed']

/**
 * The ledger's two models for an ecom ORM schema: spread them into `defineSchema({ models })` and
 * migrate as usual. Timestamps are `timestamp` columns (the store converts to and from epoch ms).
 */
export function ledgerModels(options: LedgerModelsOptions = {}): Record<string, ModelInput> {
  const pre = options.prefix ?? 'ecom_'
  if (!/^[a-z0-9_]*$/i.test(pre)) throw new InvalidOptionError(`options.prefix must be [a-z0-9_], got "${pre}"`)
  const payment = options.paymentModel ?? 'EcomPayment'
  const attempt = options.attemptModel ?? 'EcomPaymentAttempt'
  const str = (length: number, nullable = false) => ({ type: 'string' as const, length, nullable })
  return {
    [payment]: {
      table: `${pre}payments`,
      fields: {
        id: { type: 'string', primaryKey: true },
        amount: { type: 'money' },
        currency: str(3),
        capture: { type: 'boolean' },
        requestHash: str(64),
        state: str(20),
        provider: str(20, true),
        providerReference: str(255, true),
        winningAttempt: { type: 'int', nullable: true },
        authorized: { type: 'money', default: 0 },
        captured: { type: 'money', default: 0 },
        refunded: { type: 'money', default: 0 },
        outcome: str(30, true),
        code: str(40, true),
        request: { type: 'text' },
        createdAt: { type: 'timestamp' },
        updatedAt: { type: 'timestamp' },
      },
      indexes: [{ fields: ['state', 'updatedAt'] }],
    },
    [attempt]: {
      table: `${pre}payment_attempts`,
      fields: {
        idempotencyKey: { type: 'string', primaryKey: true },
        paymentId: { type: 'string', references: { model: payment } },
        seq: { type: 'int' },
        operation: str(20),
        provider: str(20),
        amount: { type: 'money', nullable: true },
        state: str(20),
        outcome: str(30, true),
        code: str(40, true),
        providerReference: str(255, true),
        httpStatus: { type: 'int', nullable: true },
        message: { type: 'text', nullable: true },
        createdAt: { type: 'timestamp' },
        updatedAt: { type: 'timestamp' },
      },
      indexes: [{ fields: ['paymentId', 'seq'], unique: true }, { fields: ['state', 'updatedAt'] }],
    },
  }
}

const TIME_FIELDS = new Set(['createdAt', 'updatedAt'])

/** A ledger row (epoch ms, undefined) as an ORM row (Date, null). */
function toOrm(row: Record<string, unknown>): Row {
  const out: Row = {}
  for (const [k, v] of Object.entries(row)) out[k] = TIME_FIELDS.has(k) && typeof v === 'number' ? new Date(v) : v ?? null
  return out
}

function fromOrm<T>(row: Row): T {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.getTime() : v
  return out as T
}

/**
 * The ledger on the project's ORM layer (any adapter, any database the ORM layer supports), through its
 * public repository API. Every transition is one transaction holding one conditional update
 * (`WHERE id = ? AND state = ?`): the database row lock serialises concurrent transitions, the
 * condition makes exactly one of them win, so a payment never moves backwards even across processes.
 */
export function createOrmStore(options: OrmStoreOptions): LedgerStore {
  const { orm } = options
  if (!orm || typeof orm.repo !== 'function') throw new InvalidOptionError('options.orm must be an OrmManager')
  const P = options.paymentModel ?? 'EcomPayment'
  const A = options.attemptModel ?? 'EcomPaymentAttempt'
  // Fail at construction, not at the first payment, when the schema lacks the ledger's models.
  orm.repo(P)
  orm.repo(A)

  return {
    async insertPayment(row) {
      try {
        await orm.repo(P).create(toOrm({ ...row }))
        return true
      } catch (err) {
        if (err instanceof OrmUniqueViolationError) return false
        throw err
      }
    },
    async getPayment(id) {
      const r = await orm.repo(P).findById(id)
      return r ? fromOrm<PaymentRow>(r) : undefined
    },
    async updatePayment(id, fromState, patch) {
      const data = toOrm({ ...patch })
      delete data.id
      return orm.transaction(async (tx) => (await tx.repo(P).updateMany({ id, state: fromState }, data)) === 1)
    },
    async insertAttempt(row) {
      await orm.repo(A).create(toOrm({ ...row }))
    },
    async updateAttempt(key, fromStates, patch) {
      const data = toOrm({ ...patch })
      delete data.idempotencyKey
      return orm.transaction(async (tx) => (await tx.repo(A).updateMany({ idempotencyKey: key, state: { in: [...fromStates] } }, data)) === 1)
    },
    async attempts(paymentId) {
      return (await orm.repo(A).findMany({ where: { paymentId }, orderBy: { seq: 'asc' } })).map((r) => fromOrm<AttemptRow>(r))
    },
    async paymentsInState(states: readonly PaymentState[], limit) {
      const rows = await orm.repo(P).findMany({ where: { state: { in: [...states] } }, orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }], limit })
      return rows.map((r) => fromOrm<PaymentRow>(r))
    },
    async attemptsInState(states: readonly AttemptState[], limit) {
      const rows = await orm.repo(A).findMany({ where: { state: { in: [...states] } }, orderBy: [{ updatedAt: 'asc' }, { idempotencyKey: 'asc' }], limit })
      return rows.map((r) => fromOrm<AttemptRow>(r))
    },
    async countByState() {
      const out: Record<string, number> = {}
      const counts = await Promise.all(PAYMENT_STATES.map((s) => orm.repo(P).count({ state: s })))
      PAYMENT_STATES.forEach((s, i) => {
        if (counts[i]! > 0) out[s] = counts[i]!
      })
      return out
    },
    async close() {
      if (options.closeManager) await orm.close()
    },
  }
}
