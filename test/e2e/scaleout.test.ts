import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, runCli, startCli } from '../helpers/cli.js'
import { REDIS_URL, deletePrefix, uniquePrefix } from '../helpers/redis.js'
import { TcpProxy } from '../helpers/tcp-proxy.js'

const ENTRY = fileURLToPath(new URL('../../examples/hello/app.ts', import.meta.url))
type Proc = ReturnType<typeof startCli>

async function waitReady(port: number, proc: Proc, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`ecom exited early:\n${proc.output()}`)
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`)
      if (r.ok) return
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`not ready on ${port}:\n${proc.output()}`)
    await sleep(100)
  }
}

async function stop(proc: Proc): Promise<void> {
  if (proc.exitCode !== null) return
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGTERM')
  await Promise.race([exited, sleep(15_000).then(() => proc.kill('SIGKILL'))])
}

async function statuses(port: number, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => fetch(`http://127.0.0.1:${port}/`).then(async (r) => (await r.arrayBuffer(), r.status), () => -1)))
}

async function metricValue(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop())
  return sum
}

describe.skipIf(!REDIS_URL)('scale-out with Redis: two ecom start instances', () => {
  const url = REDIS_URL!
  const procs: Proc[] = []
  const prefix = uniquePrefix('e2e')

  afterAll(async () => {
    await Promise.all(procs.map(stop))
    const raw = new Redis(url)
    await deletePrefix(raw, prefix)
    await raw.quit()
  })

  it('share one quota exactly across instances (and across each one\'s workers)', async () => {
    const [pa, pb] = [await freePort(), await freePort()]
    const common = ['--rate-limit', '30/1m', '--redis', url, '--redis-prefix', `${prefix}quota:`]
    const a = startCli(['start', ENTRY, '--workers', '2', '--port', String(pa), '--host', '127.0.0.1', '--name', `sa${pa}`, ...common])
    const b = startCli(['start', ENTRY, '--workers', '1', '--port', String(pb), '--host', '127.0.0.1', '--name', `sb${pb}`, ...common])
    procs.push(a, b)
    await Promise.all([waitReady(pa, a), waitReady(pb, b)])
    const results = (await Promise.all([statuses(pa, 25), statuses(pb, 25)])).flat()
    expect(results.filter((s) => s === 200)).toHaveLength(30)
    expect(results.filter((s) => s === 429)).toHaveLength(20)
    // Both instances keep answering 429 now: the window is shared.
    expect(await statuses(pa, 2)).toEqual([429, 429])
    expect(await statuses(pb, 2)).toEqual([429, 429])
  })

  it('a Redis outage gives fail-closed 503s or fail-open 200s, a metric and a log line, no crash, and recovers', async () => {
    const proxy = TcpProxy.forUrl(url)
    await proxy.up()
    const via = proxy.url(url)
    const [pc, po] = [await freePort(), await freePort()]
    const common = ['--workers', '2', '--host', '127.0.0.1', '--rate-limit', '1000/1m', '--redis', via]
    const closed = startCli(['start', ENTRY, ...common, '--port', String(pc), '--name', `sc${pc}`, '--redis-fail', 'closed', '--redis-prefix', `${prefix}c:`])
    const open = startCli(['start', ENTRY, ...common, '--port', String(po), '--name', `so${po}`, '--redis-fail', 'open', '--redis-prefix', `${prefix}o:`])
    procs.push(closed, open)
    await Promise.all([waitReady(pc, closed), waitReady(po, open)])
    expect(await statuses(pc, 4)).toEqual([200, 200, 200, 200])

    await proxy.down()
    await sleep(300)
    const during = [...(await statuses(pc, 10)), ...(await statuses(pc, 10))]
    expect(during.every((s) => s === 503)).toBe(true)
    expect((await statuses(po, 10)).every((s) => s === 200)).toBe(true)
    expect(await metricValue(pc, 'ecom_redis_fail_closed_total')).toBeGreaterThanOrEqual(20)
    expect(await metricValue(po, 'ecom_redis_fail_open_total')).toBeGreaterThanOrEqual(10)
    expect(await metricValue(pc, 'ecom_redis_up')).toBe(0)
    expect(closed.output()).toMatch(/redis unavailable for rate_limit/)
    expect(open.output()).toMatch(/redis unavailable for rate_limit/)
    expect(closed.exitCode).toBeNull()
    expect(open.exitCode).toBeNull()

    await proxy.up()
    const end = Date.now() + 15_000
    let after: number[] = []
    while (Date.now() < end) {
      after = await statuses(pc, 4)
      if (after.every((s) => s === 200)) break
      await sleep(200)
    }
    expect(after).toEqual([200, 200, 200, 200])
    expect(closed.output()).toMatch(/redis reachable again/)
    expect(await metricValue(pc, 'ecom_redis_up')).toBe(2)
    await proxy.down()
  })
})

describe('ecom start --redis: bad input', () => {
  it.each([
    [['--redis', 'http://127.0.0.1:6379'], 'options.redis must be a redis:// or rediss:// URL'],
    [['--redis', 'redis://127.0.0.1:6379', '--redis-fail', 'sideways'], 'options.redisFailMode must be "open" or "closed"'],
    [['--redis-fail', 'closed'], 'need options.redis'],
  ])('%j is a usage error', async (flags, message) => {
    const r = await runCli(['start', ENTRY, '--port', '0', ...flags])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(message)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
