import { connect } from 'node:net'
import { createServer, get, Agent as HttpAgent, type Server } from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CachingResolver, type CachingResolverOptions } from '../../src/runtime/dns.js'
import { getRegistry } from '../../src/runtime/metrics.js'
import { startDnsServer, type DnsServer } from '../fixtures/toolkit/dns-server.js'

let dns: DnsServer
const dir = mkdtempSync(join(tmpdir(), 'ecom-dns-'))
const hostsFile = join(dir, 'hosts')
writeFileSync(hostsFile, '127.0.0.1 localhost\n')
beforeAll(async () => {
  dns = await startDnsServer({})
})
afterAll(async () => {
  await dns.close()
  rmSync(dir, { recursive: true, force: true })
})

let seq = 0
/** A fresh name per test so cached state never leaks between tests. */
const uniq = (label: string) => `${label}-${seq++}.test`
const resolver = (o: CachingResolverOptions = {}) =>
  new CachingResolver({ servers: [`127.0.0.1:${dns.port}`], hostsFile, timeout: 200, backoff: 10, ...o })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const count = (type: string, name: string) => dns.queries.get(`${type} ${name}`) ?? 0

describe('CachingResolver', () => {
  it('honours the record TTL, clamped by minTtl / maxTtl', async () => {
    const r = resolver({ minTtl: 1, maxTtl: 1 })
    const short = uniq('short')
    const long = uniq('long')
    dns.zone[short] = { A: [{ address: '10.0.0.1', ttl: 0 }] } // raised to minTtl 1 s
    dns.zone[long] = { A: [{ address: '10.0.0.2', ttl: 3600 }] } // lowered to maxTtl 1 s
    expect(await r.resolve(short, 4)).toEqual([{ address: '10.0.0.1', family: 4 }])
    await r.resolve(short, 4)
    await r.resolve(long, 4)
    await r.resolve(long, 4)
    expect([count('A', short), count('A', long)]).toEqual([1, 1])
    await sleep(1100)
    await r.resolve(short, 4)
    await r.resolve(long, 4)
    expect([count('A', short), count('A', long)]).toEqual([2, 2])
    // Within bounds the TTL is the record's own: 2 s is still cached after 1.1 s.
    const mid = uniq('mid')
    dns.zone[mid] = { A: [{ address: '10.0.0.3', ttl: 2 }] }
    const r2 = resolver({ minTtl: 1, maxTtl: 10 })
    await r2.resolve(mid, 4)
    await sleep(1100)
    await r2.resolve(mid, 4)
    expect(count('A', mid)).toBe(1)
  })

  it('caches negative answers', async () => {
    const r = resolver({ negativeTtl: 60 })
    const name = uniq('missing')
    await expect(r.resolve(name, 4)).rejects.toMatchObject({ code: 'ECOM_ERR_DNS_NOT_FOUND', details: { hostname: name } })
    await expect(r.resolve(name, 4)).rejects.toMatchObject({ code: 'ECOM_ERR_DNS_NOT_FOUND' })
    expect(count('A', name)).toBe(1)
  })

  it('serves a stale answer when the server fails, for at most maxStale', async () => {
    const r = resolver({ minTtl: 1, maxTtl: 1, maxStale: 1, retries: 1 })
    const name = uniq('stale')
    dns.zone[name] = { A: [{ address: '10.0.1.1', ttl: 1 }] }
    await r.resolve(name, 4)
    dns.zone[name] = { A: 'servfail' }
    await sleep(1100)
    const before = await metric('stale')
    expect(await r.resolve(name, 4)).toEqual([{ address: '10.0.1.1', family: 4 }])
    expect(await metric('stale')).toBe(before + 1)
    expect(count('A', name)).toBe(3) // the answer, then SERVFAIL twice (one retry)
    await sleep(1100)
    await expect(r.resolve(name, 4)).rejects.toMatchObject({ code: 'ECOM_ERR_DNS_RESOLVE', retryable: true })
  })

  it('one family failing never fails the other', async () => {
    const r = resolver({ retries: 0 })
    const v4only = uniq('v4only')
    const v6only = uniq('v6only')
    dns.zone[v4only] = { A: [{ address: '10.0.2.1', ttl: 60 }], AAAA: 'timeout' }
    dns.zone[v6only] = { A: 'servfail', AAAA: [{ address: 'fd00::1', ttl: 60 }] }
    expect(await r.lookupAsync(v4only)).toEqual([{ address: '10.0.2.1', family: 4 }])
    expect(await r.lookupAsync(v6only)).toEqual([{ address: 'fd00::1', family: 6 }])
    const both = uniq('both')
    dns.zone[both] = { A: [{ address: '10.0.2.2', ttl: 60 }], AAAA: [{ address: 'fd00::2', ttl: 60 }] }
    expect(await r.lookupAsync(both)).toEqual([{ address: '10.0.2.2', family: 4 }, { address: 'fd00::2', family: 6 }])
    await expect(r.lookupAsync(v4only, { family: 6 })).rejects.toMatchObject({ code: 'ECOM_ERR_DNS_RESOLVE' })
  })

  it('retries timeouts and SERVFAIL with backoff', async () => {
    const r = resolver({ retries: 2 })
    const flaky = uniq('flaky')
    const slow = uniq('slow')
    dns.zone[flaky] = { A: (n) => (n === 1 ? 'servfail' : [{ address: '10.0.3.1', ttl: 60 }]) }
    dns.zone[slow] = { A: (n) => (n <= 2 ? 'timeout' : [{ address: '10.0.3.2', ttl: 60 }]) }
    expect(await r.resolve(flaky, 4)).toEqual([{ address: '10.0.3.1', family: 4 }])
    expect(count('A', flaky)).toBe(2)
    expect(await r.resolve(slow, 4)).toEqual([{ address: '10.0.3.2', family: 4 }])
    expect(count('A', slow)).toBe(3)
  })

  it('keeps one query in flight per name', async () => {
    const r = resolver()
    const name = uniq('busy')
    dns.zone[name] = { A: [{ address: '10.0.4.1', ttl: 60 }] }
    dns.delay = 100
    try {
      const all = await Promise.all(Array.from({ length: 20 }, () => r.lookupAsync(name, { family: 4 })))
      expect(new Set(all.map((a) => a[0]!.address))).toEqual(new Set(['10.0.4.1']))
    } finally {
      dns.delay = 0
    }
    expect(count('A', name)).toBe(1)
  })

  it('honours the hosts file and re-reads it when it changes', async () => {
    const name = uniq('hosted')
    writeFileSync(hostsFile, `127.0.0.1 localhost\n10.1.2.3 ${name} # comment\n`)
    const r = resolver({ hostsCheckInterval: 20 })
    await r.hostsSettled()
    expect(await r.lookupAsync(name)).toEqual([{ address: '10.1.2.3', family: 4 }])
    writeFileSync(hostsFile, `127.0.0.1 localhost\n10.9.9.9   ${name.toUpperCase()}\n`)
    await sleep(30)
    await r.lookupAsync(name) // starts the background check
    await r.hostsSettled()
    expect(await r.lookupAsync(name)).toEqual([{ address: '10.9.9.9', family: 4 }])
    expect(count('A', name) + count('AAAA', name)).toBe(0)
  })

  describe('lookup works where Node takes one', () => {
    let http: Server
    let port: number
    const name = uniq('svc')
    beforeAll(async () => {
      dns.zone[name] = { A: [{ address: '127.0.0.1', ttl: 60 }], AAAA: 'nodata' }
      http = createServer((_req, res) => res.end('hi'))
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
      port = (http.address() as { port: number }).port
    })
    afterAll(() => new Promise<void>((r) => http.close(() => r())))

    it('net.connect', async () => {
      const r = resolver()
      const sock = connect({ host: name, port, lookup: r.lookup as never })
      await new Promise<void>((res, rej) => sock.once('connect', res).once('error', rej))
      expect(sock.remoteAddress).toBe('127.0.0.1')
      sock.destroy()
      const bad = connect({ host: uniq('nope'), port, lookup: r.lookup as never })
      await expect(new Promise((res, rej) => bad.once('connect', res).once('error', rej))).rejects.toMatchObject({
        code: 'ECOM_ERR_DNS_NOT_FOUND',
      })
    })

    it('http.Agent', async () => {
      const r = resolver()
      const agent = new HttpAgent({ lookup: r.lookup as never } as never)
      const body = await new Promise<string>((res, rej) =>
        get(`http://${name}:${port}/`, { agent }, (resp) => {
          let b = ''
          resp.on('data', (d) => (b += d)).on('end', () => res(b))
        }).on('error', rej)
      )
      expect(body).toBe('hi')
      agent.destroy()
    })

    it("undici's connect option", async () => {
      const r = resolver()
      const dispatcher = new Agent({ connect: { lookup: r.lookup as never } })
      const res = await request(`http://${name}:${port}/`, { dispatcher })
      expect(await res.body.text()).toBe('hi')
      await dispatcher.close()
    })
  })

  it('counts hits, misses and stale answers in the shared registry', async () => {
    const r = resolver()
    const name = uniq('metered')
    dns.zone[name] = { A: [{ address: '10.0.5.1', ttl: 60 }] }
    const [hit0, miss0] = [await metric('hit'), await metric('miss')]
    await r.resolve(name, 4)
    await r.resolve(name, 4)
    expect(await metric('miss')).toBe(miss0 + 1)
    expect(await metric('hit')).toBe(hit0 + 1)
  })
})

async function metric(result: string): Promise<number> {
  const m = await getRegistry().getSingleMetric('ecom_dns_lookups_total')!.get()
  return m.values.find((v) => v.labels.result === result)?.value ?? 0
}
