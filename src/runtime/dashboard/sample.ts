import type { MetricsSnapshot } from '../metrics.js'
import { appOrigin } from '../supervisor/options.js'
import type { SandboxStatus } from '../supervisor/sandbox-sidecar.js'
import type { AppStatus, ProcessSnapshot, WorkerStatus } from '../supervisor/status.js'

/** What the dashboard page shows; also the `/api/state` body and each `/events` message. */
export interface DashboardState {
  sampledAt: number
  /** Time the rates were measured over; null on the first sample. */
  intervalMs: number | null
  app: { name: string; mode: string; pid: number; url: string; uptimeMs: number }
  workers: WorkerStatus[]
  sandbox: SandboxStatus | null
  http: {
    requestsPerSecond: number | null
    /** Latency quantiles over the last few samples, from the request-duration histogram buckets. */
    p50Ms: number | null
    p95Ms: number | null
    /** Requests answered by the workers alive now. */
    requestsTotal: number
    openConnections: number
  }
  rateLimit: { rejectedPerSecond: number | null; rejectedTotal: number }
  payments: Array<{ provider: string; attempts: Record<string, number>; breaker: BreakerName; breakerByWorker: Array<{ pid: number; state: BreakerName }> }>
  orm: Array<{ adapter: string; activeIn: number; healthyIn: number; reporting: number }>
  native: { backends: Array<{ backend: string; simd: string; workers: number }>; primary: { native: boolean; reason: string } | null }
  restarts: Record<string, number>
}

export type BreakerName = 'closed' | 'half-open' | 'open'
const BREAKER: BreakerName[] = ['closed', 'half-open', 'open']
const WINDOW = 10

type Values = Array<{ labels: Record<string, string | number>; value: number; metricName?: string }>

function values(m: MetricsSnapshot, name: string): Values {
  return (m.find((x) => x.name === name)?.values ?? []) as Values
}

interface Counters {
  requests: number
  rejected: number
  /** Cumulative bucket counts of the request-duration histogram, by upper bound. */
  buckets: Map<number, number>
}

function counters(m: MetricsSnapshot): Counters {
  let requests = 0
  let rejected = 0
  for (const v of values(m, 'ecom_http_requests_total')) {
    requests += v.value
    if (String(v.labels.status) === '429') rejected += v.value
  }
  const buckets = new Map<number, number>()
  for (const v of values(m, 'ecom_http_request_duration_seconds')) {
    if (v.metricName !== undefined && !v.metricName.endsWith('_bucket')) continue
    if (v.labels.le === undefined) continue
    const le = v.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(v.labels.le)
    buckets.set(le, (buckets.get(le) ?? 0) + v.value)
  }
  return { requests, rejected, buckets }
}

/** The q-quantile of cumulative histogram buckets, interpolated linearly inside its bucket, in ms. */
export function quantileMs(buckets: Map<number, number>, q: number): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b)
  const total = buckets.get(Number.POSITIVE_INFINITY) ?? (bounds.length ? buckets.get(bounds[bounds.length - 1]!)! : 0)
  if (total <= 0) return null
  const target = q * total
  let lower = 0
  let below = 0
  for (const le of bounds) {
    const cum = buckets.get(le)!
    if (cum >= target) {
      if (le === Number.POSITIVE_INFINITY) return lower * 1000 // past the last finite bound: report that bound
      const inBucket = cum - below
      const frac = inBucket > 0 ? (target - below) / inBucket : 1
      return (lower + (le - lower) * frac) * 1000
    }
    lower = le
    below = cum
  }
  return lower * 1000
}

/**
 * Turns successive cluster samples into rates. Counters are differenced per worker pid, so a worker
 * that dies (taking its counts with it) or a new one (starting from zero) never shows as a negative
 * or a spike: a pid is a baseline the first time it is seen.
 */
export class Sampler {
  #prev = new Map<number, Counters>()
  #prevAt = 0
  #window: Array<Map<number, number>> = []

