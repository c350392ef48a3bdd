import { availableParallelism } from 'node:os'
import { isAbsolute } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { TransferListItem } from 'node:worker_threads'
import { InvalidOptionError } from '../../errors.js'
import type { Priority } from './priority-queue.js'

export interface WorkerPoolOptions {
  /** Default task module (path or file: URL; .ts, .mts, .js, .mjs, .cjs). Tasks may name another. */
  filename?: string | URL
  /** Label for metrics and diagnostics. @default "default" */
  name?: string
  /** Worker threads. @default max(1, floor(availableParallelism() / ECOM_CLUSTER_SIZE)) — the cores divided among cluster workers */
  threads?: number
  /** Tasks allowed to wait; beyond it `run()` rejects with PoolQueueFullError. @default Infinity */
  maxQueue?: number
  /** Default per-task timeout in ms; 0 for none. @default 0 */
  taskTimeout?: number
  /** A worker whose V8 heap exceeds this many MiB after a task is replaced once idle; 0 for no limit. @default 0 */
  maxHeapMb?: number
  /** Hard V8 old-space limit per thread in MiB (the thread dies past it). @default Node's default */
  maxOldGenerationMb?: number
  /** Passes over a waiting lower-priority task before it is served anyway. @default 8 */
  starvationLimit?: number
  /**
   * After a running task times out or is aborted, its `ctx.signal` aborts and the thread gets this
   * long (ms) to finish; a thread still busy after it (a task that does not yield) is replaced. @default 500
   */
  cancelGrace?: number
}

export interface RunOptions {
  /** Task module for this call; the pool's `filename` by default. */
  filename?: string | URL
  /** Export to call. @default "default" */
  name?: string
  /** @default "normal" */
  priority?: Priority
  /** ms; overrides the pool's taskTimeout. */
  timeout?: number
  signal?: AbortSignal
  transferList?: readonly TransferListItem[]
}

export interface FilledOptions {
  name: string
  threads: number
  maxQueue: number
  taskTimeout: number
  maxHeapMb: number
  starvationLimit: number
  cancelGrace: number
}

/** Threads a pool gets by default: inside `ecom start`, the cores divided among the cluster workers. */
export function defaultThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number.parseInt(env.ECOM_CLUSTER_SIZE ?? '1', 10)
  return Math.max(1, Math.floor(availableParallelism() / (Number.isFinite(size) && size > 0 ? size : 1)))
}

export function positiveInt(name: string, v: unknown, min: number, allowInfinity = false): number {
  if (allowInfinity && v === Number.POSITIVE_INFINITY) return v
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InvalidOptionError(`options.${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  }
  return v
}

export function hasTsx(argv: string[]): boolean {
  return argv.some((a, i) => (a === '--import' || a === '--loader') && /^tsx(\/|$)/.test(argv[i + 1] ?? '')) ||
    argv.some((a) => /^--(import|loader)=tsx(\/|$)/.test(a))
}

export function toFileUrl(f: string | URL): string {
  if (f instanceof URL) return f.href
  if (f.startsWith('file:')) return f
  if (!isAbsolute(f)) throw new InvalidOptionError(`filename must be an absolute path or a file: URL, got ${JSON.stringify(f)}`)
  return pathToFileURL(f).href
}

