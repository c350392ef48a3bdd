import { AggregatorRegistry, Counter, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client'
import { isTagged, type MetricsRequest, type MetricsSnapshotReply, type MetricsSnapshotRequest, type MetricsText } from './supervisor/ipc.js'

// One registry per process: the HTTP edge, the worker pool, the HTTP client, payments and the ORM all
// record into it, so a worker's /metrics contribution is a single scrape the primary can aggregate.
let registry: Registry | undefined

export function getRegistry(): Registry {
  registry ??= new Registry()
  return registry
}

export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[]

/** This process's metrics in the JSON form the primary merges. */
export function snapshotMetrics(): Promise<MetricsSnapshot> {
  return getRegistry().getMetricsAsJSON() as Promise<MetricsSnapshot>
}

/**
 * Merge the snapshots of every worker (and the primary's own) into one Prometheus text. Counters and
 * histograms are summed; gauges follow the `aggregator` they were declared with (sum unless said).
 */
export function mergeMetrics(snapshots: MetricsSnapshot[]): Promise<string> {
  const nonEmpty = snapshots.filter((s) => s.length > 0)
  if (nonEmpty.length === 0) return Promise.resolve('')
  return AggregatorRegistry.aggregate(nonEmpty).metrics()
}

let restarts: Counter<'reason'> | undefined

/** Worker restarts, recorded by the primary (the only process that sees them). */
export function workerRestartsCounter(): Counter<'reason'> {
  restarts ??= new Counter({
    name: 'ecom_worker_restarts_total',
    help: 'Workers the primary replaced, by reason (crash, memory, reload)',
    labelNames: ['reason'],
    registers: [getRegistry()],
  })
  // Zero series up front, so a dashboard sees 0 rather than no data before the first restart.
  for (const reason of ['crash', 'memory', 'reload']) restarts.inc({ reason }, 0)
  return restarts
}

// ---------------------------------------------------------------------------------------------
// Cluster aggregation over IPC. A worker asked for /metrics sends `metrics-req` to the primary; the
// primary sends `metrics-snap` to every live worker, merges the answers with its own registry (which
// holds the restart counter) and replies with `metrics-text`. Workers that do not answer in time are
// left out rather than failing the scrape. The message types live in supervisor/ipc.ts so that both
// sides can route messages before prom-client is loaded.

let textSeq = 0
const textWaiters = new Map<number, (text: string) => void>()
let textListening = false

/** Worker side: the cluster-wide text, merged by the primary. */
export function requestClusterMetrics(timeoutMs = 5000): Promise<string> {
  if (!textListening) {
    textListening = true
    process.on('message', (msg: unknown) => {
      if (!isTagged<MetricsText>(msg, 'metrics-text')) return
      textWaiters.get(msg.id)?.(msg.text)
      textWaiters.delete(msg.id)
    })
  }
  return new Promise((resolve, reject) => {
    const id = ++textSeq
    const timer = setTimeout(() => {
      textWaiters.delete(id)
      reject(new Error(`the primary did not send metrics within ${timeoutMs}ms`))
    }, timeoutMs)
    textWaiters.set(id, (text) => {
      clearTimeout(timer)
      resolve(text)
    })
    process.send!({ ecom: 'metrics-req', id } satisfies MetricsRequest)
  })
}

/** The slice of a cluster worker the aggregation needs. */
export interface MetricsPeer {
  send(msg: unknown): boolean
  on(event: 'message', fn: (msg: unknown) => void): unknown
  off(event: 'message', fn: (msg: unknown) => void): unknown
  isConnected(): boolean
}

let snapSeq = 0

/**
 * Primary side: every worker's registry snapshot, in the order of `peers` (a worker that is gone or
 * does not answer within `timeoutMs` gives an empty snapshot rather than failing the whole collection).
 */
export function gatherSnapshots(peers: MetricsPeer[], timeoutMs = 2000): Promise<MetricsSnapshot[]> {
  const id = ++snapSeq
  return Promise.all(
    peers.map(
      (peer) =>
        new Promise<MetricsSnapshot>((resolve) => {
          if (!peer.isConnected()) return resolve([])
          const done = (m: MetricsSnapshot): void => {
            clearTimeout(timer)
            peer.off('message', onMessage)
            resolve(m)
          }
          const onMessage = (msg: unknown): void => {
            if (isTagged<MetricsSnapshotReply>(msg, 'metrics-snap-res') && msg.id === id) done(msg.metrics as MetricsSnapshot)
          }
          const timer = setTimeout(() => done([]), timeoutMs)
          peer.on('message', onMessage)
          try {
            peer.send({ ecom: 'metrics-snap', id } satisfies MetricsSnapshotRequest)
          } catch {
            done([])
          }
        })
    )
  )
}

/** Primary side: gather every worker's snapshot plus the primary's own, merged into one text. */
export async function collectClusterMetrics(peers: MetricsPeer[], timeoutMs = 2000): Promise<string> {
  const gathered = await gatherSnapshots(peers, timeoutMs)
  return mergeMetrics([...gathered, await snapshotMetrics()])
}
