import { describe, expect, it } from 'vitest'
import { RequestMetrics } from '../../../src/runtime/edge/http-metrics.js'

describe('request metrics', () => {
  it('keeps one series per method, status and route', async () => {
    const m = new RequestMetrics()
    m.record('GET', '/a', 200, 0.002)
    m.record('GET', '/a', 200, 0.02)
    m.record('POST', '/a', 200, 0.002)
    m.record('GET', '/a', 404, 0.002)
    m.record('GET', '/b', 200, 20)
    const [requests, duration] = m.metrics()
    const counts = (await requests!.get()).values.map((v) => [v.labels.method, v.labels.status, v.labels.route, v.value])
    expect(counts).toEqual([
      ['GET', '200', '/a', 2],
      ['POST', '200', '/a', 1],
      ['GET', '404', '/a', 1],
      ['GET', '200', '/b', 1],
    ])
    const buckets = (await duration!.get()).values.filter((v) => v.labels.route === '/a' && v.labels.method === 'GET' && v.labels.status === '200')
    const le = (b: number | string) => buckets.find((v) => v.metricName?.endsWith('_bucket') && v.labels.le === b)!.value
    expect([le(0.001), le(0.005), le(0.025), le('+Inf')]).toEqual([0, 1, 2, 2])
    expect(buckets.find((v) => v.metricName?.endsWith('_sum'))!.value).toBeCloseTo(0.022)
    const slow = (await duration!.get()).values.filter((v) => v.labels.route === '/b' && v.metricName?.endsWith('_bucket'))
    expect(slow.map((v) => v.value)).toEqual([...new Array(12).fill(0), 1])
    requests!.reset()
    expect((await requests!.get()).values).toEqual([])
  })
})
