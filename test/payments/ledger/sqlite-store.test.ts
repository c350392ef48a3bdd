// The ledger store conformance suite on the embedded SQLite store (a file, reopened as another instance).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSqliteStore } from '../../../src/payments/ledger/sqlite-store.js'
import type { LedgerStore } from '../../../src/payments/ledger/types.js'
import { ledgerStoreConformance } from '../../conformance/ledger-store.js'

describe('ledger store conformance: sqlite store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-ledger-store-'))
  const filename = join(dir, 'ledger.db')
  let store: LedgerStore
  beforeAll(async () => {
    store = await createSqliteStore({ filename })
  })
  afterAll(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  ledgerStoreConformance({ store: () => store, reopen: () => createSqliteStore({ filename }) })
})

// 'before-call' switches the connection to NORMAL around each update and back to FULL: the same
// behaviour, including updates that fail inside their transaction.
describe("ledger store conformance: sqlite store, synchronous 'before-call'", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-ledger-store-bc-'))
  const filename = join(dir, 'ledger.db')
  let store: LedgerStore
  beforeAll(async () => {
    store = await createSqliteStore({ filename, synchronous: 'before-call' })
  })
  afterAll(async () => {
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })
  ledgerStoreConformance({ store: () => store, reopen: () => createSqliteStore({ filename, synchronous: 'before-call' }) })
})

describe('sqlite store options', () => {
  it('refuses an unknown synchronous level, naming the accepted ones', async () => {
    await expect(createSqliteStore({ synchronous: 'off' as never })).rejects.toThrow(/synchronous must be 'full', 'before-call' or 'normal', got "off"/)
  })
})
