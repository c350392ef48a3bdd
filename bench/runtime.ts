// Runtime toolkit benchmarks: each ecom piece against the package people use today, in the same run.
// Ours and the peer are measured in alternating rounds so drift on a shared machine hits both alike.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { promises as dnsPromises } from 'node:dns'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import CacheableLookup from 'cacheable-lookup'
import { Piscina } from 'piscina'
import { Pool } from 'undici'
import writeFileAtomic from 'write-file-atomic'
import { CachingResolver } from '../src/runtime/dns.js'
import { HttpClient } from '../src/runtime/http-client.js'
import { Keyring } from '../src/runtime/keyring.js'
import { SafeFs } from '../src/runtime/safe-fs.js'
import { WorkerPool } from '../src/runtime/worker-pool.js'
import { startDnsServer } from '../test/fixtures/toolkit/dns-server.js'
import { percentile, type BenchRow, type BenchSuite } from './util.js'

const ROUNDS = 10

interface Sample {
  ops: number
  /** CPU time of the whole process (all threads) per operation, in µs: steadier than ops/s on a busy machine. */
  cpu: number
}

/** ops/s of `fn` kept `concurrency` deep for `ms`, and the process CPU time it cost per operation. */
async function throughput(fn: () => Promise<unknown>, ms: number, concurrency: number): Promise<Sample> {
  let n = 0
  const end = performance.now() + ms
  const start = performance.now()
  const cpu0 = process.cpuUsage()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await fn()
        n++
      }
    })
  )
  const cpu = process.cpuUsage(cpu0)
  return { ops: (n * 1000) / (performance.now() - start), cpu: (cpu.user + cpu.system) / n }
}

/** Alternate short rounds of ours and the peer; returns the median of each (robust to load bursts). */
async function duel(ours: () => Promise<unknown>, peer: () => Promise<unknown>, totalMs: number, concurrency: number, warmupMs = 200, rounds = ROUNDS): Promise<[Sample, Sample]> {
  await throughput(ours, warmupMs, concurrency)
  await throughput(peer, warmupMs, concurrency)
  const a: Sample[] = []
  const b: Sample[] = []
  const slice = totalMs / 2 / rounds
  for (let i = 0; i < rounds; i++) {
    // Who goes first alternates too, so neither side always runs right after a GC of the other.
    if (i % 2 === 0) {
      a.push(await throughput(ours, slice, concurrency))
      b.push(await throughput(peer, slice, concurrency))
    } else {
      b.push(await throughput(peer, slice, concurrency))
      a.push(await throughput(ours, slice, concurrency))
    }
  }
  const median = (xs: Sample[]): Sample => ({ ops: percentile(xs.map((x) => x.ops), 50), cpu: percentile(xs.map((x) => x.cpu), 50) })
  return [median(a), median(b)]
}

function rows(group: string, unit: string, ours: [string, Sample], peer: [string, Sample], target: string, note?: string): BenchRow[] {
  return [
    { group, name: ours[0], value: ours[1].ops, unit, higherIsBetter: true, ours: true, target, note },
    { group, name: peer[0], value: peer[1].ops, unit, higherIsBetter: true },
    { group: `${group}: CPU per operation`, name: ours[0], value: ours[1].cpu, unit: 'µs', higherIsBetter: false, ours: true, note: 'all threads of the process' },
    { group: `${group}: CPU per operation`, name: peer[0], value: peer[1].cpu, unit: 'µs', higherIsBetter: false },
  ]
}

async function pool(): Promise<BenchRow[]> {
  const filename = new URL('../test/fixtures/toolkit/tasks.mjs', import.meta.url)
  const ours = new WorkerPool({ filename, threads: 2 })
  const raw = new Piscina({ filename: filename.href, minThreads: 2, maxThreads: 2 })
  // A long warm-up: from source, each of our threads first compiles the worker entry through tsx.
  // Three busy threads on a shared machine swing from round to round: twice the rounds of the others.
  const [a, b] = await duel(() => ours.run(1), () => raw.run(1), 6000, 32, 1500, 2 * ROUNDS)
  await Promise.all([ours.close(), raw.close()])
  return rows('worker pool, tiny tasks, 2 threads, 32 in flight', 'tasks/s', ['ecom WorkerPool', a], ['raw piscina', b], '>= 0.95x')
}

