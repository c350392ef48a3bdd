import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CachingResolver } from '../../src/runtime/dns.js'
import { HttpClient, splitUrl, type HttpClientOptions } from '../../src/runtime/http-client.js'
import { getRegistry } from '../../src/runtime/metrics.js'
import { startDnsServer } from '../fixtures/toolkit/dns-server.js'

// The servers are reached as "api.ecom.test", a name only our resolver knows (from its hosts file),
// so every request also proves the client dials through the caching resolver.
const dir = mkdtempSync(join(tmpdir(), 'ecom-http-'))
writeFileSync(join(dir, 'hosts'), '127.0.0.1 api.ecom.test\n')
const resolver = new CachingResolver({ hostsFile: join(dir, 'hosts'), servers: ['127.0.0.1:9'], retries: 0, timeout: 100 })
afterAll(() => rmSync(dir, { recursive: true, force: true }))

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void
interface TestServer { url: string; hits: number; sockets: number; maxOpen: number; headers: IncomingMessage['headers'][]; server: Server }
const servers: TestServer[] = []
const clients: HttpClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => { s.server.closeAllConnections(); s.server.close(r) })))
})

async function serve(handler: Handler): Promise<TestServer> {
  let open = 0
  const t: TestServer = { url: '', hits: 0, sockets: 0, maxOpen: 0, headers: [], server: createServer((req, res) => {
    t.hits++
    t.headers.push(req.headers)
    req.resume()
    req.on('end', () => handler(req, res, t.hits))
  }) }
  t.server.on('connection', (s) => {
    t.sockets++
    t.maxOpen = Math.max(t.maxOpen, ++open)
    s.on('close', () => open--)
  })
  await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', r))
  t.url = `http://api.ecom.test:${(t.server.address() as { port: number }).port}`
  servers.push(t)
  return t
}
function client(o: HttpClientOptions = {}): HttpClient {
  const c = new HttpClient({ resolver, retryDelay: 5, ...o })
  clients.push(c)
  return c
}
const ok: Handler = (_q, res) => res.end('ok')

