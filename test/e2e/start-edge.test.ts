import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawHead } from '../helpers/raw-http.js'
import { app, get, isolatedEnv, sleep, startApp, type Running } from './start-harness.js'

const env = isolatedEnv()

function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s))
    s.on('error', reject)
  })
}

/** Everything the server sends until it closes the socket (or `ms` passes). */
function readUntilClose(s: Socket, ms: number): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    let data = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => (data += d))
    const t = setTimeout(() => resolve({ data, closed: false }), ms)
    s.on('close', () => {
      clearTimeout(t)
      resolve({ data, closed: true })
    })
    s.on('error', () => {})
  })
}

describe('the edge: rate limit shared by 2 workers', () => {
  let r: Running
  beforeAll(async () => {
    r = await startApp([app('plain.mjs'), '--workers', '2', '--rate-limit', '10/1m', '--name', 'rl', '--preserve-header-case'], env, { workers: 2 })
  })
  afterAll(async () => {
    await r?.stop()
  })

  it('lets exactly L requests through per window across the cluster, then 429 with the draft headers', async () => {
    const replies = []
    // One connection per request, so the primary spreads them over both workers.
    for (let i = 0; i < 20; i++) replies.push(await get(`${r.url}/`))
    const ok = replies.filter((x) => x.status === 200)
    const limited = replies.filter((x) => x.status === 429)
    expect(ok).toHaveLength(10)
    expect(limited).toHaveLength(10)
    expect(new Set(ok.map((x) => (JSON.parse(x.body) as { pid: number }).pid)).size).toBe(2)
    // The default ("near-limit"): no quota headers while more than half the quota is left, then on every
    // answer. The requests went one after another, so the i-th answer left 9 - i.
    for (const x of ok.slice(0, 4)) {
      expect(x.headers['ratelimit-policy']).toBeUndefined()
      expect(x.headers.ratelimit).toBeUndefined()
    }
    expect(ok[4]!.headers['ratelimit-policy']).toBe('"default";q=10;w=60')
    expect(ok[4]!.headers.ratelimit).toMatch(/^"default";r=5;t=\d+$/)
    expect(ok[9]!.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/)
    const l = limited[0]!
    expect(Number(l.headers['retry-after'])).toBeGreaterThan(0)
    expect(Number(l.headers['retry-after'])).toBeLessThanOrEqual(60)
    expect(l.headers['ratelimit-policy']).toBe('"default";q=10;w=60')
    expect(l.headers.ratelimit).toMatch(/^"default";r=0;t=\d+$/)
    expect(JSON.parse(l.body)).toMatchObject({ error: { code: 'ECOM_ERR_RATE_LIMITED' } })
  })

  it('ignores X-Forwarded-For without --trust-proxy', async () => {
    const res = await get(`${r.url}/`, { headers: { 'X-Forwarded-For': '203.0.113.7' } })
    expect(res.status).toBe(429)
  })

  it('sends header names as spelled with --preserve-header-case', async () => {
    const head = await rawHead(r.port, '/healthz')
    expect(head).toContain('Content-Type: application/json')
  })

  it('does not rate-limit the health endpoints', async () => {
    expect((await get(`${r.url}/healthz`)).status).toBe(200)
    expect((await get(`${r.url}/readyz`)).status).toBe(200)
  })
})

