import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { ormMetrics } from '../../src/orm/observe.js'

describe('ORM metrics', () => {
  it('print in the Prometheus format with cumulative buckets, and reset with the registry', async () => {
    const registry = new Registry()
    const m = ormMetrics(registry)
    expect(ormMetrics(registry).queries).toBe(m.queries) // registered once per registry
    const ok = m.queries.child({ adapter: 'prisma', operation: 'findMany', outcome: 'ok' })
    ok.inc()
    ok.inc()
    const d = m.duration.child({ adapter: 'prisma', operation: 'findMany' })
    d.observe(0.0004)
    d.observe(0.003)
    d.observe(9)
    const text = await registry.metrics()
    expect(text).toContain('# TYPE ecom_orm_queries_total counter')
    expect(text).toContain('ecom_orm_queries_total{adapter="prisma",operation="findMany",outcome="ok"} 2')
    expect(text).toContain('ecom_orm_query_duration_seconds_bucket{adapter="prisma",operation="findMany",le="0.0005"} 1')
    expect(text).toContain('ecom_orm_query_duration_seconds_bucket{adapter="prisma",operation="findMany",le="0.005"} 2')
    expect(text).toContain('ecom_orm_query_duration_seconds_bucket{adapter="prisma",operation="findMany",le="5"} 2')
    expect(text).toContain('ecom_orm_query_duration_seconds_bucket{adapter="prisma",operation="findMany",le="+Inf"} 3')
    expect(text).toContain('ecom_orm_query_duration_seconds_count{adapter="prisma",operation="findMany"} 3')
    const json = await registry.getMetricsAsJSON()
    expect(json.find((x) => x.name === 'ecom_orm_queries_total')).toMatchObject({ type: 'counter', aggregator: 'sum' })
    registry.resetMetrics()
    expect(await registry.metrics()).toContain('ecom_orm_queries_total{adapter="prisma",operation="findMany",outcome="ok"} 0')
  })
})