  sample(snapshots: ProcessSnapshot[], status: AppStatus, primaryNative: DashboardState['native']['primary'], now = Date.now()): DashboardState {
    const workers = snapshots.filter((s) => s.role === 'worker')
    const intervalMs = this.#prevAt > 0 ? now - this.#prevAt : null
    let dRequests = 0
    let dRejected = 0
    let requestsTotal = 0
    let rejectedTotal = 0
    const dBuckets = new Map<number, number>()
    const next = new Map<number, Counters>()
    for (const w of workers) {
      if (w.metrics.length === 0) continue // did not answer in time: keep its baseline for next time
      const cur = counters(w.metrics)
      next.set(w.pid, cur)
      requestsTotal += cur.requests
      rejectedTotal += cur.rejected
      const prev = this.#prev.get(w.pid)
      if (!prev) continue
      dRequests += Math.max(0, cur.requests - prev.requests)
      dRejected += Math.max(0, cur.rejected - prev.rejected)
      for (const [le, n] of cur.buckets) dBuckets.set(le, (dBuckets.get(le) ?? 0) + Math.max(0, n - (prev.buckets.get(le) ?? 0)))
    }
    for (const [pid, c] of this.#prev) if (!next.has(pid) && workers.some((w) => w.pid === pid)) next.set(pid, c)
    this.#prev = next
    this.#prevAt = now
    if (intervalMs !== null) {
      this.#window.push(dBuckets)
      if (this.#window.length > WINDOW) this.#window.shift()
    }
    const windowBuckets = new Map<number, number>()
    for (const d of this.#window) for (const [le, n] of d) windowBuckets.set(le, (windowBuckets.get(le) ?? 0) + n)
    const perSecond = (n: number): number | null => (intervalMs === null || intervalMs <= 0 ? null : (n * 1000) / intervalMs)

    const all = snapshots.map((s) => s.metrics)
    let openConnections = 0
    for (const m of workers) for (const v of values(m.metrics, 'ecom_http_open_connections')) openConnections += v.value
    const restarts: Record<string, number> = {}
    for (const m of all) for (const v of values(m, 'ecom_worker_restarts_total')) restarts[String(v.labels.reason)] = (restarts[String(v.labels.reason)] ?? 0) + v.value

    return {
      sampledAt: now,
      intervalMs,
      app: { name: status.name, mode: status.mode, pid: status.pid, url: appOrigin(status.host, status.port), uptimeMs: status.uptimeMs },
      workers: status.workers,
      sandbox: status.sandbox ?? null,
      http: {
        requestsPerSecond: perSecond(dRequests),
        p50Ms: quantileMs(windowBuckets, 0.5),
        p95Ms: quantileMs(windowBuckets, 0.95),
        requestsTotal,
        openConnections,
      },
      rateLimit: { rejectedPerSecond: perSecond(dRejected), rejectedTotal },
      payments: payments(workers),
      orm: orm(workers),
      native: { backends: native(workers), primary: primaryNative },
      restarts,
    }
  }
}

function payments(workers: ProcessSnapshot[]): DashboardState['payments'] {
  const byProvider = new Map<string, DashboardState['payments'][number]>()
  const entry = (provider: string) => {
    let e = byProvider.get(provider)
    if (!e) byProvider.set(provider, (e = { provider, attempts: {}, breaker: 'closed', breakerByWorker: [] }))
    return e
  }
  for (const w of workers) {
    for (const v of values(w.metrics, 'ecom_payments_attempts_total')) {
      const e = entry(String(v.labels.provider))
      const outcome = String(v.labels.outcome)
      e.attempts[outcome] = (e.attempts[outcome] ?? 0) + v.value
    }
    for (const v of values(w.metrics, 'ecom_payments_breaker_state')) {
      const e = entry(String(v.labels.provider))
      const state = BREAKER[Math.max(0, Math.min(2, Math.round(v.value)))]!
      e.breakerByWorker.push({ pid: w.pid, state })
      // The worst state any worker sees: one worker's open breaker is worth knowing about.
      if (BREAKER.indexOf(state) > BREAKER.indexOf(e.breaker)) e.breaker = state
    }
  }
  return [...byProvider.values()].sort((a, b) => a.provider.localeCompare(b.provider))
}

function orm(workers: ProcessSnapshot[]): DashboardState['orm'] {
  const by = new Map<string, DashboardState['orm'][number]>()
  const entry = (adapter: string) => {
    let e = by.get(adapter)
    if (!e) by.set(adapter, (e = { adapter, activeIn: 0, healthyIn: 0, reporting: 0 }))
    return e
  }
  for (const w of workers) {
    for (const v of values(w.metrics, 'ecom_orm_adapter_active')) {
      const e = entry(String(v.labels.adapter))
      e.reporting++
      if (v.value > 0) e.activeIn++
    }
    for (const v of values(w.metrics, 'ecom_orm_adapter_healthy')) if (v.value > 0) entry(String(v.labels.adapter)).healthyIn++
  }
  return [...by.values()].sort((a, b) => b.activeIn - a.activeIn || a.adapter.localeCompare(b.adapter))
}

function native(workers: ProcessSnapshot[]): DashboardState['native']['backends'] {
  const by = new Map<string, { backend: string; simd: string; workers: number }>()
  for (const w of workers) {
    for (const v of values(w.metrics, 'ecom_native_backend')) {
      const key = `${v.labels.backend}/${v.labels.simd}`
      const e = by.get(key) ?? { backend: String(v.labels.backend), simd: String(v.labels.simd), workers: 0 }
      e.workers += v.value
      by.set(key, e)
    }
  }
  return [...by.values()]
}