describe('HttpClient', () => {
  it('requests through the caching resolver and keeps connections alive', async () => {
    const s = await serve((req, res) => res.end(JSON.stringify({ path: req.url })))
    const c = client({ connections: 1 })
    for (let i = 0; i < 10; i++) {
      const res = await c.request(`${s.url}/x?i=${i}`)
      expect(res.statusCode).toBe(200)
      expect(res.json()).toEqual({ path: `/x?i=${i}` })
    }
    expect(s.sockets).toBe(1) // without keep-alive this would be 10
  })

  it('limits connections per origin', async () => {
    const s = await serve((_q, res) => setTimeout(() => res.end('slow'), 30))
    const c = client({ connections: 2 })
    const all = await Promise.all(Array.from({ length: 10 }, () => c.request(s.url)))
    expect(all.map((r) => r.text())).toEqual(Array(10).fill('slow'))
    expect(s.maxOpen).toBe(2)
  })

  it('retries idempotent methods on 503 and on a reset connection', async () => {
    const s = await serve((_q, res, n) => (n <= 2 ? res.writeHead(503).end() : res.end('finally')))
    const c = client()
    const res = await c.request(s.url)
    expect(res.text()).toBe('finally')
    expect(s.hits).toBe(3)
    const reset = await serve((req, res, n) => (n === 1 ? req.socket.destroy() : res.end('after reset')))
    expect((await c.request(reset.url, { method: 'PUT', body: 'x' })).text()).toBe('after reset')
    expect(reset.hits).toBe(2)
  })

  it('retries a POST only with an idempotency key, which it sends', async () => {
    const s = await serve((_q, res) => res.writeHead(503).end())
    const c = client({ retries: 2 })
    expect((await c.request(s.url, { method: 'POST', body: '{}' })).statusCode).toBe(503)
    expect(s.hits).toBe(1)
    expect((await c.request(s.url, { method: 'POST', body: '{}', idempotencyKey: 'order-1' })).statusCode).toBe(503)
    expect(s.hits).toBe(4)
    expect(s.headers.slice(1).map((h) => h['idempotency-key'])).toEqual(['order-1', 'order-1', 'order-1'])
    const reset = await serve((req) => req.socket.destroy())
    await expect(c.request(reset.url, { method: 'POST', body: 'charge' })).rejects.toMatchObject({ code: 'ECOM_ERR_HTTP_CONNECTION', retryable: true })
    expect(reset.hits).toBe(1)
  })

  it('times out a server that hangs before the headers or in the body', async () => {
    const hang = await serve(() => {})
    const c = client({ retries: 0 })
    await expect(c.request(hang.url, { headersTimeout: 200 })).rejects.toMatchObject({
      code: 'ECOM_ERR_HTTP_TIMEOUT', details: { phase: 'headers' },
    })
    const stall = await serve((_q, res) => { res.writeHead(200, { 'content-length': '100' }); res.write('partial') })
    await expect(c.request(stall.url, { bodyTimeout: 200 })).rejects.toMatchObject({
      code: 'ECOM_ERR_HTTP_TIMEOUT', details: { phase: 'body' },
    })
  })

  it('aborts an attempt at its deadline, however the answer trickles in, and retries it when it may', async () => {
    // A body that keeps coming (a chunk every 50 ms, 50 s in all): never a gap long enough for
    // bodyTimeout, so only the deadline ends the attempt before the test's own timeout.
    const trickle = await serve((_q, res) => {
      res.writeHead(200, { 'content-length': '1000' })
      const t = setInterval(() => res.write('x'), 50)
      res.on('close', () => clearInterval(t))
    })
    const c = client({ retries: 1 })
    const err = await c.request(trickle.url, { timeout: 300, bodyTimeout: 5000 }).catch((e: unknown) => e)
    expect(err).toMatchObject({
      code: 'ECOM_ERR_HTTP_TIMEOUT', message: expect.stringMatching(/within 300 ms/), details: { phase: 'deadline' },
      cause: { name: 'TimeoutError', code: 'ETIMEDOUT' },
    })
    expect(trickle.hits).toBe(2) // a GET: the timed-out attempt is retried once
    // The deadline is per attempt and cleared with it: a fast answer is not aborted later.
    const fast = await serve(ok)
    expect((await c.request(fast.url, { timeout: 50 })).text()).toBe('ok')
    await new Promise((r) => setTimeout(r, 100))
    await expect(c.request(fast.url, { timeout: 0 })).rejects.toMatchObject({ code: 'ECOM_ERR_INVALID_OPTION' })
  })

  it("rejects with the caller's abort reason, before or during the call", async () => {
    const hang = await serve(() => {})
    const c = client({ retries: 2 })
    const ac = new AbortController()
    const pending = c.request(hang.url, { signal: ac.signal })
    setTimeout(() => ac.abort(new Error('caller gave up')), 100)
    await expect(pending).rejects.toThrow('caller gave up')
    expect(hang.hits).toBe(1) // an abort is not retried
    await expect(c.request(hang.url, { signal: AbortSignal.abort(new Error('already')) })).rejects.toThrow('already')
    expect(hang.hits).toBe(1) // an aborted signal sends nothing
  })

  it('times out a connect that does not complete (here: a DNS server that never answers)', async () => {
    // undici's connect timeout covers the lookup our resolver does inside net.connect.
    const dns = await startDnsServer({ 'blackhole.ecom.test': { A: 'timeout', AAAA: 'timeout' } })
    try {
      const slow = new CachingResolver({ servers: [`127.0.0.1:${dns.port}`], hostsFile: null, timeout: 3000, retries: 0 })
      const c = client({ resolver: slow, connectTimeout: 200, retries: 0 })
      await expect(c.request('http://blackhole.ecom.test/')).rejects.toMatchObject({
        code: 'ECOM_ERR_HTTP_TIMEOUT', details: { phase: 'connect' },
      })
    } finally {
      await dns.close()
    }
  })

  it('refused connections are coded and retried', async () => {
    const s = await serve(ok)
    const url = s.url
    await new Promise((r) => s.server.close(r))
    servers.splice(servers.indexOf(s), 1)
    const c = client({ retries: 1, breaker: false })
    await expect(c.request(url)).rejects.toMatchObject({ code: 'ECOM_ERR_HTTP_CONNECTION', details: { cause: 'ECONNREFUSED' } })
  })

  it('opens the breaker on consecutive failures, fails fast, and closes after a good half-open probe', async () => {
    let healthy = false
    const s = await serve((_q, res) => (healthy ? res.end('up') : res.writeHead(500).end()))
    const c = client({ retries: 0, breaker: { consecutiveFailures: 3, openMs: 300 } })
    for (let i = 0; i < 3; i++) expect((await c.request(s.url)).statusCode).toBe(500)
    expect(c.breakerState(s.url)).toBe('open')
    await expect(c.request(s.url)).rejects.toMatchObject({ code: 'ECOM_ERR_HTTP_CIRCUIT_OPEN', statusCode: 503, details: { origin: s.url } })
    expect(s.hits).toBe(3)
    await new Promise((r) => setTimeout(r, 320))
    expect(c.breakerState(s.url)).toBe('half-open')
    expect((await c.request(s.url)).statusCode).toBe(500) // failed probe: open again
    expect(c.breakerState(s.url)).toBe('open')
    await new Promise((r) => setTimeout(r, 320))
    healthy = true
    // Only one probe at a time while half-open.
    const [probe, second] = await Promise.allSettled([c.request(s.url), c.request(s.url)])
    expect(probe).toMatchObject({ status: 'fulfilled', value: { statusCode: 200 } })
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'ECOM_ERR_HTTP_CIRCUIT_OPEN' } })
    expect(c.breakerState(s.url)).toBe('closed')
    expect((await c.request(s.url)).text()).toBe('up')
  })

  it('opens the breaker on a failure ratio, per origin', async () => {
    const flaky = await serve((_q, res, n) => (n % 2 === 0 ? res.writeHead(502).end() : res.end('ok')))
    const fine = await serve(ok)
    const c = client({ retries: 0, breaker: { consecutiveFailures: 100, failureRatio: 0.5, minRequests: 10 } })
    for (let i = 0; i < 10; i++) await c.request(flaky.url)
    expect(c.breakerState(flaky.url)).toBe('open')
    expect(c.breakerState(fine.url)).toBe('closed')
    expect((await c.request(fine.url)).text()).toBe('ok')
  })

  it('records per-origin metrics in the shared registry', async () => {
    const s = await serve((_q, res, n) => (n === 1 ? res.writeHead(503).end() : res.end('ok')))
    const c = client()
    await c.request(s.url)
    const text = await getRegistry().metrics()
    const origin = s.url.replace(/[/.]/g, (m) => `\\${m}`)
    expect(text).toMatch(new RegExp(`ecom_http_client_requests_total\\{origin="${origin}",outcome="503"\\} 1`))
    expect(text).toMatch(new RegExp(`ecom_http_client_requests_total\\{origin="${origin}",outcome="200"\\} 1`))
    expect(text).toMatch(new RegExp(`ecom_http_client_retries_total\\{origin="${origin}"\\} 1`))
    expect(text).toMatch(new RegExp(`ecom_http_client_breaker_state\\{origin="${origin}"\\} 0`))
    expect(text).toMatch(new RegExp(`ecom_http_client_request_duration_seconds_count\\{origin="${origin}"\\} 2`))
  })

  it('splits URLs into origin and path exactly as new URL() does', () => {
    const urls = [
      'http://A.Example.com:80/x?y=1', 'https://h/', 'https://h', 'https://h?q=1', 'http://h:8080/a/../b', 'http://h/a b',
      'http://user:pw@h/p', 'https://h/p#frag', 'https://h:443/p%20q', 'HTTPS://H:444/Case/Path', 'http://h/./a', 'http://h\\a',
      'https://[::1]:8443/v1/payments?x=%2F', 'http://h/é', 'http://h/p?a=[1]',
    ]
    for (const u of urls) {
      const ref = new URL(u)
      expect(splitUrl(u), u).toEqual({ origin: ref.origin, path: `${ref.pathname}${ref.search}` })
    }
  })

  it('refuses requests after close()', async () => {
    const c = new HttpClient({ resolver })
    await c.close()
    await expect(c.request('http://api.ecom.test:1/')).rejects.toMatchObject({ code: 'ECOM_ERR_HTTP_CLIENT_CLOSED' })
  })
})
