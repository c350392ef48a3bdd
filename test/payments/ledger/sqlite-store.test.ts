// The ledger store conformance suite on the embedded SQLite store (a file, reopened as another instance).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
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
