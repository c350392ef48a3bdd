import { ReloadError } from '../../errors.js'
import { MemoryRateLimitStore, type RateLimitStore } from '../edge/rate-limit-store.js'
import { selectRateLimitStore } from '../redis/start-hook.js' // scale-out hook (issue 7)
import type { Logger } from '../logger.js'
import { httpMetrics } from '../edge/http-metrics.js'
import { getRegistry, mergeMetrics, snapshotMetrics } from '../metrics.js'
import { registerNativeMetric } from '../../native/loader.js'
import { loadApp } from '../worker/load-entry.js'
import { EcomServer } from '../worker/server.js'
import type { StartOptions } from './options.js'
import type { AppStatus, ProcessSnapshot, Supervisor } from './status.js'

/** `--workers 1`: no cluster, the process serves the app itself with the memory rate-limit store. */
export class SingleSupervisor implements Supervisor {
  readonly #options: StartOptions
  readonly #log: Logger
  readonly #store: RateLimitStore
  readonly #startedAt = Date.now()
  #server: EcomServer | undefined
  #stopping: Promise<void> | undefined
  #resolveDone!: () => void
  readonly done: Promise<void>

  constructor(options: StartOptions, logger: Logger) {
    this.#options = options
    this.#log = logger
    this.#store = selectRateLimitStore(options.redis, logger, () => new MemoryRateLimitStore()) // scale-out hook (issue 7)
    this.done = new Promise((resolve) => (this.#resolveDone = resolve))
  }

  async start(): Promise<void> {
    process.env.ECOM_WORKER_ID = '0'
    process.env.ECOM_CLUSTER_SIZE = '1'
    const app = await loadApp(this.#options.entry)
    this.#server = new EcomServer(app.handler, {
      edge: this.#options.edge,
      port: this.#options.port,
      host: this.#options.host,
      logger: this.#log,
      store: this.#store,
      metricsText: async () => mergeMetrics([await snapshotMetrics()]),
      close: app.close,
    })
    await this.#server.listen()
    httpMetrics().register(getRegistry())
    registerNativeMetric(getRegistry())
    // Forced to stop while the entry was still loading: do not stay up.
    if (this.#stopping) this.#server.server.close()
  }

  status(): AppStatus {
    const now = Date.now()
    const { name, host, port } = this.#options
    return {
      name,
      pid: process.pid,
      mode: 'single',
      host,
      port,
      uptimeMs: now - this.#startedAt,
      workers: [
        {
          id: 0,
          pid: process.pid,
          state: this.#stopping ? 'draining' : 'listening',
          uptimeMs: now - this.#startedAt,
          restarts: 0,
          rss: process.memoryUsage.rss(),
          requests: this.#server?.requests ?? 0,
        },
      ],
    }
  }

  async snapshots(): Promise<ProcessSnapshot[]> {
    return [{ pid: process.pid, role: 'worker', metrics: await snapshotMetrics() }]
  }

  reload(): Promise<{ replaced: number }> {
    return Promise.reject(
      new ReloadError('a rolling reload needs a cluster: start with --workers 2 or more (a single process cannot replace itself without a gap)')
    )
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#server?.drain(this.#options.graceMs)
      this.#server?.server.close()
      await this.#store.close?.()
      this.#resolveDone()
    })()
    return this.#stopping
  }

  force(): void {
    this.#server?.connections.destroyAll()
    void this.stop()
  }
}
