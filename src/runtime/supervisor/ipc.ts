// Messages between the primary and its workers besides rate limiting and metrics (which keep their
// own message types next to their code). Every message carries an `ecom` tag.

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
