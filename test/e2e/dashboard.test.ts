import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer, type Server } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, runCli } from '../helpers/cli.js'
import { app, get, isolatedEnv, startApp, waitFor, type Running } from './start-harness.js'
import { tempDir } from '../helpers/temp-dir.js'

interface State {
  intervalMs: number | null
  workers: Array<{ id: number; pid: number; state: string }>
  http: { requestsPerSecond: number | null; p50Ms: number | null; p95Ms: number | null; requestsTotal: number }
  rateLimit: { rejectedTotal: number }
  restarts: Record<string, number>
}

/** Read `count` server-sent events from /events with the given cookie. */
function events(origin: string, cookie: string, count: number): Promise<State[]> {
  return new Promise((resolve, reject) => {
    const got: State[] = []
    const req = request(`${origin}/events`, { headers: { cookie } }, (res) => {
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) return reject(new Error(`events: ${res.statusCode}`))
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        buf += d
        let i
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const data = frame.split('\n').find((l) => l.startsWith('data: '))
          if (data) got.push(JSON.parse(data.slice(6)) as State)
          if (got.length === count) {
            req.destroy()
            resolve(got)
          }
        }
      })
    })
    req.on('error', (err) => (got.length < count ? reject(err) : undefined))
    req.end()
  })
}

describe('the dashboard in the primary', () => {
  const env = { ...isolatedEnv(), ECOM_LOG_LEVEL: 'info' }
  let r: Running
  let link: string
  let origin: string
  let token: string

  beforeAll(async () => {
    r = await startApp([app('plain.mjs'), '--workers', '2', '--rate-limit', '30/1m'], env, { workers: 2 })
    const web = await r.cli(['status', '--web', '--port', String(r.port)])
    expect(web.code, web.stderr).toBe(0)
    link = web.stdout.trim()
    const u = new URL(link)
    origin = u.origin
    token = u.searchParams.get('token')!
  })
  afterAll(async () => {
    await r?.stop()
  })

  it('`ecom status --web` prints a tokenised link on 127.0.0.1; the same as status --json, never in the log', async () => {
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/)
    const json = JSON.parse((await r.cli(['status', '--json', '--port', String(r.port)])).stdout) as { dashboard: { url: string } }
    expect(json.dashboard.url).toBe(link)
    const table = (await r.cli(['status', '--port', String(r.port)])).stdout
    expect(table).toContain(`dashboard: ${origin}/`)
    expect(table).not.toContain(token)
    expect(r.child.output()).toContain(`dashboard on ${origin}/`)
    expect(r.child.output()).not.toContain(token)
  })

  it('`ecom status --web --open` hands the same link to the desktop opener, and says so when there is none', async () => {
    // A stand-in for xdg-open first on PATH: it records the argument it was given.
    const bin = tempDir('opener')
    const seen = join(bin, 'seen')
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${seen}'\n`, { mode: 0o755 })
    const opened = await runCli(['status', '--web', '--open', '--port', String(r.port)], { env: { ...env, PATH: `${bin}:${process.env.PATH}` } })
    expect(opened.code, opened.stderr).toBe(0)
    expect(opened.stdout.trim()).toBe(link)
    await waitFor(async () => existsSync(seen) || undefined, 5000)
    expect(readFileSync(seen, 'utf8')).toBe(link)
    // No opener at all: the link is still printed, with one line saying to open it by hand.
    const none = await runCli(['status', '--web', '--open', '--port', String(r.port)], { env: { ...env, PATH: tempDir('empty-path') } })
    expect(none.code).toBe(0)
    expect(none.stdout.trim()).toBe(link)
    expect(none.stderr).toContain('could not run xdg-open; open the link above yourself')
  })

  it('listens on loopback only by default', async () => {
    const port = Number(new URL(origin).port)
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)
    if (!external) {
      console.warn('no non-loopback IPv4 address on this machine: only the bound address is checked')
      return
    }
    await expect(get(`http://${external.address}:${port}/`, { timeoutMs: 2000 })).rejects.toThrow(/ECONNREFUSED/)
  })

  it('answers 401 without a token, with a wrong one (query, cookie or bearer)', async () => {
    for (const path of ['/', '/api/state', '/events']) expect((await get(`${origin}${path}`)).status).toBe(401)
    expect((await get(`${origin}/?token=wrong`)).status).toBe(401)
    expect((await get(`${origin}/?token=${token}x`)).status).toBe(401)
    const port = new URL(origin).port
    expect((await get(`${origin}/api/state`, { headers: { cookie: `ecom_dashboard_${port}=${token.slice(1)}` } })).status).toBe(401)
    expect((await get(`${origin}/api/state`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401)
    expect((await get(`${origin}/`, { method: 'POST' })).status).toBe(405)
  })

  it('trades the token for an HttpOnly SameSite=Strict cookie, then serves the page, /api/state and /events', async () => {
    const login = await get(link)
    expect(login.status).toBe(303)
    expect(login.headers.location).toBe('/')
    const setCookie = String(login.headers['set-cookie'])
    expect(setCookie).toMatch(/HttpOnly/)
    expect(setCookie).toMatch(/SameSite=Strict/)
    const cookie = setCookie.split(';')[0]!

    const page = await get(`${origin}/`, { headers: { cookie } })
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    expect(page.body).toContain('<table id="workers">')
    expect(page.body).not.toMatch(/<(script|link)[^>]+(src|href)=/) // self-contained
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'")

    const state = JSON.parse((await get(`${origin}/api/state`, { headers: { cookie } })).body) as State
    expect(state.workers.map((w) => w.id).sort()).toEqual([0, 1])
    for (const w of state.workers) expect(w.state).toBe('listening')

    // Traffic while a browser listens: the events carry rates, latency and the 429s of the shared quota.
    const stream = events(origin, cookie, 4)
    let limited = 0
    for (let i = 0; i < 45; i++) if ((await get(`${r.url}/`)).status === 429) limited++
    expect(limited).toBeGreaterThan(0)
    const frames = await stream
    expect(frames[0]!.workers).toHaveLength(2)
    const last = await waitFor(async () => {
      const s = JSON.parse((await get(`${origin}/api/state`, { headers: { cookie } })).body) as State
      return s.rateLimit.rejectedTotal >= limited && s
    })
    expect(last.http.requestsTotal).toBeGreaterThanOrEqual(45)
    expect(frames.some((f) => (f.http.requestsPerSecond ?? 0) > 0 && f.http.p50Ms !== null && f.http.p95Ms !== null)).toBe(true)
    expect(last.restarts).toMatchObject({ crash: 0 })
  })
})

