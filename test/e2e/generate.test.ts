import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, runCli, startCli } from '../helpers/cli.js'
import { REPO_ROOT, tempWorkspace } from '../helpers/temp-app.js'

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, out: out.replace(/\u001b\[[0-9;]*m/g, '') })
    })
  })
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'data' ? [] : listFiles(join(dir, e.name), base)) : [join(dir, e.name).slice(base.length + 1)]
  )
}

describe('ecom generate', () => {
  const ws = tempWorkspace('generate')
  const app = join(ws.dir, 'my-shop')
  afterAll(() => ws.cleanup())

  it('--dry-run lists the files and writes nothing', async () => {
    const r = await runCli(['generate', 'app', 'my-shop', '--dir', ws.dir, '--dry-run'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('[dry run] app my-shop: would write')
    for (const f of ['package.json', 'src/server.ts', 'src/modules/index.ts', 'src/modules/products/model.ts', 'src/modules/products/products.test.ts', 'migrations/0001_add_products.json']) {
      expect(r.stdout).toContain(f)
    }
    expect(existsSync(app)).toBe(false)
  })

  it('writes an app and prints what it created', async () => {
    const r = await runCli(['generate', 'app', 'my-shop', '--dir', ws.dir, '--ecom', `file:${REPO_ROOT}`])
    expect(r.code).toBe(0)
    const printed = r.stdout.split('\n').filter((l) => l.startsWith('  create')).map((l) => l.trim().split(/\s+/)[1])
    expect(printed.sort()).toEqual(listFiles(app).sort())
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> }
    expect(pkg.name).toBe('my-shop')
    expect(pkg.dependencies.ecom).toBe(`file:${REPO_ROOT}`)
    expect(readFileSync(join(app, 'src/modules/index.ts'), 'utf8')).toContain("import productsModule from './products/index.js'")
  })

  it('never overwrites without --force, and lists every file in the way', async () => {
    writeFileSync(join(app, 'README.md'), 'mine\n')
    const r = await runCli(['generate', 'app', 'my-shop', '--dir', ws.dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/refusing to overwrite \d+ existing file\(s\) \(pass --force\).*README\.md.*ECOM_ERR_GENERATE_FILE_EXISTS/)
    expect(readFileSync(join(app, 'README.md'), 'utf8')).toBe('mine\n')
    const m = await runCli(['generate', 'module', 'products', '--dir', app])
    expect(m.code).toBe(2)
    expect(m.stderr).toContain('ECOM_ERR_GENERATE_FILE_EXISTS')
  })

  it('adds a module, converting its name, and registers it', async () => {
    const r = await runCli(['generate', 'module', 'order-items'], { cwd: app })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('create    src/modules/order-items/model.ts')
    expect(r.stdout).toContain('create    migrations/0002_add_order_items.json')
    expect(r.stdout).toContain('update    src/modules/index.ts')
    const model = readFileSync(join(app, 'src/modules/order-items/model.ts'), 'utf8')
    expect(model).toContain("export const MODEL = 'OrderItems'")
    expect(model).toContain("table: 'order_items'")
    const registry = readFileSync(join(app, 'src/modules/index.ts'), 'utf8')
    expect(registry).toContain("import orderItemsModule from './order-items/index.js'")
    expect(registry).toMatch(/productsModule,\n\s+orderItemsModule,/)
    // --force rewrites the module's files but registers it only once.
    const again = await runCli(['generate', 'module', 'orderItems', '--force'], { cwd: app })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('overwrite src/modules/order-items/model.ts')
    expect(readFileSync(join(app, 'src/modules/index.ts'), 'utf8').match(/orderItemsModule,/g)).toHaveLength(1)
  })

  it('refuses bad names and a folder that is not an app, with exit 2', async () => {
    const bad = await runCli(['generate', 'module', '9lives'], { cwd: app })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('ECOM_ERR_GENERATE_NAME')
    const outside = await runCli(['generate', 'module', 'users', '--dir', ws.dir])
    expect(outside.code).toBe(2)
    expect(outside.stderr).toContain('ECOM_ERR_GENERATE_APP_LAYOUT')
  })

  it('the generated tests pass and the generated code type-checks', async () => {
    const tests = await run(join(ws.dir, 'node_modules/.bin/vitest'), ['run'], app)
    expect(tests.out).toMatch(/Test Files\s+3 passed/)
    expect(tests.code).toBe(0)
    const tsc = await run(join(ws.dir, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], app)
    expect(tsc.out).toBe('')
    expect(tsc.code).toBe(0)
  })

  describe('ecom start serves the generated app', () => {
    let port: number
    let proc: ReturnType<typeof startCli>
    beforeAll(async () => {
      port = await freePort()
      proc = startCli(['start', 'src/server.ts', '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--name', `gen${port}`], { cwd: app })
      const end = Date.now() + 30_000
      for (;;) {
        if (proc.exitCode !== null) throw new Error(proc.output())
        if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) break
        if (Date.now() > end) throw new Error(`not ready:\n${proc.output()}`)
        await sleep(100)
      }
    })
    afterAll(async () => {
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGTERM')
      await exited
    })

    it('answers every module over HTTP, across workers, with validation', async () => {
      const base = `http://127.0.0.1:${port}`
      expect(await (await fetch(`${base}/`)).json()).toEqual({ app: 'my-shop', modules: ['products', 'order-items'] })
      const created = await fetch(`${base}/order-items`, { method: 'POST', body: JSON.stringify({ name: 'Widget', quantity: 3 }) })
      expect(created.status).toBe(201)
      const { id } = (await created.json()) as { id: string }
      // Several reads spread over both workers see the same row: one database.
      for (let i = 0; i < 4; i++) expect(await (await fetch(`${base}/order-items/${id}`)).json()).toMatchObject({ name: 'Widget', quantity: 3 })
      expect((await fetch(`${base}/order-items`, { method: 'POST', body: '{"quantity":"x"}' })).status).toBe(400)
      expect((await fetch(`${base}/products`)).status).toBe(200)
    })
  })
})
