// A cluster worker: load the user's entry, serve it behind the edge, report to the primary, drain on
// request. Started by the primary through node:cluster with its configuration in ECOM_START_CONFIG.
import { debuglog } from 'node:util'
import { isEcomError } from '../../errors.js'
import { IpcRateLimitStore } from '../edge/rate-limit-ipc.js'
import { selectRateLimitStore } from '../redis/start-hook.js' // scale-out hook (issue 7)
import { createLazyLogger } from '../logger.js'
import { httpMetrics } from '../edge/http-metrics.js'
import type { StartOptions } from '../supervisor/options.js'
import { isTagged, type MetricsSnapshotReply, type MetricsSnapshotRequest, type DrainCommand, type WorkerFatal, type WorkerStats } from '../supervisor/ipc.js'
import { loadApp } from './load-entry.js'
import { EcomServer } from './server.js'

const debug = debuglog('ecom')
const options = JSON.parse(process.env.ECOM_START_CONFIG ?? '{}') as StartOptions
const slot = Number(process.env.ECOM_WORKER_ID ?? 0)
const logger = createLazyLogger({ base: { pid: process.pid, worker: slot } })

// A terminal's Ctrl-C reaches the whole process group; the primary decides how the cluster stops.
process.on('SIGINT', () => {})
process.on('SIGHUP', () => {})

function fatal(err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err))
  const msg: WorkerFatal = {
    ecom: 'fatal',
    code: isEcomError(err) ? err.code : 'ECOM_ERR_INTERNAL',
    name: e.name,
    message: e.message,
    stack: e.stack ?? '',
  }
  process.send?.(msg, () => process.exit(1))
  setTimeout(() => process.exit(1), 1000).unref()
}

async function run(): Promise<void> {
  debug('worker %d (slot %d): modules loaded %dms after process start', process.pid, slot, Math.round(performance.now()))
  let app
  try {
    app = await loadApp(options.entry)
  } catch (err) {
    return fatal(err)
  }
  const server = new EcomServer(app.handler, {
    edge: options.edge,
    port: options.port,
    host: options.host,
    logger,
    store: options.edge.rateLimit ? selectRateLimitStore(options.redis, logger, () => new IpcRateLimitStore()) : null,
    metricsText: async () => (await metrics).requestClusterMetrics(),
    close: app.close,
  })
  debug('worker %d: entry loaded %dms after process start', process.pid, Math.round(performance.now()))
  try {
    await server.listen()
  } catch (err) {
    return fatal(err)
  }
  debug('worker %d: listening %dms after process start (cpu %dms)', process.pid, Math.round(performance.now()), Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000))
  // prom-client is not needed to serve, so it loads once the worker is listening.
  const metrics = Promise.all([import('../metrics.js'), import('../../native/loader.js')]).then(([m, native]) => {
    httpMetrics().register(m.getRegistry())
    native.registerNativeMetric(m.getRegistry())
    return m
  })

  const report = (): void => {
    const msg: WorkerStats = {
      ecom: 'stats',
      rss: process.memoryUsage.rss(),
      requests: server.requests,
      connections: server.connections.open,
    }
    if (process.connected) process.send!(msg)
  }
  report()
  setInterval(report, 1000).unref()

  // The drain (and the app's close() after it) runs once, whichever of these asks first.
  const drain = (graceMs: number): void => {
    server.drain(graceMs).then(
      () => process.exit(0),
      () => process.exit(0)
    )
  }
  process.on('message', (msg: unknown) => {
    if (isTagged<DrainCommand>(msg, 'drain')) drain(msg.graceMs)
    else if (isTagged<MetricsSnapshotRequest>(msg, 'metrics-snap')) {
      const reply = (m: unknown[]): void => {
        if (process.connected) process.send!({ ecom: 'metrics-snap-res', id: msg.id, metrics: m } satisfies MetricsSnapshotReply)
      }
      metrics.then((m) => m.snapshotMetrics()).then(reply, () => reply([]))
    }
  })
  process.on('SIGTERM', () => drain(options.graceMs))
  // The primary is gone (killed): do not linger as an orphan holding connections.
  process.on('disconnect', () => drain(options.graceMs))
}

process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception; the worker exits and the primary replaces it')
  process.exit(1)
})

void run()
