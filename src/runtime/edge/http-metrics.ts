import { monitorEventLoopDelay } from 'node:perf_hooks'

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const REQUESTS = 'ecom_http_requests_total'
const DURATION = 'ecom_http_request_duration_seconds'

interface Series {
  method: string
  status: number
  labels: { method: string; route: string; status: string }
  count: number
  sum: number
  /** Per-bucket (not cumulative) counts; the last slot is +Inf. */
  buckets: number[]
}

type Value = { labels: Record<string, string | number>; value: number; metricName?: string }

/**
 * Requests and latency, recorded with one Map lookup per request and turned into prom-client's metric
 * form only when scraped. prom-client's own Counter/Histogram hash and validate their label object on
 * every call, which cost more than the rest of the edge together; these two objects implement the
 * registry's metric interface (`get`, `reset`) so they still live in getRegistry() and aggregate across
 * workers like any prom-client metric.
 */
export class RequestMetrics {
  /**
   * Series by route, then a short list searched by method and status: a route sees a handful of
   * method/status pairs, and comparing those costs less than building and hashing a key string per
   * request.
   */
  readonly #byRoute = new Map<string, Series[]>()

  record(method: string, route: string, status: number, seconds: number): void {
    let list = this.#byRoute.get(route)
    if (list === undefined) {
      list = []
      this.#byRoute.set(route, list)
    }
    let s: Series | undefined
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!
      if (c.status === status && c.method === method) {
        s = c
        break
      }
    }
    if (s === undefined) {
      s = { method, status, labels: { method, route, status: String(status) }, count: 0, sum: 0, buckets: new Array<number>(BUCKETS.length + 1).fill(0) }
      list.push(s)
    }
    s.count++
    s.sum += seconds
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++
    s.buckets[i]!++
  }

  *#series(): IterableIterator<Series> {
    for (const list of this.#byRoute.values()) yield* list
  }

  /** The two registry entries (prom-client metric interface: name, help, type, get, reset). */
  metrics(): RegistryMetric[] {
    const byRoute = this.#byRoute
    const series = (): IterableIterator<Series> => this.#series()
    const reset = (): void => byRoute.clear()
    return [
      {
        name: REQUESTS,
        help: 'HTTP requests answered, by method, route and status',
        type: 'counter',
        aggregator: 'sum',
        reset,
        get: async function () {
          return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...series()].map((s): Value => ({ labels: { ...s.labels }, value: s.count })) }
        },
      },
      {
        name: DURATION,
        help: 'Time from request to the end of the response',
        type: 'histogram',
        aggregator: 'sum',
        reset,
        get: async function () {
          const values: Value[] = []
          for (const s of series()) {
            let acc = 0
            for (let i = 0; i < BUCKETS.length; i++) {
              acc += s.buckets[i]!
              values.push({ labels: { le: BUCKETS[i]!, ...s.labels }, value: acc, metricName: `${DURATION}_bucket` })
            }
            values.push({ labels: { le: '+Inf', ...s.labels }, value: s.count, metricName: `${DURATION}_bucket` })
            values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${DURATION}_sum` })
            values.push({ labels: { ...s.labels }, value: s.count, metricName: `${DURATION}_count` })
          }
          return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
        },
      },
    ]
  }
}

/** What prom-client's Registry#registerMetric needs from a metric. */
export interface RegistryMetric {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  aggregator: 'sum' | 'max' | 'average' | 'first' | 'omit' | 'min'
  reset(): void
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Value[] }>
}

export interface HttpMetrics {
  requests: RequestMetrics
  /** Open connections of this process. */
  openConnections: number
  /** Add the edge's metrics to a prom-client registry (once). */
  register(registry: { registerMetric(m: never): void; getSingleMetric(name: string): unknown }): void
  stop(): void
}

let shared: HttpMetrics | undefined

/**
 * The edge's metrics. They need no prom-client to record, so a worker can answer requests before
 * prom-client has even loaded; `register` puts them into getRegistry() (the worker does it right
 * after it starts listening).
 */
export function httpMetrics(): HttpMetrics {
  if (shared) return shared
  const worker = process.env.ECOM_WORKER_ID ?? '0'
  const lag = monitorEventLoopDelay({ resolution: 20 })
  lag.enable()
  const requests = new RequestMetrics()
  const m: HttpMetrics = {
    requests,
    openConnections: 0,
    register(registry) {
      if (registry.getSingleMetric(REQUESTS)) return
      const gauges: RegistryMetric[] = [
        {
          name: 'ecom_event_loop_lag_seconds',
          help: 'Event-loop delay per worker (p99 since the last scrape)',
          type: 'gauge',
          aggregator: 'sum',
          reset: () => lag.reset(),
          get: async function () {
            const value = lag.percentile(99) / 1e9
            lag.reset()
            return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [{ labels: { worker }, value }] }
          },
        },
        {
          name: 'ecom_http_open_connections',
          help: 'Open HTTP connections (summed across workers)',
          type: 'gauge',
          aggregator: 'sum',
          reset: () => {},
          get: async function () {
            return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [{ labels: {}, value: m.openConnections }] }
          },
        },
      ]
      for (const metric of [...requests.metrics(), ...gauges]) registry.registerMetric(metric as never)
    },
    stop() {
      lag.disable()
    },
  }
  shared = m
  return m
}

const MAX_ROUTES = 200
const routes = new Map<string, string>()

function fold(path: string): string {
  return path
    .split('/')
    .map((seg) => (/^\d+$|^[0-9a-f]{8,}$|^[0-9a-f-]{36}$/i.test(seg) ? ':id' : seg))
    .join('/')
}

/**
 * A low-cardinality route label. Frameworks that know the matched route pattern (express) give it;
 * otherwise ids in the path are folded (`/orders/42` -> `/orders/:id`) and, past a cap of distinct
 * paths, everything else counts as "other" so a scanner cannot blow up the series count.
 */
export function routeLabel(req: { url?: string; route?: { path?: unknown }; baseUrl?: string }): string {
  const pattern = req.route?.path
  if (typeof pattern === 'string') return `${req.baseUrl ?? ''}${pattern}`
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  const path = q === -1 ? url : url.slice(0, q)
  let label = routes.get(path)
  if (label === undefined) {
    if (routes.size >= MAX_ROUTES) return 'other'
    label = fold(path)
    routes.set(path, label)
  }
  return label
}
