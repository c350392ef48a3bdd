import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
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

export interface PoolMetrics {
  wait: Histogram<'pool' | 'priority'>
  run: Histogram<'pool'>
  tasks: Counter<'pool' | 'outcome'>
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
    wait: once(registry, 'ecom_pool_task_wait_seconds', () => new Histogram({
      name: 'ecom_pool_task_wait_seconds', help: 'Time a task waited in the queue', labelNames: ['pool', 'priority'], buckets, registers,
    })),
    run: once(registry, 'ecom_pool_task_run_seconds', () => new Histogram({
      name: 'ecom_pool_task_run_seconds', help: 'Time a task ran on a worker thread', labelNames: ['pool'], buckets, registers,
    })),
    tasks: once(registry, 'ecom_pool_tasks_total', () => new Counter({
      name: 'ecom_pool_tasks_total', help: 'Finished pool tasks by outcome', labelNames: ['pool', 'outcome'], registers,
    })),
  }
}

export function trackPool(p: PoolGaugeSource): () => void {
  live.add(p)
  return () => live.delete(p)
}
