import { statSync } from 'node:fs'
import { Agent } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { app, get, isolatedEnv, load, sleep, startApp, status, waitFor, type Running } from './start-harness.js'

describe('ecom start with 2 workers', () => {
  let r: Running
  const env = isolatedEnv()

  beforeAll(async () => {
    r = await startApp([app('plain.mjs'), '--workers', '2', '--name', 'cluster'], env, { workers: 2 })
  })
  afterAll(async () => {
    await r?.stop()
  })

  it('serves from two worker processes, each told its slot and the cluster size', async () => {
    const seen = new Map<number, { worker: string; size: string }>()
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const res = await get(`${r.url}/`)
      expect(res.status).toBe(200)
      const b = JSON.parse(res.body) as { pid: number; worker: string; size: string }
      seen.set(b.pid, b)
    }
    expect(seen.size).toBe(2)
    expect([...seen.values()].map((b) => b.worker).sort()).toEqual(['0', '1'])
    for (const b of seen.values()) expect(b.size).toBe('2')
  })

  it('reports its workers through `ecom status`, as JSON and as a table', async () => {
    const st = await status(r)
    expect(st.name).toBe('cluster')
    expect(st.mode).toBe('cluster')
    expect(st.workers).toHaveLength(2)
    for (const w of st.workers) {
      expect(w.state).toBe('listening')
      expect(w.pid).toBeGreaterThan(0)
      expect(w.rss).toBeGreaterThan(0)
      expect(w.uptimeMs).toBeGreaterThan(0)
    }
    const table = await r.cli(['status', '--port', String(r.port)])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/id\s+pid\s+state\s+uptime\s+restarts\s+rss\s+requests/)
  })

  it('keeps the control socket owner-only (directory 0700, socket 0600)', async () => {
    const dir = `${env.XDG_RUNTIME_DIR}/ecom-${process.getuid!()}`
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    const sock = `${dir}/cluster@${r.port}.sock`
    expect(statSync(sock).isSocket()).toBe(true)
    expect(statSync(sock).mode & 0o777).toBe(0o600)
  })

  it('answers 500 to a throwing handler and keeps serving from the same worker', async () => {
    const before = await status(r)
    expect((await get(`${r.url}/boom`)).status).toBe(500)
    expect((await get(`${r.url}/reject`)).status).toBe(500)
    expect((await get(`${r.url}/`)).status).toBe(200)
    const after = await status(r)
    expect(after.workers.map((w) => w.pid).sort()).toEqual(before.workers.map((w) => w.pid).sort())
  })

  it('sums /metrics across workers in the primary', async () => {
    const route = `/counted-${Date.now()}`
    const pids = new Set<number>()
    for (let i = 0; i < 30; i++) pids.add((JSON.parse((await get(`${r.url}${route}`)).body) as { pid: number }).pid)
    expect(pids.size).toBe(2) // both workers served some of them
    const text = (await get(`${r.url}/metrics`)).body
    const line = text.split('\n').find((l) => l.startsWith('ecom_http_requests_total') && l.includes(`route="${route}"`))
    expect(line).toBeDefined()
    expect(Number(line!.split(' ').pop())).toBe(30)
    expect(text).toContain('ecom_http_request_duration_seconds_bucket')
    expect(text).toContain('ecom_http_open_connections')
    expect(text).toMatch(/ecom_event_loop_lag_seconds\{worker="0"\}/)
    expect(text).toMatch(/ecom_event_loop_lag_seconds\{worker="1"\}/)
    expect(text).toMatch(/ecom_worker_restarts_total\{reason="crash"\} \d+/)
  })

  it('replaces a worker killed with SIGKILL under load; only its in-flight requests may fail', async () => {
    const before = await status(r)
    const victim = before.workers[0]!
    const concurrency = 8
    const traffic = load(`${r.url}/`, concurrency)
    await sleep(300)
    process.kill(victim.pid, 'SIGKILL')
    const after = await waitFor(async () => {
      const st = await status(r)
      const w = st.workers.find((x) => x.id === victim.id && x.state === 'listening')
      return w && w.pid !== victim.pid ? st : undefined
    })
    await sleep(300)
    const res = await traffic.stop()
    expect(after.workers.find((w) => w.id === victim.id)!.restarts).toBe(1)
    expect(res.ok).toBeGreaterThan(0)
    // Requests on the killed worker's sockets at the moment of death may fail; nothing else.
    expect(res.errors + res.non2xx).toBeLessThanOrEqual(concurrency)
    const metrics = (await get(`${r.url}/metrics`)).body
    expect(metrics).toMatch(/ecom_worker_restarts_total\{reason="crash"\} 1/)
  })

  it('survives two consecutive rolling reloads under continuous keep-alive load with zero failures', async () => {
    const before = await status(r)
    const traffic = load(`${r.url}/`, 8)
    await sleep(300)
    const first = await r.cli(['reload', '--port', String(r.port)])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('reloaded 2 workers')
    const mid = await status(r)
    const second = await r.cli(['reload', '--name', 'cluster'])
    expect(second.code).toBe(0)
    await sleep(300)
    const res = await traffic.stop()
    const after = await status(r)
    expect(res.errorMessages).toEqual([])
    expect(res.errors).toBe(0)
    expect(res.non2xx).toBe(0)
    expect(res.ok).toBeGreaterThan(50)
    const pidsBefore = new Set(before.workers.map((w) => w.pid))
    const pidsMid = new Set(mid.workers.map((w) => w.pid))
    for (const w of mid.workers) expect(pidsBefore.has(w.pid)).toBe(false)
    for (const w of after.workers) {
      expect(pidsMid.has(w.pid)).toBe(false)
      expect(w.state).toBe('listening')
    }
    // Requests were answered by old and new generations alike.
    expect(res.pids.size).toBeGreaterThanOrEqual(4)
  })

  it('drains on SIGTERM: an in-flight request completes, readiness drops, then exit 0', async () => {
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 })
    expect((await get(`${r.url}/readyz`, { agent: keepAlive })).status).toBe(200)
    const slow = get(`${r.url}/slow?ms=800`)
    await sleep(150)
    r.child.kill('SIGTERM')
    await sleep(100)
    // The keep-alive socket opened before the signal is still served, and says the app is not ready.
    const ready = await get(`${r.url}/readyz`, { agent: keepAlive })
    expect(ready.status).toBe(503)
    expect(ready.headers.connection).toBe('close')
    keepAlive.destroy()
    const res = await slow
    expect(res.status).toBe(200)
    expect(res.headers.connection).toBe('close')
    const { code } = await r.exited
    expect(code).toBe(0)
  })
})
