import { channel } from 'node:diagnostics_channel'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { debuglog } from 'node:util'
import type { Worker } from 'node:worker_threads'
import { Piscina } from 'piscina'
import {
  InvalidOptionError,
  PoolClosedError,
  PoolQueueFullError,
  PoolTaskAbortedError,
  PoolTaskTimeoutError,
  PoolWorkerExitedError,
} from '../errors.js'
import type { RecycleMessage, TaskEnvelope } from './worker-pool/entry.js'
import { poolMetrics, trackPool, type PoolMetrics } from './worker-pool/metrics.js'
import {
  defaultThreadCount, hasTsx, positiveInt, toFileUrl, type FilledOptions, type RunOptions, type WorkerPoolOptions,
} from './worker-pool/options.js'
import { PRIORITIES, PriorityTaskQueue, type Priority, type QueueOptions } from './worker-pool/priority-queue.js'

export { defaultThreadCount }
export type { Priority, RunOptions, WorkerPoolOptions }

const debug = debuglog('ecom')

/**
 * One submitted task's bookkeeping, from run() to its metrics. It is also the task's queue options
 * (priority, dequeue time, thread): one object per task, not two.
 */
interface Submitted extends QueueOptions {
  file: string
  name: string
  timeout: number
  submitted: number
  promise: Promise<unknown>
}

/** The part of piscina's per-thread view the pool uses. */
interface PiscinaWorker {
  readonly id: number
  readonly currentUsage: number
  readonly terminating: boolean
}
const taskChannel = channel('ecom:pool:task')
// piscina only reads its run options: the usual ones are shared, not built per task.
const RUN_BARE = Object.freeze({ name: 'default' })
const RUN_CALL = Object.freeze({ name: 'call' })

/**
 * A piscina pool with priorities, timeouts, heap-based recycling and metrics. Task modules may be
 * TypeScript: the worker entry registers tsx before importing them.
 */
export class WorkerPool {
  readonly options: Readonly<FilledOptions>
  readonly #piscina: Piscina
  readonly #queue: PriorityTaskQueue
  readonly #file: string | undefined
  readonly #metrics: PoolMetrics
  readonly #recycling = new Set<number>()
  // piscina's per-thread view (currentUsage), from its workerCreate/workerDestroy events.
  readonly #workers = new Map<number, PiscinaWorker>()
  #recycled = 0
  // Metric children bound to this pool's labels: no label hashing per task.
  readonly #waitBy: Record<Priority, ReturnType<PoolMetrics['wait']['labels']>>
  readonly #runTime: ReturnType<PoolMetrics['run']['labels']>
  readonly #outcomes = new Map<string, ReturnType<PoolMetrics['tasks']['labels']>>()
  readonly #untrack: () => void
  #closed = false
  readonly #channelName = `ecom:pool:${process.pid}:${randomUUID()}`
  readonly #channel = new BroadcastChannel(this.#channelName)

