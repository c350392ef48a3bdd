import { channel } from 'node:diagnostics_channel'
import { Counter, Gauge, type Registry } from 'prom-client'

/** Published once per adapter call: `{ adapter, orm, dialect, model, operation, durationMs, error?, fallbackFrom? }`. */
export const queryChannel = channel('ecom:orm:query')

type Labels = Record<string, string>

/**
 * A counter for the per-call hot path. prom-client's labelled children hash their label set on every
 * `inc()`; here a child is a plain object bumped in place, and the registry reads it when scraped.
 * It registers in the same prom-client registry and prints the same exposition format.
 */
export class CallCounter {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  #children = new Map<string, { labels: Labels; value: number }>()

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  child(labels: Labels): { inc(): void } {
    const key = Object.values(labels).join('\u0000')
    let c = this.#children.get(key)
    if (!c) {
      const entry = { labels, value: 0 }
      c = entry
      this.#children.set(key, entry)
    }
    const entry = c
    return { inc: () => void entry.value++ }
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Labels; value: number }> }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: [...this.#children.values()].map((c) => ({ labels: c.labels, value: c.value })) }
  }

  reset(): void {
    for (const c of this.#children.values()) c.value = 0
  }
}

/** A histogram for the per-call hot path, with the same reasoning as CallCounter. */
export class CallHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  #children = new Map<string, { labels: Labels; counts: Float64Array; sum: number; count: number }>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  child(labels: Labels): { observe(v: number): void } {
    const key = Object.values(labels).join('\u0000')
    let c = this.#children.get(key)
    if (!c) {
      c = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }
      this.#children.set(key, c)
    }
    const entry = c
    const buckets = this.buckets
    return {
      observe: (v: number) => {
        entry.sum += v
        entry.count++
        for (let i = 0; i < buckets.length; i++) {
          if (v <= buckets[i]!) {
            entry.counts[i]!++
            return
          }
        }
      },
    }
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Labels; value: number; metricName: string }> }> {
    const values: Array<{ labels: Labels; value: number; metricName: string }> = []
    for (const c of this.#children.values()) {
      let cumulative = 0
      this.buckets.forEach((le, i) => {
        cumulative += c.counts[i]!
        values.push({ labels: { ...c.labels, le: String(le) }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: `${this.name}_bucket` })
      values.push({ labels: c.labels, value: c.sum, metricName: `${this.name}_sum` })
      values.push({ labels: c.labels, value: c.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    for (const c of this.#children.values()) {
      c.counts.fill(0)
      c.sum = 0
      c.count = 0
    }
  }
}

/** The ORM's metrics, registered once per registry and shared by every manager. */
export function ormMetrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make()
  const own = <T extends { name: string }>(m: T): T => {
    registry.registerMetric(m as never)
    return m
  }
  return {
    queries: get('ecom_orm_queries_total', () => own(new CallCounter('ecom_orm_queries_total', 'ORM calls by adapter, operation and outcome'))),
    duration: get('ecom_orm_query_duration_seconds', () => own(new CallHistogram('ecom_orm_query_duration_seconds', 'ORM call latency by adapter and operation', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]))),
    errors: get('ecom_orm_errors_total', () => new Counter({ name: 'ecom_orm_errors_total', help: 'ORM errors by adapter, operation and code', labelNames: ['adapter', 'operation', 'code'], registers: [registry] })),
    failovers: get('ecom_orm_failovers_total', () => new Counter({ name: 'ecom_orm_failovers_total', help: 'Calls retried on another adapter', labelNames: ['from', 'to'], registers: [registry] })),
    healthy: get('ecom_orm_adapter_healthy', () => new Gauge({ name: 'ecom_orm_adapter_healthy', help: '1 when the adapter takes calls, 0 while benched', labelNames: ['adapter'], registers: [registry] })),
    // Summed across workers: how many processes send their calls to each adapter.
    active: get('ecom_orm_adapter_active', () => new Gauge({ name: 'ecom_orm_adapter_active', help: '1 for the adapter new calls go to, 0 for the others', labelNames: ['adapter'], registers: [registry] })),
  }
}