describe('the edge: limits and timeouts (single process)', () => {
  let r: Running
  beforeAll(async () => {
    r = await startApp(
      [
        app('plain.mjs'), '--workers', '1', '--name', 'limits',
        '--headers-timeout', '1s', '--request-timeout', '5s', '--body-limit', '1kb',
        '--max-connections', '3', '--max-header-size', '2kb', '--rate-limit', '3/1m', '--rate-limit-headers', 'always', '--trust-proxy',
      ],
      { ...env, ECOM_LOG_LEVEL: 'info' }
    )
  })
  afterAll(async () => {
    await r?.stop()
  })

  it('keys the rate limit on X-Forwarded-For behind a trusted proxy', async () => {
    const as = (ip: string) => get(`${r.url}/`, { headers: { 'X-Forwarded-For': ip } })
    const a = [await as('198.51.100.1'), await as('198.51.100.1'), await as('198.51.100.1'), await as('198.51.100.1')]
    expect(a.map((x) => x.status)).toEqual([200, 200, 200, 429])
    // --rate-limit-headers always: the quota is on every answer, the first one included.
    expect(a.map((x) => x.headers.ratelimit)).toEqual([2, 1, 0, 0].map((left) => expect.stringMatching(new RegExp(`^"default";r=${left};t=\\d+$`))))
    expect(a[0]!.headers['ratelimit-policy']).toBe('"default";q=3;w=60')
    expect((await as('198.51.100.2')).status).toBe(200)
    // The right-most address is the one the trusted proxy added.
    expect((await as('10.9.9.9, 198.51.100.1')).status).toBe(429)
  })

  it('cuts off a client that trickles its headers', async () => {
    const s = await rawSocket(r.port)
    s.write('GET / HTTP/1.1\r\nHost: x\r\n')
    const drip = setInterval(() => s.writable && s.write('X-Slow: a\r\n'), 200)
    const started = Date.now()
    const { data, closed } = await readUntilClose(s, 6000)
    clearInterval(drip)
    expect(closed).toBe(true)
    expect(Date.now() - started).toBeLessThan(6000)
    if (data) expect(data).toMatch(/^HTTP\/1.1 408/)
  })

  it('answers 413 to a declared body over the limit without reading it', async () => {
    const s = await rawSocket(r.port)
    // Only the head is sent: the 413 must come without waiting for (or buffering) the 1 MB body.
    s.write('POST /upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.13\r\nContent-Length: 1048576\r\n\r\n')
    const { data } = await readUntilClose(s, 3000)
    expect(data).toMatch(/^HTTP\/1.1 413/)
    expect(data.toLowerCase()).toContain('connection: close')
    expect(data).toContain('ECOM_ERR_PAYLOAD_TOO_LARGE')
  })

  it('answers 413 to a chunked body once it passes the limit', async () => {
    const s = await rawSocket(r.port)
    s.write('POST /upload HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 192.0.2.14\r\nTransfer-Encoding: chunked\r\n\r\n')
    const chunk = 'a'.repeat(600)
    s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
    await sleep(50)
    s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
    const { data } = await readUntilClose(s, 3000)
    expect(data).toMatch(/^HTTP\/1.1 413/)
  })

  it('accepts a body within the limit', async () => {
    const res = await get(`${r.url}/upload`, { method: 'POST', body: 'x'.repeat(900), headers: { 'X-Forwarded-For': '192.0.2.15' } })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toEqual({ received: 900 })
  })

  it('answers 431 to a request head over --max-header-size', async () => {
    const res = await get(`${r.url}/`, { headers: { 'X-Big': 'b'.repeat(4096), 'X-Forwarded-For': '192.0.2.16' } })
    expect(res.status).toBe(431)
  })

  it('answers 503 with Connection: close past the connection limit', async () => {
    const held = [await rawSocket(r.port), await rawSocket(r.port), await rawSocket(r.port)]
    await sleep(50)
    const res = await get(`${r.url}/`, { headers: { 'X-Forwarded-For': '192.0.2.17' } })
    expect(res.status).toBe(503)
    expect(res.headers.connection).toBe('close')
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'ECOM_ERR_SERVER_BUSY' } })
    for (const s of held) s.destroy()
    await sleep(100)
    expect((await get(`${r.url}/`, { headers: { 'X-Forwarded-For': '192.0.2.18' } })).status).toBe(200)
  })

  it('gives every request an id, keeping and echoing a sane one the client sent', async () => {
    const a = await get(`${r.url}/`, { headers: { 'X-Forwarded-For': '192.0.2.21' } })
    const generated = (JSON.parse(a.body) as { id: string }).id
    expect(generated).toMatch(/^[\w-]+$/)
    // A generated id is in the logs and on the edge's own refusals, not on every answer.
    expect(a.headers['x-request-id']).toBeUndefined()
    const b = await get(`${r.url}/`, { headers: { 'X-Request-Id': 'trace-abc.123', 'X-Forwarded-For': '192.0.2.19' } })
    expect(b.headers['x-request-id']).toBe('trace-abc.123')
    expect(JSON.parse(b.body)).toMatchObject({ id: 'trace-abc.123' })
    const c = await get(`${r.url}/`, { headers: { 'X-Request-Id': 'bad id with spaces', 'X-Forwarded-For': '192.0.2.22' } })
    expect(c.headers['x-request-id']).toBeUndefined()
    expect((JSON.parse(c.body) as { id: string }).id).not.toBe('bad id with spaces')
  })

  it('names the request in an error the edge answers itself', async () => {
    const res = await get(`${r.url}/boom`, { headers: { 'X-Forwarded-For': '192.0.2.23' } })
    expect(res.status).toBe(500)
    expect(res.headers['x-request-id']).toMatch(/^[\w-]+$/)
    await sleep(100)
    const line = r.child.output().split('\n').find((l) => l.includes('handler failed') && l.includes(res.headers['x-request-id'] as string))
    expect(line).toBeDefined()
  })

  it('hands the handler req.id and req.log (a pino child bound to the request id)', async () => {
    const res = await get(`${r.url}/log`, { headers: { 'X-Request-Id': 'log-check-1', 'X-Forwarded-For': '192.0.2.20' } })
    expect(JSON.parse(res.body)).toEqual({ id: 'log-check-1', hasLog: true })
    await sleep(100)
    const line = r.child.output().split('\n').find((l) => l.includes('logged from the handler'))
    expect(line).toBeDefined()
    expect(JSON.parse(line!)).toMatchObject({ reqId: 'log-check-1', route: '/log', level: 30 })
  })

  it('sends common header names in lower case by default (here on the edge\'s own /healthz answer)', async () => {
    expect(await rawHead(r.port, '/healthz')).toContain('content-type: application/json')
  })

  it('serves /healthz, /readyz and single-process /metrics', async () => {
    expect(JSON.parse((await get(`${r.url}/healthz`)).body)).toEqual({ status: 'ok' })
    expect(JSON.parse((await get(`${r.url}/readyz`)).body)).toEqual({ ready: true })
    const m = await get(`${r.url}/metrics`)
    expect(m.headers['content-type']).toContain('text/plain')
    expect(m.body).toContain('ecom_http_requests_total')
  })
})
