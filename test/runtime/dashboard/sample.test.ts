import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { nativeStatus, registerNativeMetric } from '../../../src/native/loader.js'
import { createAdapter, OrmManager } from '../../../src/public/orm.js'
import { paymentsMetrics } from '../../../src/payments/router/metrics.js'
import { quantileMs, Sampler } from '../../../src/runtime/dashboard/sample.js'
import { RequestMetrics } from '../../../src/runtime/edge/http-metrics.js'
import type { MetricsSnapshot } from '../../../src/runtime/metrics.js'
import type { AppStatus } from '../../../src/runtime/supervisor/status.js'
import { shopSchema } from '../../fixtures/orm/shop-schema.js'

const status: AppStatus = { name: 'shop', pid: 1, mode: 'cluster', host: '0.0.0.0', port: 3000, uptimeMs: 5000, workers: [] }

/** One worker's registry, filled by the real metric producers. */
function worker() {
  const registry = new Registry()
  const requests = new RequestMetrics()
  for (const m of requests.metrics()) registry.registerMetric(m as never)
  return { registry, requests, snap: () => registry.getMetricsAsJSON() as Promise<MetricsSnapshot> }
}

describe('quantileMs', () => {
  it('interpolates inside the bucket that holds the quantile', () => {
    const b = new Map([[0.01, 50], [0.1, 100], [Number.POSITIVE_INFINITY, 100]])
    expect(quantileMs(b, 0.5)).toBeCloseTo(10)
    expect(quantileMs(b, 0.75)).toBeCloseTo(55)
    expect(quantileMs(new Map([[0.01, 0], [Number.POSITIVE_INFINITY, 0]]), 0.5)).toBeNull()
    // everything slower than the last bound: report that bound rather than infinity
    expect(quantileMs(new Map([[0.01, 0], [Number.POSITIVE_INFINITY, 4]]), 0.95)).toBeCloseTo(10)
  })
})

describe('Sampler', () => {
  it('derives requests/s, 429s and latency from per-worker deltas; a new or vanished worker is no spike', async () => {
    const a = worker()
    const b = worker()
    const s = new Sampler()
    a.requests.record('GET', '/', 200, 0.002)
    const first = s.sample([{ pid: 10, role: 'worker', metrics: await a.snap() }], status, null, 1000)
    expect(first.http.requestsPerSecond).toBeNull() // nothing to difference yet
    expect(first.http.requestsTotal).toBe(1)
    expect(first.app.url).toBe('http://127.0.0.1:3000')

    for (let i = 0; i < 8; i++) a.requests.record('GET', '/', 200, 0.002)
    a.requests.record('GET', '/', 429, 0.0004)
    a.requests.record('GET', '/', 429, 0.0004)
    for (let i = 0; i < 50; i++) b.requests.record('GET', '/', 200, 0.3) // b is new: its history is its baseline
    const second = s.sample(
      [
        { pid: 10, role: 'worker', metrics: await a.snap() },
        { pid: 11, role: 'worker', metrics: await b.snap() },
      ],
      status,
      null,
      3000
    )
    expect(second.intervalMs).toBe(2000)
    expect(second.http.requestsPerSecond).toBe(5) // 10 new requests in 2 s, all from pid 10
    expect(second.rateLimit.rejectedPerSecond).toBe(1)
    expect(second.rateLimit.rejectedTotal).toBe(2)
    expect(second.http.requestsTotal).toBe(61)
    expect(second.http.p50Ms).toBeGreaterThan(1)
    expect(second.http.p50Ms).toBeLessThanOrEqual(5)

    // pid 10 died and was replaced by pid 12 with fresh counters: no negative rate.
    const c = worker()
    c.requests.record('GET', '/', 200, 0.002)
    b.requests.record('GET', '/', 200, 0.3)
    const third = s.sample(
      [
        { pid: 11, role: 'worker', metrics: await b.snap() },
        { pid: 12, role: 'worker', metrics: await c.snap() },
      ],
      status,
      null,
      4000
    )
    expect(third.http.requestsPerSecond).toBe(1)
  })

  it('reports payments by provider and outcome with the worst breaker, the active ORM adapter and the search backend', async () => {
    const a = worker()
    const b = worker()
    const pa = paymentsMetrics(a.registry)
    const pb = paymentsMetrics(b.registry)
    pa.attempts.labels('stripe', 'authorize', 'success').inc(3)
    pb.attempts.labels('stripe', 'authorize', 'success').inc(2)
    pb.attempts.labels('stripe', 'authorize', 'technical').inc()
    pa.breaker.set({ provider: 'stripe' }, 0)
    pb.breaker.set({ provider: 'stripe' }, 2)
    pa.breaker.set({ provider: 'adyen' }, 1)

    const manager = new OrmManager({
      schema: shopSchema,
      adapters: { drizzle: createAdapter(shopSchema, { orm: 'drizzle', url: 'file::memory:' }), sequelize: createAdapter(shopSchema, { orm: 'sequelize', url: 'file::memory:' }) },
      registry: a.registry,
    })
    manager.use('sequelize')
    nativeStatus()
    registerNativeMetric(a.registry)
    registerNativeMetric(a.registry) // once per registry

    const st = new Sampler().sample(
      [
        { pid: 10, role: 'worker', metrics: await a.snap() },
        { pid: 11, role: 'worker', metrics: await b.snap() },
      ],
      status,
      { native: true, reason: 'test' }
    )
    const stripe = st.payments.find((p) => p.provider === 'stripe')!
    expect(stripe.attempts).toEqual({ success: 5, technical: 1 })
    expect(stripe.breaker).toBe('open')
    expect(stripe.breakerByWorker).toEqual([{ pid: 10, state: 'closed' }, { pid: 11, state: 'open' }])
    expect(st.payments.find((p) => p.provider === 'adyen')!.breaker).toBe('half-open')
    expect(st.orm[0]).toMatchObject({ adapter: 'sequelize', activeIn: 1, reporting: 1 })
    expect(st.orm.find((o) => o.adapter === 'drizzle')).toMatchObject({ activeIn: 0 })
    const expected = nativeStatus().native ? 'native' : 'typescript'
    expect(st.native.backends).toEqual([{ backend: expected, simd: nativeStatus().simd ?? 'none', workers: 1 }])
    await manager.close()
  })
})