  constructor(options: WorkerPoolOptions = {}) {
    const o: FilledOptions = {
      name: options.name ?? 'default',
      threads: positiveInt('threads', options.threads ?? defaultThreadCount(), 1),
      maxQueue: positiveInt('maxQueue', options.maxQueue ?? Number.POSITIVE_INFINITY, 0, true),
      taskTimeout: positiveInt('taskTimeout', options.taskTimeout ?? 0, 0),
      maxHeapMb: positiveInt('maxHeapMb', options.maxHeapMb ?? 0, 0),
      starvationLimit: positiveInt('starvationLimit', options.starvationLimit ?? 8, 1),
      cancelGrace: positiveInt('cancelGrace', options.cancelGrace ?? 500, 0),
    }
    if (typeof o.name !== 'string' || o.name === '') throw new InvalidOptionError('options.name must be a non-empty string')
    this.options = Object.freeze(o)
    this.#file = options.filename === undefined ? undefined : toFileUrl(options.filename)
    this.#queue = new PriorityTaskQueue(o.starvationLimit)
    // From source (vitest, tsx) the entry itself is .ts, so the thread needs tsx before piscina loads it.
    const fromSource = import.meta.url.endsWith('.ts')
    const entry = new URL(`./worker-pool/entry.${fromSource ? 'ts' : 'js'}`, import.meta.url)
    this.#piscina = new Piscina({
      filename: fileURLToPath(entry),
      name: 'default',
      minThreads: o.threads,
      maxThreads: o.threads,
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: o.maxQueue,
      taskQueue: this.#queue,
      // Put a task that could not be placed back at the front of its priority, not at the tail.
      stricterFIFO: true,
      execArgv: fromSource && !hasTsx(process.execArgv) ? [...process.execArgv, '--import', 'tsx'] : process.execArgv,
      workerData: { maxHeapBytes: o.maxHeapMb * 1024 * 1024, file: this.#file, channel: this.#channelName },
      ...(options.maxOldGenerationMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationMb } } : {}),
      loadBalancer: (_task, workers) => {
        for (const w of workers) {
          if (w.currentUsage === 0 && !w.terminating && !this.#recycling.has(w.id)) {
            const placing = this.#queue.placing()
            if (placing) placing.threadId = w.id
            return w
          }
        }
        return null
      },
    })
    this.#piscina.on('workerCreate', (w: PiscinaWorker) => this.#workers.set(w.id, w))
    this.#piscina.on('workerDestroy', (w: PiscinaWorker) => this.#workers.delete(w.id))
    this.#piscina.on('message', (m: RecycleMessage) => {
      if (m && typeof m.ecomRecycle === 'number') {
        debug('pool %s: thread %d heap %d bytes over the limit, recycling', o.name, m.ecomRecycle, m.heapUsed)
        this.#recycling.add(m.ecomRecycle)
        this.#recycleIdle()
      }
    })
    // Errors of idle threads (piscina emits them when no task is there to receive them).
    this.#piscina.on('error', (err: Error) => debug('pool %s: worker error %s', o.name, err.message))
    // Only posts; must not keep the process alive.
    ;(this.#channel as unknown as { unref(): void }).unref()
    this.#metrics = poolMetrics()
    this.#waitBy = {
      high: this.#metrics.wait.labels(o.name, 'high'),
      normal: this.#metrics.wait.labels(o.name, 'normal'),
      low: this.#metrics.wait.labels(o.name, 'low'),
    }
    this.#runTime = this.#metrics.run.labels(o.name)
    this.#untrack = trackPool(this)
  }

  get name(): string {
    return this.options.name
  }
  get queueSize(): number {
    return this.#piscina.queueSize
  }
  get utilization(): number {
    return this.#piscina.utilization
  }
  get threadCount(): number {
    return this.#piscina.threads.length
  }
  get threads(): readonly Worker[] {
    return this.#piscina.threads
  }
  /** Threads replaced because their heap grew past `maxHeapMb`. */
  get recycled(): number {
    return this.#recycled
  }
  get completed(): number {
    return this.#piscina.completed
  }

  /** Run a task: the export `name` (default export by default) of the task module, called with `arg`. */
  run<R = unknown>(arg: unknown, options: RunOptions = {}): Promise<R> {
    let t: Submitted
    try {
      t = this.#submit(arg, options)
    } catch (err) {
      return Promise.reject(err)
    }
    // Plain tasks take no async frame of ours: the result goes straight through one then().
    const settled = t.timeout === 0 && !options.signal ? t.promise : this.#cancellable(t, options)
    return settled.then(
      (value) => {
        this.#finish(t, 'ok', undefined)
        return value as R
      },
      (err: unknown) => {
        const error = this.#mapError(err)
        this.#finish(t, error instanceof PoolTaskTimeoutError ? 'timeout' : error instanceof PoolTaskAbortedError ? 'aborted' : 'error', error)
        throw error
      }
    )
  }

  #submit(arg: unknown, options: RunOptions): Submitted {
    if (this.#closed) throw new PoolClosedError(`worker pool "${this.name}" is closed`)
    const file = options.filename === undefined ? this.#file : toFileUrl(options.filename)
    if (file === undefined) throw new InvalidOptionError('no task module: pass options.filename to the pool or to run()')
    const priority = options.priority ?? 'normal'
    if (!PRIORITIES.includes(priority)) {
      throw new InvalidOptionError(`options.priority must be "high", "normal" or "low", got ${JSON.stringify(priority)}`)
    }
    const maxQueue = this.options.maxQueue
    if (maxQueue !== Number.POSITIVE_INFINITY && this.#piscina.queueSize >= maxQueue && this.#piscina.queueSize > 0) {
      this.#count('rejected')
      throw new PoolQueueFullError(`worker pool "${this.name}" queue is full (maxQueue ${this.options.maxQueue})`)
    }
    const t: Submitted = {
      priority,
      dequeuedAt: undefined,
      task: undefined,
      threadId: undefined,
      file,
      name: options.name ?? 'default',
      timeout: options.timeout ?? this.options.taskTimeout,
      submitted: performance.now(),
      promise: undefined as unknown as Promise<unknown>,
    }
    if (options.signal?.aborted) {
      t.promise = Promise.reject(new PoolTaskAbortedError(`task aborted in worker pool "${this.name}"`, { cause: options.signal.reason }))
      return t
    }
    // The pool's own module and default export go bare; anything else in an envelope.
    const bare = file === this.#file && options.name === undefined
    const task: unknown = bare ? arg : ({ f: file, n: options.name ?? '', a: arg } satisfies TaskEnvelope)
    this.#queue.pending = t
    try {
      // No signal goes to piscina: it would park such tasks in its own skip queue, ahead of the
      // priority queue. Timeouts and aborts are handled here instead (see #cancel).
      const runOptions = options.transferList === undefined ? (bare ? RUN_BARE : RUN_CALL) : { name: bare ? 'default' : 'call', transferList: options.transferList as never }
      t.promise = this.#piscina.run(task, runOptions)
    } finally {
      this.#queue.pending = undefined
    }
    return t
  }

  async #cancellable(t: Submitted, options: RunOptions): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined
    let onAbort: (() => void) | undefined
    let settled = false
    void t.promise.then(() => (settled = true), () => (settled = true))
    try {
      const cancelled = new Promise<never>((_, reject) => {
        const cancel = (err: Error) => {
          this.#cancel(t, () => settled)
          reject(err)
        }
        if (t.timeout > 0) {
          timer = setTimeout(() => cancel(new PoolTaskTimeoutError(`task timed out after ${t.timeout} ms in worker pool "${this.name}"`)), t.timeout)
        }
        if (options.signal) {
          const signal = options.signal
          onAbort = () => cancel(new PoolTaskAbortedError(`task aborted in worker pool "${this.name}"`, { cause: signal.reason }))
          signal.addEventListener('abort', onAbort, { once: true })
        }
      })
      // After a cancel, piscina's own promise rejects (worker terminated) or never settles (removed).
      t.promise.catch(() => {})
      return await Promise.race([t.promise, cancelled])
    } finally {
      clearTimeout(timer)
      if (onAbort) options.signal!.removeEventListener('abort', onAbort)
    }
  }

  #finish(t: Submitted, outcome: string, error: unknown): void {
    const end = performance.now()
    const started = t.dequeuedAt ?? t.submitted
    this.#waitBy[t.priority].observe((started - t.submitted) / 1000)
    this.#runTime.observe((end - started) / 1000)
    this.#count(outcome)
    if (taskChannel.hasSubscribers) {
      taskChannel.publish({
        pool: this.name, file: t.file, name: t.name, priority: t.priority,
        waitMs: started - t.submitted, runMs: end - started, outcome, error,
      })
    }
    if (this.#recycling.size > 0) this.#recycleIdle()
  }

  /** Stop taking tasks and wait for queued and running ones to finish. */
  async close(): Promise<void> {
    this.#closed = true
    await this.#piscina.close()
    this.#channel.close()
    this.#untrack()
  }

  /** Stop at once: queued and running tasks reject. */
  async destroy(): Promise<void> {
    this.#closed = true
    await this.#piscina.destroy()
    this.#channel.close()
    this.#untrack()
  }

  #count(outcome: string): void {
    let c = this.#outcomes.get(outcome)
    if (!c) {
      c = this.#metrics.tasks.labels(this.name, outcome)
      this.#outcomes.set(outcome, c)
    }
    c.inc()
  }

  #mapError(err: unknown): unknown {
    const e = err as Error
    if (e?.message === 'Task queue is at limit' || e?.message === 'No task queue available and all Workers are busy') {
      return new PoolQueueFullError(`worker pool "${this.name}" queue is full (maxQueue ${this.options.maxQueue})`, { cause: err })
    }
    if (e?.message === 'Terminating worker thread' || /^worker exited with code/.test(e?.message ?? '') || (e as { code?: string })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new PoolWorkerExitedError(`a worker thread of pool "${this.name}" exited while running the task: ${e.message}`, { cause: err })
    }
    return err
  }

  /**
   * Drop a timed-out / aborted task: out of the queue if it waits; if it runs, abort its `ctx.signal`
   * and replace the thread unless the task has finished within `cancelGrace`.
   */
  #cancel(qo: QueueOptions, finished: () => boolean): void {
    if (qo.task !== undefined && this.#queue.removeTask(qo.task)) return
    const id = qo.threadId
    if (id === undefined) return
    this.#channel.postMessage(id)
    const kill = () => {
      if (finished()) return
      debug('pool %s: terminating thread %d (cancelled task did not finish within %d ms)', this.name, id, this.options.cancelGrace)
      // piscina sees the exit, fails the task (ignored: already rejected) and starts a replacement.
      void this.#piscina.threads.find((t) => t.threadId === id)?.terminate()
    }
    if (this.options.cancelGrace === 0) kill()
    else setTimeout(kill, this.options.cancelGrace).unref()
  }

  // Threads marked for recycling get no new tasks (see the balancer); once idle they are terminated
  // and piscina starts a replacement to keep the pool at its size.
  #recycleIdle(): void {
    for (const id of this.#recycling) {
      const iface = this.#workers.get(id)
      const thread = this.#piscina.threads.find((t) => t.threadId === id)
      if (!iface || !thread) {
        this.#recycling.delete(id)
        continue
      }
      if (iface.currentUsage === 0) {
        this.#recycling.delete(id)
        this.#recycled++
        debug('pool %s: terminating thread %d', this.name, id)
        void thread.terminate()
      }
    }
  }
}
