import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { AggregatorRegistry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import { WorkerPool, defaultThreadCount } from '../../src/runtime/worker-pool.js'
import { getRegistry } from '../../src/runtime/metrics.js'

const tasks = new URL('../fixtures/toolkit/tasks.ts', import.meta.url)
const esm = new URL('../fixtures/toolkit/tasks.mjs', import.meta.url)
const pools: WorkerPool[] = []
function pool(opts: ConstructorParameters<typeof WorkerPool>[0] = {}): WorkerPool {
  const p = new WorkerPool({ filename: tasks, threads: 1, ...opts })
  pools.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.destroy()))
})

describe('WorkerPool', () => {
  it('runs TypeScript and ESM task files, default and named exports', async () => {
    const p = pool({ threads: 2 })
    expect(await p.run(21)).toBe(42)
    expect(await p.run({ a: [1] }, { name: 'id' })).toEqual({ a: [1] })
    expect(await p.run('x', { filename: esm })).toBe('esm:x')
    await expect(p.run('boom', { name: 'fail' })).rejects.toThrow('boom')
  })

  // Tasks with a timeout or signal are a separate case: piscina would park them outside the queue.
  it.each([['without', {}], ['with timeouts and signals', { timeout: 10_000, signal: new AbortController().signal }]])(
    'runs high before normal before low, FIFO within a priority (%s)', async (_label, extra) => {
    const p = pool()
    const blocker = p.run(150, { name: 'sleep' })
    const order: string[] = []
    const all: Promise<unknown>[] = []
    for (const priority of ['low', 'normal', 'high'] as const) {
      for (let i = 0; i < 3; i++) {
        all.push(p.run(`${priority}${i}`, { name: 'id', priority, ...extra }).then((v) => order.push(v as string)))
      }
    }
    await Promise.all([blocker, ...all])
    expect(order).toEqual(['high0', 'high1', 'high2', 'normal0', 'normal1', 'normal2', 'low0', 'low1', 'low2'])
  })

  it('counts waiting tasks through queueing, an abort while waiting and draining', async () => {
    const p = pool()
    const blocker = p.run(200, { name: 'sleep' })
    const ac = new AbortController()
    const waiting = [
      p.run('a', { name: 'id', priority: 'low' }),
      p.run('b', { name: 'id', priority: 'high', signal: ac.signal }),
      p.run('c', { name: 'id' }),
    ]
    expect(p.queueSize).toBe(3)
    ac.abort()
    await expect(waiting[1]).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_TASK_ABORTED' })
    expect(p.queueSize).toBe(2)
    await blocker
    expect(await Promise.all([waiting[0], waiting[2]])).toEqual(['a', 'c'])
    expect(p.queueSize).toBe(0)
  })

  it('does not starve low priority under sustained high-priority load', async () => {
    const p = pool({ starvationLimit: 4 })
    const blocker = p.run(150, { name: 'sleep' })
    const order: string[] = []
    const all: Promise<unknown>[] = []
    const add = (v: string, priority: 'high' | 'low') => all.push(p.run(v, { name: 'id', priority }).then(() => order.push(v)))
    add('low0', 'low')
    add('low1', 'low')
    for (let i = 0; i < 40; i++) add(`high${i}`, 'high')
    await Promise.all([blocker, ...all])
    // One low task after every 4 high ones, instead of after all 40.
    expect(order.indexOf('low0')).toBe(4)
    expect(order.indexOf('low1')).toBe(9)
  })

  it('times out a task that does not yield, replaces its worker, and keeps working', async () => {
    const p = pool()
    const first = await p.run(null, { name: 'whoami' })
    await expect(p.run(10_000, { name: 'spin', timeout: 200 })).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_TASK_TIMEOUT' })
    expect(await p.run(2)).toBe(4)
    expect(await p.run(null, { name: 'whoami' })).not.toBe(first)
    // The pool-wide default applies too, and a queued task can time out while waiting.
    const q = pool({ taskTimeout: 150 })
    const running = q.run(1000, { name: 'spin' })
    const waiting = q.run(1, { timeout: 100 })
    await expect(waiting).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_TASK_TIMEOUT' })
    await expect(running).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_TASK_TIMEOUT' })
  })

  it('keeps the thread of a timed-out task that stops when its ctx.signal aborts', async () => {
    const p = pool({ cancelGrace: 2000 })
    const first = await p.run(null, { name: 'whoami' })
    await expect(p.run(10_000, { name: 'patient', timeout: 100 })).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_TASK_TIMEOUT' })
    expect(await p.run(null, { name: 'whoami' })).toBe(first)
  })

  it('aborts through an AbortSignal with a coded error', async () => {
    const p = pool()
    const ac = new AbortController()
    const t = p.run(5000, { name: 'sleep', signal: ac.signal })
    setTimeout(() => ac.abort(), 50)
    await expect(t).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_TASK_ABORTED' })
    expect(await p.run(5)).toBe(10)
  })

  it('rejects with a coded error when maxQueue tasks are waiting', async () => {
    const p = pool({ maxQueue: 2 })
    const running = p.run(200, { name: 'sleep' })
    await new Promise((r) => setTimeout(r, 50))
    const queued = [p.run(1), p.run(2)]
    await expect(p.run(3)).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_QUEUE_FULL', statusCode: 503 })
    expect(await Promise.all(queued)).toEqual([2, 4])
    await running
    // maxQueue 0: nothing may wait at all.
    const none = pool({ maxQueue: 0 })
    const busy = none.run(100, { name: 'sleep' })
    await new Promise((r) => setTimeout(r, 30))
    await expect(none.run(1)).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_QUEUE_FULL' })
    await busy
  })

  it('recycles a worker whose heap exceeds maxHeapMb, without failing tasks', async () => {
    const p = pool({ maxHeapMb: 16 })
    const before = await p.run(40, { name: 'grow' })
    await new Promise((r) => setTimeout(r, 100))
    const after = await p.run(null, { name: 'whoami' })
    expect(after).not.toBe(before)
    expect(p.recycled).toBe(1)
    expect(await p.run(null, { name: 'whoami' })).toBe(after) // a small heap is kept
  })

  it('close() drains queued and running tasks, then refuses new ones', async () => {
    const p = pool()
    const all = [p.run(50, { name: 'sleep' }), p.run(1), p.run(2), p.run(3)]
    await p.close()
    const results = await Promise.all(all)
    expect(results.slice(1)).toEqual([2, 4, 6])
    await expect(p.run(1)).rejects.toMatchObject({ code: 'ECOM_ERR_POOL_CLOSED' })
  })

  it('records metrics in the shared registry, for several pools, and publishes ecom:pool:task', async () => {
    const a = pool({ name: 'alpha' })
    const b = pool({ name: 'beta' })
    const events: Array<{ pool: string; outcome: string }> = []
    const onTask = (m: unknown) => events.push(m as { pool: string; outcome: string })
    subscribe('ecom:pool:task', onTask)
    try {
      await Promise.all([a.run(1), b.run(2), b.run(3, { priority: 'high' })])
    } finally {
      unsubscribe('ecom:pool:task', onTask)
    }
    const text = await getRegistry().metrics()
    expect(text).toMatch(/ecom_pool_queue_depth\{pool="alpha"\} 0/)
    expect(text).toMatch(/ecom_pool_utilization\{pool="beta"\} /)
    expect(text).toMatch(/ecom_pool_task_wait_seconds_count\{pool="beta",priority="high"\} 1/)
    expect(text).toMatch(/ecom_pool_task_run_seconds_count\{pool="alpha"\} 1/)
    expect(text).toMatch(/ecom_pool_tasks_total\{pool="beta",outcome="ok"\} 2/)
    expect(events.filter((e) => e.pool === 'beta')).toHaveLength(2)
    // The primary of a cluster sums every worker's registry: the timings aggregate like prom-client's own.
    const json = await getRegistry().getMetricsAsJSON()
    const summed = await AggregatorRegistry.aggregate([json, json]).metrics()
    expect(summed).toMatch(/ecom_pool_task_run_seconds_count\{pool="alpha"\} 2/)
    expect(summed).toMatch(/ecom_pool_task_run_seconds_bucket\{le="\+Inf",pool="alpha"\} 2|ecom_pool_task_run_seconds_bucket\{pool="alpha",le="\+Inf"\} 2/)
    expect(summed).toMatch(/ecom_pool_tasks_total\{pool="beta",outcome="ok"\} 4/)
  })

  it('divides the cores among cluster workers by default', async () => {
    const cores = availableParallelism()
    expect(defaultThreadCount({ ECOM_CLUSTER_SIZE: '2' })).toBe(Math.max(1, Math.floor(cores / 2)))
    expect(defaultThreadCount({ ECOM_CLUSTER_SIZE: String(cores * 4) })).toBe(1)
    expect(defaultThreadCount({})).toBe(cores)
    const saved = process.env.ECOM_CLUSTER_SIZE
    process.env.ECOM_CLUSTER_SIZE = String(cores)
    try {
      const p = new WorkerPool({ filename: tasks })
      pools.push(p)
      expect(p.options.threads).toBe(1)
      await p.run(1)
      expect(p.threadCount).toBe(1)
    } finally {
      if (saved === undefined) delete process.env.ECOM_CLUSTER_SIZE
      else process.env.ECOM_CLUSTER_SIZE = saved
    }
  })

  it('validates options with messages naming the option', () => {
    expect(() => new WorkerPool({ threads: 0 })).toThrow('options.threads must be an integer >= 1, got 0')
    expect(() => new WorkerPool({ filename: 'relative.ts' })).toThrow(/absolute path/)
  })
})

// The built package (dist/) loads its JavaScript worker entry, which registers tsx itself for
// TypeScript task files; the tests above run the TypeScript sources.
const dist = new URL('../../dist/public/runtime.js', import.meta.url)
const built = existsSync(dist)
if (!built) console.warn('worker-pool: skipping the dist test: run `npm run build` first')
describe.skipIf(!built)('WorkerPool from dist/', () => {
  it('runs a TypeScript task file', async () => {
    const mod = (await import(dist.href)) as { WorkerPool: typeof WorkerPool }
    const p = new mod.WorkerPool({ filename: tasks, threads: 1 })
    try {
      expect(await p.run(21)).toBe(42)
      expect(await p.run(5, { name: 'id', filename: tasks })).toBe(5)
    } finally {
      await p.destroy()
    }
  })
})
