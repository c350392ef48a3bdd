import { Counter, Gauge, type Registry } from 'prom-client'
import { getRegistry } from '../../runtime/metrics.js'
import { FastCounter, FastHistogram } from '../../runtime/worker-pool/metrics.js'

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make()
}

/**
 * The payments metrics, registered once in the process registry. The three every checkout touches
 * (attempts, duration, results) are the toolkit's label-hash-free kinds, as the HTTP client's are;
 * the rest are plain prom-client metrics.
 */
export function paymentsMetrics(registry: Registry = getRegistry()) {
  const registers = [registry]
  return {
    attempts: FastCounter.register(registry, 'ecom_payments_attempts_total', 'Provider calls by provider, operation and outcome class',
      ['provider', 'operation', 'outcome']),
    duration: FastHistogram.register(registry, 'ecom_payments_provider_duration_seconds', 'Provider call duration',
      ['provider', 'operation'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    breaker: once(registry, 'ecom_payments_breaker_state', () => new Gauge({
      name: 'ecom_payments_breaker_state',
      help: 'Circuit breaker per provider: 0 closed, 1 half open, 2 open',
      labelNames: ['provider'] as const,
      registers,
    })),
    failovers: once(registry, 'ecom_payments_failovers_total', () => new Counter({
      name: 'ecom_payments_failovers_total',
      help: 'Moves to the next provider, by the provider left and why',
      labelNames: ['provider', 'reason'] as const,
      registers,
    })),
    results: FastCounter.register(registry, 'ecom_payments_results_total', 'Payments answered, by state', ['state']),
    reconciliations: once(registry, 'ecom_payments_reconciliations_total', () => new Counter({
      name: 'ecom_payments_reconciliations_total',
      help: 'Extra provider successes voided or refunded (late success after failover), and ambiguous attempts resolved',
      labelNames: ['provider', 'action'] as const,
      registers,
    })),
  }
}

export type PaymentsMetrics = ReturnType<typeof paymentsMetrics>
