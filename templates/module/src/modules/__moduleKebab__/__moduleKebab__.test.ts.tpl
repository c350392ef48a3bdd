import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { OrmManager } from 'ecom/orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../db.js'
import { createRouter } from '../../http.js'
import __moduleCamel__Module from './index.js'

describe('__moduleKebab__ module', () => {
  const dir = mkdtempSync(join(tmpdir(), '__moduleKebab__-test-'))
  let db: OrmManager
  let server: Server
  let base: string

  beforeAll(async () => {
    db = await openDatabase({ DATABASE_FILE: join(dir, 'test.db') })
    server = createServer(createRouter(__moduleCamel__Module.routes(db)))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/__moduleKebab__`
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates, reads, lists, updates and deletes', async () => {
    const created = await fetch(base, { method: 'POST', body: JSON.stringify({ name: 'First', quantity: 2 }) })
    expect(created.status).toBe(201)
    const row = (await created.json()) as { id: string; name: string; quantity: number; active: boolean }
    expect(row).toMatchObject({ name: 'First', quantity: 2, active: true })

    expect(await (await fetch(`${base}/${row.id}`)).json()).toMatchObject({ id: row.id, name: 'First' })
    const list = (await (await fetch(`${base}?q=fir`)).json()) as { items: unknown[]; total: number }
    expect(list.total).toBe(1)

    const patched = await fetch(`${base}/${row.id}`, { method: 'PATCH', body: JSON.stringify({ quantity: 5 }) })
    expect(await patched.json()).toMatchObject({ quantity: 5 })

    expect((await fetch(`${base}/${row.id}`, { method: 'DELETE' })).status).toBe(204)
    expect((await fetch(`${base}/${row.id}`)).status).toBe(404)
  })

  it('rejects invalid input with 400 and the problem paths', async () => {
    const res = await fetch(base, { method: 'POST', body: JSON.stringify({ name: '', quantity: -1, extra: true }) })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { details: Array<{ path: string }> }
    expect(body.details.map((d) => d.path)).toEqual(expect.arrayContaining(['name', 'quantity']))
    expect((await fetch(`${base}/not-a-uuid`)).status).toBe(400)
  })
})
