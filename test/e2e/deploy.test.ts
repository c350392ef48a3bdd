import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'undici'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Pm2Driver } from '../../src/runtime/deploy/pm2-driver.js'
import { freePort, runCli } from '../helpers/cli.js'

const require = createRequire(import.meta.url)
const APP = `import type { IncomingMessage, ServerResponse } from 'node:http'
export default function app(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('content-type', 'application/json')
  res.end(JSON.stringify({ worker: process.env.ECOM_WORKER_ID, pid: process.pid }))
}
`

interface Ecosystem {
  apps: Array<Record<string, unknown> & { args: string[]; env: Record<string, string>; env_production: Record<string, string> }>
  deploy?: { production: { user: string; host: string[]; repo: string; path: string; ref: string; 'post-deploy': string } }
}

function load(file: string): Ecosystem {
  delete require.cache[file]
  return require(file) as Ecosystem
}

describe('ecom deploy pm2: the ecosystem file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-deploy-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('runs ecom\'s primary in fork mode with workers, envs, logs, memory and timeouts, and a deploy section', async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/shop' }))
    const r = await runCli(
      ['deploy', 'pm2', 'src/server.ts', '--workers', '4', '--port', '8080', '--grace', '8s', '--max-memory', '300M',
        '--set', 'LOG_LEVEL=info', '--set-production', 'DATABASE_FILE=/srv/shop/data.db', '--rate-limit', '100/1m',
        '--rate-limit-headers', 'always', '--trust-proxy', '--redis', 'redis://10.0.0.5:6379/2',
        '--host', 'deploy@h1.example.com,deploy@h2.example.com', '--repo', 'git@example.com:acme/shop.git', '--path', '/srv/shop'],
      { cwd: dir }
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('wrote ecosystem.config.cjs: app shop, 4 ecom worker(s)')
    const conf = load(join(dir, 'ecosystem.config.cjs'))
    expect(conf.apps).toHaveLength(1)
    const app = conf.apps[0]!
    expect(app).toMatchObject({
      name: 'shop', exec_mode: 'fork', instances: 1, interpreter: 'none', cwd: dir, treekill: false,
      kill_timeout: 13_000, wait_ready: true, listen_timeout: 30_000, max_memory_restart: '512M', merge_logs: false,
      out_file: 'logs/shop-out.log', error_file: 'logs/shop-error.log',
    })
    expect(app.args).toEqual(['start', 'src/server.ts', '--name', 'shop', '--workers', '4', '--port', '8080', '--host', '0.0.0.0', '--grace', '8000ms', '--max-memory', '300M',
      '--rate-limit', '100/1m', '--rate-limit-headers', 'always', '--trust-proxy', '--redis', 'redis://10.0.0.5:6379/2'])
    expect(app.env).toEqual({ NODE_ENV: 'development', LOG_LEVEL: 'info' })
    expect(app.env_production).toEqual({ NODE_ENV: 'production', LOG_LEVEL: 'info', DATABASE_FILE: '/srv/shop/data.db' })
    expect(conf.deploy!.production).toMatchObject({
      user: 'deploy', host: ['h1.example.com', 'h2.example.com'], repo: 'git@example.com:acme/shop.git', path: '/srv/shop', ref: 'origin/main',
    })
    expect(conf.deploy!.production['post-deploy']).toContain('ecom deploy pm2 --reload --env production')

    const same = await runCli(['deploy', 'pm2', 'src/server.ts', '--workers', '4'], { cwd: dir })
    expect(same.code).toBe(2)
    expect(same.stderr).toContain('ECOM_ERR_GENERATE_FILE_EXISTS')
    const forced = await runCli(['deploy', 'pm2', 'src/server.ts', '--workers', '2', '--force'], { cwd: dir })
    expect(forced.code).toBe(0)
    expect(load(join(dir, 'ecosystem.config.cjs')).deploy).toBeUndefined()
  })

  it('reports every bad option at once, exit 2', async () => {
    const r = await runCli(['deploy', 'pm2', 'app.ts', '--config', 'x.cjs', '--workers', '-3', '--port', '70000', '--host', 'nouser', '--set', 'BAD',
      '--rate-limit', '100/soon', '--rate-limit-headers', 'sometimes', '--redis', 'http://10.0.0.5'], { cwd: dir })
    expect(r.code).toBe(2)
    for (const part of ['--workers must be "auto" or a positive integer, got "-3"', '--port must be', '--host must be', '--repo is required', '--path is required', '--set must be KEY=VALUE',
      '--rate-limit must be a duration such as "10s", "500ms" or "1m", got "soon"', '--rate-limit-headers must be "always" or "near-limit", got "sometimes"',
      '--redis must be a redis:// or rediss:// URL, got "http://10.0.0.5"']) {
      expect(r.stderr).toContain(part)
    }
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(existsSync(join(dir, 'x.cjs'))).toBe(false)
  })
})

async function waitReady(port: number, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
    if (Date.now() > end) throw new Error(`port ${port} not ready`)
    await sleep(100)
  }
}

async function statusJson(port: number): Promise<{ pid: number; workers: Array<{ pid: number; state: string }> }> {
  const r = await runCli(['status', '--port', String(port), '--json'])
  return JSON.parse(r.stdout) as { pid: number; workers: Array<{ pid: number; state: string }> }
}

