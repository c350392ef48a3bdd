// Messages between the primary and its workers besides rate limiting (whose batch format lives next to
// its store). Every message carries an `ecom` tag.

/** Worker -> primary, once a second. */
export interface WorkerStats {
  ecom: 'stats'
  rss: number
  requests: number
  connections: number
}

/** Worker -> primary, when it cannot start (entry throws, port in use); the worker exits after. */
export interface WorkerFatal {
  ecom: 'fatal'
  code: string
  name: string
  message: string
  stack: string
}

/** Primary -> worker: leave the rotation, finish, exit. */
export interface DrainCommand {
  ecom: 'drain'
  graceMs: number
}

export function isTagged<T extends { ecom: string }>(msg: unknown, tag: T['ecom']): msg is T {
  return typeof msg === 'object' && msg !== null && (msg as { ecom?: unknown }).ecom === tag
}

/** Worker -> primary: a client scraped /metrics on this worker; send back the merged text. */
export interface MetricsRequest {
  ecom: 'metrics-req'
  id: number
}

/** Primary -> worker: the merged cluster-wide text for request `id`. */
export interface MetricsText {
  ecom: 'metrics-text'
  id: number
  text: string
}

/** Primary -> worker: send your registry snapshot. */
export interface MetricsSnapshotRequest {
  ecom: 'metrics-snap'
  id: number
}

/** Worker -> primary: the snapshot (prom-client getMetricsAsJSON form). */
export interface MetricsSnapshotReply {
  ecom: 'metrics-snap-res'
  id: number
  metrics: unknown[]
}
