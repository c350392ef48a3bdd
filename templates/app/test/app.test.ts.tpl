import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { modules } from '../src/modules/index.js'
import createApp from '../src/server.js'

describe('__appKebab__', () => {
  const dir = mkdtempSync(join(tmpdir(), '__appKebab__-test-'))
  let server: Server
  let base: string

  beforeAll(async () => {
    process.env.DATABASE_FILE = join(dir, 'app.db')
    server = createServer(await createApp())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
    rmSync(dir, { recursive: true, force: true })
  })

  it('lists its modules at /', async () => {
    const body = (await (await fetch(`${base}/`)).json()) as { modules: string[] }
    expect(body.modules).toEqual(modules.map((m) => m.name))
    expect(body.modules.length).toBeGreaterThan(0)
  })

  it('serves every module and answers 404 elsewhere', async () => {
    for (const m of modules) expect((await fetch(`${base}/${m.name}`)).status).toBe(200)
    expect((await fetch(`${base}/no-such-route`)).status).toBe(404)
  })
})
