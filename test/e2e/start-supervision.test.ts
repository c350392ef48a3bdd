import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { freePort, runCli } from '../helpers/cli.js'
import { app, get, isolatedEnv, sleep, startApp, status, waitFor } from './start-harness.js'
import { tempDir } from '../helpers/temp-dir.js'

const env = isolatedEnv()

describe('ecom start: supervision', () => {
  it('gives up a crash-looping slot, says so, and exits 1 when every slot gave up', async () => {
    const port = await freePort()
    const r = await runCli(
      ['start', app('crash-after-listen.mjs'), '--workers', '2', '--crash-limit', '3', '--port', String(port), '--host', '127.0.0.1'],
      { env, timeoutMs: 30_000 }
    )
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('ECOM_ERR_CRASH_LOOP')
    expect(r.stdout).toMatch(/worker slot 0 crashed 3 times in a row .*not respawning it/)
    expect(r.stdout).toMatch(/respawning in 100ms/)
    expect(r.stdout).toMatch(/respawning in 150ms/)
  })

  it('replaces a worker over --max-memory gracefully', async () => {
    const r = await startApp([app('plain.mjs'), '--workers', '2', '--max-memory', '200mb', '--name', 'mem'], env, { workers: 2 })
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      const first = JSON.parse((await get(`${r.url}/grow`, { agent })).body) as { pid: number }
      await get(`${r.url}/grow`, { agent })
      await get(`${r.url}/grow`, { agent })
      agent.destroy()
      const st = await waitFor(async () => {
        const s = await status(r)
        return s.workers.every((w) => w.pid !== first.pid && w.state === 'listening') ? s : undefined
      })
      expect(st.workers).toHaveLength(2)
      expect(st.workers.reduce((n, w) => n + w.restarts, 0)).toBe(1)
      expect((await get(`${r.url}/metrics`)).body).toMatch(/ecom_worker_restarts_total\{reason="memory"\} 1/)
    } finally {
      await r.stop()
    }
  })

  it("calls the app's close() after the drain: in every worker on SIGTERM, in the old workers on reload, and in single-process mode", async () => {
    const log = join(tempDir('close'), 'log')
    const lines = (): string[][] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')) : [])
    const closeEnv = { ...env, ECOM_TEST_CLOSE_LOG: log }
    const r = await startApp([app('closes.mjs'), '--workers', '2', '--name', 'closes'], closeEnv, { workers: 2 })
    const first = (await status(r)).workers.map((w) => w.pid)
    expect((await r.cli(['reload', '--port', String(r.port)])).code).toBe(0)
    // Each replaced worker closed its app (the handler's close, then the module's) before it exited.
    await waitFor(async () => lines().filter((l) => l[0] === 'module-closed').length === 2 || undefined)
    expect(lines().map((l) => [l[0], Number(l[2])]).sort()).toEqual(
      [...first.flatMap((pid) => [['app-closed', pid], ['module-closed', pid]])].sort()
    )
    const second = (await status(r)).workers.map((w) => w.pid)
    expect((await r.stop()).code).toBe(0)
    expect(lines().filter((l) => second.includes(Number(l[2]))).map((l) => l[0]).sort()).toEqual(['app-closed', 'app-closed', 'module-closed', 'module-closed'])

    const single = await startApp([app('closes.mjs'), '--workers', '1', '--name', 'closes1'], closeEnv)
    const pid = single.child.pid!
    expect((await single.stop()).code).toBe(0)
    expect(lines().filter((l) => Number(l[2]) === pid).map((l) => l[0])).toEqual(['app-closed', 'module-closed'])
  })

  it('exits within the grace period when the app\'s close() never finishes', async () => {
    const r = await startApp([app('closes.mjs'), '--workers', '2', '--grace', '1s', '--name', 'hangs'], { ...env, ECOM_TEST_CLOSE_LOG: join(tempDir('close'), 'log'), ECOM_TEST_CLOSE_HANG: '1' }, { workers: 2 })
    expect((await r.stop()).code).toBe(0)
    expect(r.child.output()).toContain("the app's close() did not finish within the grace period")
  })

  it('rolls the workers on SIGHUP', async () => {
    const r = await startApp([app('plain.mjs'), '--workers', '2', '--name', 'hup'], env, { workers: 2 })
    try {
      const before = (await status(r)).workers.map((w) => w.pid)
      r.child.kill('SIGHUP')
      await waitFor(async () => {
        const s = await status(r)
        return s.workers.length === 2 && s.workers.every((w) => !before.includes(w.pid) && w.state === 'listening')
      })
    } finally {
      await r.stop()
    }
  })

  it('picks up new code on reload, and keeps the old workers when the new code fails to start', async () => {
    const dir = tempDir('reload-fail')
    const entry = join(dir, 'app.mjs')
    copyFileSync(app('plain.mjs'), entry)
    const r = await startApp([entry, '--workers', '2', '--name', 'badreload'], env, { workers: 2 })
    try {
      // ESM caches by URL, so a fresh worker process is what picks the new code up.
      writeFileSync(entry, "export default (req, res) => res.end(JSON.stringify({ version: 2, pid: process.pid }))\n")
      expect((await r.cli(['reload', '--name', 'badreload'])).code).toBe(0)
      expect(JSON.parse((await get(`${r.url}/`)).body)).toMatchObject({ version: 2 })
      const before = (await status(r)).workers.map((w) => w.pid).sort()
      writeFileSync(entry, "throw new Error('broken deploy')\n")
      const res = await r.cli(['reload', '--name', 'badreload'])
      expect(res.code).toBe(1)
      expect(res.stderr).toContain('ECOM_ERR_RELOAD')
      expect(res.stderr).toContain('broken deploy')
      expect(JSON.parse((await get(`${r.url}/`)).body)).toMatchObject({ version: 2 })
      expect((await status(r)).workers.map((w) => w.pid).sort()).toEqual(before)
    } finally {
      await r.stop()
    }
  })

  it('forces the exit on a second signal instead of waiting for the grace period', async () => {
    const r = await startApp([app('plain.mjs'), '--workers', '2', '--grace', '30s', '--name', 'force'], env, { workers: 2 })
    const slow = get(`${r.url}/slow?ms=20000`, { timeoutMs: 60_000 }).catch((e: Error) => e)
    await sleep(200)
    const t0 = Date.now()
    r.child.kill('SIGINT')
    // Draining: the workers have left the rotation, so a new connection is no longer served.
    await waitFor(async () => (await get(`${r.url}/`, { timeoutMs: 1000 }).catch((e: Error) => e)) instanceof Error)
    expect(r.child.exitCode).toBe(null) // still draining the slow request
    r.child.kill('SIGINT')
    const { code } = await r.exited
    expect(code).toBe(1)
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(await slow).toBeInstanceOf(Error)
  })

  it('runs several apps side by side, selected by name or port', async () => {
    const a = await startApp([app('plain.mjs'), '--workers', '1', '--name', 'side-a'], env)
    const b = await startApp([app('plain.mjs'), '--workers', '1', '--name', 'side-b'], env)
    try {
      const ambiguous = await runCli(['status'], { env })
      expect(ambiguous.code).toBe(2)
      expect(ambiguous.stderr).toContain('ECOM_ERR_APP_AMBIGUOUS')
      const byName = JSON.parse((await runCli(['status', '--json', '--name', 'side-a'], { env })).stdout) as { name: string; mode: string }
      expect(byName).toMatchObject({ name: 'side-a', mode: 'single' })
      const reload = await runCli(['reload', '--name', 'side-a'], { env })
      expect(reload.code).toBe(1)
      expect(reload.stderr).toContain('ECOM_ERR_RELOAD')
      const stop = await runCli(['stop', '--port', String(b.port)], { env })
      expect(stop.code).toBe(0)
      expect(stop.stdout).toContain('side-b: stopped')
      expect((await b.exited).code).toBe(0)
      expect((await get(`${a.url}/`)).status).toBe(200)
      const again = await runCli(['start', app('plain.mjs'), '--workers', '1', '--name', 'side-a', '--port', String(a.port)], { env })
      expect(again.code).toBe(1)
      expect(again.stderr).toContain('ECOM_ERR_APP_RUNNING')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
