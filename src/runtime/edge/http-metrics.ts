import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { Counter, Gauge, Histogram } from 'prom-client'
import { getRegistry } from '../metrics.js'

export interface HttpMetrics {
  requests: Counter<'method' | 'route' | 'status'>
  duration: Histogram<'method' | 'route' | 'status'>
  connections: Gauge
  stop(): void
}

let shared: HttpMetrics | undefined

/** The edge's metrics, registered once per process in the shared registry. */
export function httpMetrics(): HttpMetrics {
  if (shared) return shared
  const registers = [getRegistry()]
  const worker = process.env.ECOM_WORKER_ID ?? '0'
  let lag: IntervalHistogram | undefined = monitorEventLoopDelay({ resolution: 20 })
  lag.enable()
  const lagGauge = new Gauge({
    name: 'ecom_event_loop_lag_seconds',
    help: 'Event-loop delay per worker (p99 over the last scrape interval)',
    labelNames: ['worker'],
    registers,
    collect() {
      if (!lag) return
      this.set({ worker }, lag.percentile(99) / 1e9)
      lag.reset()
    },
  })
  void lagGauge
  shared = {
    requests: new Counter({
      name: 'ecom_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    duration: new Histogram({
      name: 'ecom_http_request_duration_seconds',
      help: 'Time from request to the end of the response',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    connections: new Gauge({
      name: 'ecom_http_open_connections',
      help: 'Open HTTP connections (summed across workers)',
      registers,
    }),
    stop() {
      lag?.disable()
      lag = undefined
    },
  }
  return shared
}

const MAX_ROUTES = 200
const seenRoutes = new Set<string>()

/**
 * A low-cardinality route label. Frameworks that know the matched route pattern (express) give it;
 * otherwise ids in the path are folded (`/orders/42` -> `/orders/:id`) and, past a cap of distinct
 * routes, everything else counts as "other" so a scanner cannot blow up the series count.
 */
export function routeLabel(req: { url?: string; route?: { path?: unknown }; baseUrl?: string }): string {
  const pattern = req.route?.path
  if (typeof pattern === 'string') return `${req.baseUrl ?? ''}${pattern}`
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = (q === -1 ? url : url.slice(0, q))
    .split('/')
    .map((seg) => (/^\d+$|^[0-9a-f]{8,}$|^[0-9a-f-]{36}$/i.test(seg) ? ':id' : seg))
    .join('/')
  if (seenRoutes.has(path)) return path
  if (seenRoutes.size >= MAX_ROUTES) return 'other'
  seenRoutes.add(path)
  return path
}
