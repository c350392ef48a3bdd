import type { MetricsSnapshot } from '../metrics.js'
import type { SandboxStatus } from './sandbox-sidecar.js'

/** One worker as `ecom status` shows it. */
export interface WorkerStatus {
  /** Slot number (ECOM_WORKER_ID). */
  id: number
  pid: number
  state: 'starting' | 'listening' | 'draining' | 'backoff' | 'failed'
  uptimeMs: number
  /** Times this slot's worker was replaced after a crash or for memory. */
  restarts: number
  rss: number
  requests: number
}

export interface AppStatus {
  name: string
  pid: number
  mode: 'cluster' | 'single'
  host: string
  port: number
  uptimeMs: number
  workers: WorkerStatus[]
  /** The `--sandbox` sidecar, or null without one. */
  sandbox?: SandboxStatus | null
  /** The dashboard's link, token included (the control socket is owner-only), or null with `--no-dashboard`. */
  dashboard?: { url: string } | null
}

/** One process's metrics registry, as the dashboard samples it. */
export interface ProcessSnapshot {
  pid: number
  role: 'worker' | 'primary'
  metrics: MetricsSnapshot
}

/** What the supervisor of either mode offers the control socket and the signal handlers. */
export interface Supervisor {
  start(): Promise<void>
  status(): AppStatus
  reload(): Promise<{ replaced: number }>
  /** Drain every worker and resolve once all have exited. */
  stop(): Promise<void>
  /** Every listening worker's metrics snapshot (and the primary's own, in cluster mode). */
  snapshots(): Promise<ProcessSnapshot[]>
  /** Second signal: cut everything now. */
  force(): void
  /** Settles when the app has stopped: resolves after stop/force, rejects when the cluster gives up. */
  readonly done: Promise<void>
}
