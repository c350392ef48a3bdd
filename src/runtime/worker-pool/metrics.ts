import { Gauge, type Registry } from 'prom-client'
import { getRegistry } from '../metrics.js'

/** What a pool exposes to the collectors of the shared gauges. */
export interface PoolGaugeSource {
  readonly name: string
  readonly queueSize: number
  readonly utilization: number
  readonly threadCount: number
}

const live = new Set<PoolGaugeSource>()

function once<T>(registry: Registry, name: string, make: () => T): T {
  // Idempotent: a second pool (or a re-imported module) reuses the metric instead of throwing.
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

/** One label set's buckets, as returned by `FastHistogram.labels()`. */
export class HistogramChild {
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(readonly labels: Record<string, string>, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length)
  }

  observe(value: number): void {
    const b = this.bounds
    for (let i = 0; i < b.length; i++) {
      if (value <= b[i]!) {
        this.counts[i]!++
        break
      }
    }
    this.sum += value
    this.count++
  }
}

/**
 * A histogram registered in the prom-client registry like any other metric (same exposition, same
 * `aggregator: 'sum'` for cluster aggregation), whose children observe with no label hashing: the
 * per-task hot paths (pool tasks, HTTP attempts) call it tens of thousands of times a second.
 */
export class FastHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  readonly #children = new Map<string, HistogramChild>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  static register(registry: Registry, name: string, help: string, labelNames: string[], buckets: number[]): FastHistogram {
    const existing = registry.getSingleMetric(name) as unknown
    if (existing instanceof FastHistogram) return existing
    const h = new FastHistogram(name, help, labelNames, buckets)
    registry.registerMetric(h as never)
    return h
  }

  labels(...values: string[]): HistogramChild {
    const key = values.join('\u0000')
    let c = this.#children.get(key)
    if (!c) {
      c = new HistogramChild(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? ''])), this.buckets)
      this.#children.set(key, c)
    }
    return c
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> } {
    const values = []
    for (const c of this.#children.values()) {
      let acc = 0
      for (let i = 0; i < this.buckets.length; i++) {
        acc += c.counts[i]!
        values.push({ labels: { ...c.labels, le: this.buckets[i]! }, value: acc, metricName: `${this.name}_bucket` })
      }
      values.push({ labels: { ...c.labels, le: '+Inf' }, value: c.count, metricName: `${this.name}_bucket` })
      // Fresh label objects: the registry adds its default labels to them in place.
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: `${this.name}_sum` })
      values.push({ labels: { ...c.labels }, value: c.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.#children.clear()
  }
}

/** One label set of a `FastCounter`. */
export class CounterChild {
  value = 0
  constructor(readonly labels: Record<string, string>) {}
  inc(by = 1): void {
    this.value += by
  }
}

/** A counter registered in the prom-client registry whose children count with no label hashing. */
export class FastCounter {
  readonly type = 'counter'
  readonly aggregator = 'sum'
  readonly #children = new Map<string, CounterChild>()

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  static register(registry: Registry, name: string, help: string, labelNames: string[]): FastCounter {
    const existing = registry.getSingleMetric(name) as unknown
    if (existing instanceof FastCounter) return existing
    const c = new FastCounter(name, help, labelNames)
    registry.registerMetric(c as never)
    return c
  }

  labels(...values: string[]): CounterChild {
    const key = values.join('\u0000')
    let c = this.#children.get(key)
    if (!c) {
      c = new CounterChild(Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? ''])))
      this.#children.set(key, c)
    }
    return c
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Array<{ labels: Record<string, string>; value: number }> } {
    const values = [...this.#children.values()].map((c) => ({ labels: { ...c.labels }, value: c.value }))
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  reset(): void {
    this.#children.clear()
  }
}

export interface PoolMetrics {
  wait: FastHistogram
  run: FastHistogram
  tasks: FastCounter
}

export function poolMetrics(): PoolMetrics {
  const registry = getRegistry()
  const registers = [registry]
  const buckets = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]
  once(registry, 'ecom_pool_queue_depth', () => new Gauge({
    name: 'ecom_pool_queue_depth', help: 'Tasks waiting in the worker pool queue', labelNames: ['pool'], registers,
    collect() { for (const p of live) this.set({ pool: p.name }, p.queueSize) },
  }))
  once(registry, 'ecom_pool_utilization', () => new Gauge({
    name: 'ecom_pool_utilization', help: 'Share of thread time spent running tasks since the pool started (0-1)', labelNames: ['pool'], registers,
    collect() { for (const p of live) this.set({ pool: p.name }, p.utilization) },
  }))
  once(registry, 'ecom_pool_threads', () => new Gauge({
    name: 'ecom_pool_threads', help: 'Worker threads alive in the pool', labelNames: ['pool'], registers,
    collect() { for (const p of live) this.set({ pool: p.name }, p.threadCount) },
  }))
  return {
    wait: FastHistogram.register(registry, 'ecom_pool_task_wait_seconds', 'Time a task waited in the queue', ['pool', 'priority'], buckets),
    run: FastHistogram.register(registry, 'ecom_pool_task_run_seconds', 'Time a task ran on a worker thread', ['pool'], buckets),
    tasks: FastCounter.register(registry, 'ecom_pool_tasks_total', 'Finished pool tasks by outcome', ['pool', 'outcome']),
  }
}

export function trackPool(p: PoolGaugeSource): () => void {
  live.add(p)
  return () => live.delete(p)
}