describe('ecom deploy pm2: a real PM2 daemon under a temporary PM2_HOME', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-pm2-app-'))
  const pm2Home = mkdtempSync(join(tmpdir(), 'ecom-pm2-home-'))
  const env = { PM2_HOME: pm2Home }
  let quotaPort: number
  let loadPort: number

  beforeAll(async () => {
    writeFileSync(join(dir, 'app.ts'), APP)
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'pm2-app', type: 'module' }))
    quotaPort = await freePort()
    loadPort = await freePort()
    const a = await runCli(['deploy', 'pm2', 'app.ts', '--config', 'quota.config.cjs', '--name', `quota${quotaPort}`, '--workers', '2', '--port', String(quotaPort), '--bind', '127.0.0.1', '--rate-limit', '20/1m', '--grace', '3s', '--start'], { cwd: dir, env, timeoutMs: 60_000 })
    expect(a.stderr).toBe('')
    expect(a.stdout).toMatch(/started quota\d+ under PM2 \(pid \d+, online\)/)
    const b = await runCli(['deploy', 'pm2', 'app.ts', '--config', 'load.config.cjs', '--name', `load${loadPort}`, '--workers', '2', '--port', String(loadPort), '--bind', '127.0.0.1', '--grace', '3s', '--start'], { cwd: dir, env, timeoutMs: 60_000 })
    expect(b.code).toBe(0)
    await Promise.all([waitReady(quotaPort), waitReady(loadPort)])
  })

  afterAll(async () => {
    // Always take the test daemon down, whatever happened above.
    const driver = new Pm2Driver({ pm2Home })
    await driver.killDaemon().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
    rmSync(pm2Home, { recursive: true, force: true })
  })

  it('PM2 runs one fork-mode process: ecom\'s primary with its 2 workers', async () => {
    const driver = new Pm2Driver({ pm2Home })
    try {
      const s = await driver.describe(`quota${quotaPort}`)
      expect(s?.status).toBe('online')
      const st = await statusJson(quotaPort)
      expect(st.pid).toBe(s!.pid)
      expect(st.workers.filter((w) => w.state === 'listening')).toHaveLength(2)
    } finally {
      await driver.disconnect()
    }
  })

  it('the rate-limit quota is shared by all workers', async () => {
    const statuses = await Promise.all(Array.from({ length: 30 }, () => fetch(`http://127.0.0.1:${quotaPort}/`).then(async (r) => (await r.arrayBuffer(), r.status))))
    expect(statuses.filter((s) => s === 200)).toHaveLength(20)
    expect(statuses.filter((s) => s === 429)).toHaveLength(10)
  })

  it('/metrics covers all workers', async () => {
    const count = async (): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${loadPort}/metrics`)).text()
      return text.split('\n').filter((l) => l.startsWith('ecom_http_requests_total') && l.includes('status="200"') && !l.includes('metrics') && !l.includes('readyz'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)
    }
    const before = await count()
    const pids = new Set<number>()
    for (let i = 0; i < 40; i++) {
      // A fresh connection each time, so node:cluster spreads them over both workers.
      const r = await fetch(`http://127.0.0.1:${loadPort}/`, { headers: { connection: 'close' } })
      pids.add(((await r.json()) as { pid: number }).pid)
    }
    expect(pids.size).toBe(2)
    expect((await count()) - before).toBe(40)
  })

  it('ecom deploy pm2 --reload (SIGHUP) replaces every worker under load with zero failed requests', async () => {
    const before = await statusJson(loadPort)
    const oldPids = before.workers.map((w) => w.pid)
    const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 })
    let ok = 0
    const failures: string[] = []
    let running = true
    const loop = async (): Promise<void> => {
      while (running) {
        try {
          const r = await request(`http://127.0.0.1:${loadPort}/`, { dispatcher: agent })
          await r.body.text()
          if (r.statusCode === 200) ok++
          else failures.push(`status ${r.statusCode}`)
        } catch (err) {
          failures.push((err as Error).message)
        }
      }
    }
    const loops = Array.from({ length: 8 }, loop)
    await sleep(500)
    const r = await runCli(['deploy', 'pm2', '--config', 'load.config.cjs', '--reload'], { cwd: dir, env })
    expect(r.stdout).toContain('reloading')
    const end = Date.now() + 30_000
    let after = before
    while (Date.now() < end) {
      after = await statusJson(loadPort)
      const live = after.workers.filter((w) => w.state === 'listening').map((w) => w.pid)
      if (live.length === 2 && live.every((p) => !oldPids.includes(p))) break
      await sleep(200)
    }
    await sleep(500)
    running = false
    await Promise.all(loops)
    await agent.close()
    expect(after.workers.filter((w) => w.state === 'listening').every((w) => !oldPids.includes(w.pid))).toBe(true)
    expect(after.pid).toBe(before.pid) // the primary stayed: PM2 did not restart anything
    expect(failures).toEqual([])
    expect(ok).toBeGreaterThan(100)
  })

  it('--stop drains and removes the apps; --kill-daemon ends PM2', async () => {
    const a = await runCli(['deploy', 'pm2', '--config', 'quota.config.cjs', '--stop'], { cwd: dir, env })
    expect(a.stdout).toContain(`stopped quota${quotaPort}`)
    expect(await fetch(`http://127.0.0.1:${quotaPort}/`).then(() => 'up', () => 'down')).toBe('down')
    // The deploy hook (--reload) starts an app that is not running.
    const again = await runCli(['deploy', 'pm2', '--config', 'quota.config.cjs', '--reload'], { cwd: dir, env })
    expect(again.stdout).toContain(`quota${quotaPort} was not running: started it`)
    await waitReady(quotaPort)
    const b = await runCli(['deploy', 'pm2', '--config', 'load.config.cjs', '--stop', '--kill-daemon'], { cwd: dir, env })
    expect(b.stdout).toContain('stopped the PM2 daemon')
    expect(await fetch(`http://127.0.0.1:${loadPort}/`).then(() => 'up', () => 'down')).toBe('down')
    expect(readFileSync(join(dir, 'load.config.cjs'), 'utf8')).toContain('module.exports')
  })
})