describe('dashboard options', () => {
  const env = isolatedEnv()

  it('--no-dashboard: status --web fails with ECOM_ERR_DASHBOARD_DISABLED, status --json says null', async () => {
    const r = await startApp([app('plain.mjs'), '--workers', '1', '--no-dashboard'], env)
    try {
      const web = await r.cli(['status', '--web', '--port', String(r.port)])
      expect(web.code).toBe(1)
      expect(web.stderr).toContain('ECOM_ERR_DASHBOARD_DISABLED')
      expect(web.stderr).toContain('--no-dashboard')
      expect(JSON.parse((await r.cli(['status', '--json', '--port', String(r.port)])).stdout).dashboard).toBeNull()
    } finally {
      await r.stop()
    }
  })

  it('--dashboard <port> serves there, in single-process mode too', async () => {
    const port = await freePort()
    const r = await startApp([app('plain.mjs'), '--workers', '1', '--dashboard', `127.0.0.1:${port}`], env)
    try {
      const link = (await r.cli(['status', '--web', '--port', String(r.port)])).stdout.trim()
      expect(new URL(link).port).toBe(String(port))
      const token = new URL(link).searchParams.get('token')!
      const state = JSON.parse((await get(`http://127.0.0.1:${port}/api/state`, { headers: { authorization: `Bearer ${token}` } })).body) as State
      expect(state.workers).toHaveLength(1)
      expect(state.workers[0]!.pid).toBe(r.child.pid)
    } finally {
      await r.stop()
    }
  })

  it('--dashboard on a taken port: exit 1 with ECOM_ERR_DASHBOARD_LISTEN (the app stops again)', async () => {
    const busy: Server = createServer()
    const port = await freePort()
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve))
    try {
      const res = await runCli(['start', app('plain.mjs'), '--workers', '2', '--port', String(await freePort()), '--dashboard', String(port)], { env })
      expect(res.code).toBe(1)
      expect(res.stderr).toContain('ECOM_ERR_DASHBOARD_LISTEN')
    } finally {
      busy.close()
    }
  })
})
