import { channel } from 'node:diagnostics_channel'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** Published once per adapter call: `{ adapter, orm, dialect, model, operation, durationMs, error?, fallbackFrom? }`. */
export const queryChannel = channel('ecom:orm:query')

/** The ORM's prom-client metrics, registered once per registry and shared by every manager. */
export function ormMetrics(registry: Registry) {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make()
  return {
    queries: get('ecom_orm_queries_total', () => new Counter({ name: 'ecom_orm_queries_total', help: 'ORM calls by adapter, operation and outcome', labelNames: ['adapter', 'operation', 'outcome'], registers: [registry] })),
    duration: get('ecom_orm_query_duration_seconds', () => new Histogram({ name: 'ecom_orm_query_duration_seconds', help: 'ORM call latency by adapter and operation', labelNames: ['adapter', 'operation'], buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry] })),
    errors: get('ecom_orm_errors_total', () => new Counter({ name: 'ecom_orm_errors_total', help: 'ORM errors by adapter, operation and code', labelNames: ['adapter', 'operation', 'code'], registers: [registry] })),
    failovers: get('ecom_orm_failovers_total', () => new Counter({ name: 'ecom_orm_failovers_total', help: 'Calls retried on another adapter', labelNames: ['from', 'to'], registers: [registry] })),
    healthy: get('ecom_orm_adapter_healthy', () => new Gauge({ name: 'ecom_orm_adapter_healthy', help: '1 when the adapter takes calls, 0 while benched', labelNames: ['adapter'], registers: [registry] })),
  }
}