async function dns(): Promise<BenchRow[]> {
  const server = await startDnsServer({ 'bench.ecom.test': { A: [{ address: '10.0.0.1', ttl: 3600 }], AAAA: [{ address: 'fd00::1', ttl: 3600 }] } })
  const servers = [`127.0.0.1:${server.port}`]
  const ours = new CachingResolver({ servers })
  const resolver = new dnsPromises.Resolver()
  resolver.setServers(servers)
  const peer = new CacheableLookup({ resolver })
  const lookupOurs = () => new Promise((res, rej) => ours.lookup('bench.ecom.test', { family: 4 }, (e, a) => (e ? rej(e) : res(a))))
  const lookupPeer = () => new Promise((res, rej) => peer.lookup('bench.ecom.test', { family: 4 }, (e, a) => (e ? rej(e) : res(a))))
  const [a, b] = await duel(lookupOurs, lookupPeer, 2000, 1)
  const anyOurs = () => new Promise((res, rej) => ours.lookup('bench.ecom.test', { all: true }, (e, a) => (e ? rej(e) : res(a))))
  const anyPeer = () => new Promise((res, rej) => peer.lookup('bench.ecom.test', { all: true }, (e, a) => (e ? rej(e) : res(a))))
  const [c, d] = await duel(anyOurs, anyPeer, 2000, 1)
  await server.close()
  return [
    ...rows('dns lookup, cached, IPv4, callback API', 'lookups/s', ['ecom CachingResolver', a], ['cacheable-lookup', b], '>= 1.0x'),
    ...rows('dns lookup, cached, both families, all: true', 'lookups/s', ['ecom CachingResolver', c], ['cacheable-lookup', d], '>= 1.0x'),
  ]
}

async function keyring(dir: string): Promise<BenchRow[]> {
  const kr = await Keyring.open({ path: join(dir, 'bench-keyring.json'), masterKey: randomBytes(32), autoRotate: false })
  const data = randomBytes(1024)
  const key = randomBytes(32)
  const ours = async () => kr.decrypt(kr.encrypt(data))
  const raw = async () => {
    const nonce = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', key, nonce)
    const ct = Buffer.concat([c.update(data), c.final()])
    const tag = c.getAuthTag()
    const d = createDecipheriv('aes-256-gcm', key, nonce)
    d.setAuthTag(tag)
    return Buffer.concat([d.update(ct), d.final()])
  }
  const [a, b] = await duel(ours, raw, 2000, 1)
  kr.close()
  return rows('keyring encrypt + decrypt, 1 KiB', 'ops/s', ['ecom Keyring (header + AAD)', a], ['raw node:crypto AES-256-GCM', b], '>= 0.9x')
}

async function atomicWrite(dir: string): Promise<BenchRow[]> {
  const data = randomBytes(1024).toString('base64')
  const ours = new SafeFs({ backups: 0, fsyncDirectory: false })
  const full = new SafeFs()
  const p1 = join(dir, 'ours.txt')
  const p2 = join(dir, 'peer.txt')
  const p3 = join(dir, 'full.txt')
  const [a, b] = await duel(() => ours.writeFile(p1, data), () => writeFileAtomic(p2, data), 2000, 1)
  const [c, d] = await duel(() => full.writeFile(p3, data), () => writeFileAtomic(p2, data), 2000, 1)
  return [
    ...rows('atomic write 1.4 KB, same guarantees (fsync file, rename)', 'writes/s', ['ecom SafeFs (backups 0, no dir fsync)', a], ['write-file-atomic', b], '>= 1.0x',
      'ours also takes the cross-process lock'),
    ...rows('atomic write 1.4 KB, ecom defaults', 'writes/s', ['ecom SafeFs (3 backups, dir fsync)', c], ['write-file-atomic', d], '>= 1.0x',
      'defaults add a directory fsync and backup rotation'),
  ]
}

async function http(): Promise<BenchRow[]> {
  const server = createServer((_req, res) => res.end('{"ok":true}'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const ours = new HttpClient({ connections: 10 })
  const raw = new Pool(origin, { connections: 10 })
  const oursReq = () => ours.request(`${origin}/`)
  const rawReq = async () => {
    const res = await raw.request({ path: '/', method: 'GET' })
    return res.body.arrayBuffer()
  }
  const [a, b] = await duel(oursReq, rawReq, 4000, 10, 200, 2 * ROUNDS)
  await Promise.all([ours.close(), raw.close()])
  server.closeAllConnections()
  server.close()
  return rows('http GET keep-alive, 10 connections, 10 in flight', 'req/s', ['ecom HttpClient', a], ['raw undici Pool', b], '>= 0.95x',
    'ours adds breaker, retries and metrics')
}

export const suite: BenchSuite = {
  area: 'runtime',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-bench-runtime-'))
    try {
      return [...(await pool()), ...(await dns()), ...(await keyring(dir)), ...(await atomicWrite(dir)), ...(await http())]
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}
