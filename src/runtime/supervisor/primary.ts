import cluster, { type Worker } from 'node:cluster'
import { extname } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CrashLoopError,
  EcomError,
  EntryLoadError,
  EntryShapeError,
  ListenError,
  PortInUseError,
  ReloadError,
} from '../../errors.js'
import { serveRateLimit } from '../edge/rate-limit-ipc.js'
import { MemoryRateLimitStore } from '../edge/rate-limit-store.js'
import type { Logger } from '../logger.js'
import { BACKOFF_DEFAULTS, CrashCounter } from './backoff.js'
import { isTagged, type DrainCommand, type MetricsRequest, type MetricsText, type WorkerFatal, type WorkerStats } from './ipc.js'
import type { StartOptions } from './options.js'
import type { AppStatus, ProcessSnapshot, Supervisor, WorkerStatus } from './status.js'

interface Proc {
  worker: Worker
  slot: Slot
  state: 'starting' | 'listening' | 'draining'
  startedAt: number
  listeningAt: number
  rss: number
  requests: number
  fatal: WorkerFatal | undefined
  exited: Promise<void>
  listening: Promise<void>
}

interface Slot {
  id: number
  current: Proc | undefined
  restarts: number
  crashes: CrashCounter
  state: 'running' | 'backoff' | 'failed'
  timer: NodeJS.Timeout | undefined
  replacing: Promise<void> | undefined
}

const FATAL_CLASSES: Record<string, new (message?: string) => EcomError> = {
  [EntryLoadError.code]: EntryLoadError,
  [EntryShapeError.code]: EntryShapeError,
  [PortInUseError.code]: PortInUseError,
  [ListenError.code]: ListenError,
}

/** Rebuild the worker's error in the primary so the CLI prints it as one line (stack with --verbose). */
function errorFromFatal(f: WorkerFatal): EcomError {
  const Ctor = FATAL_CLASSES[f.code] ?? EntryLoadError
  const err = new Ctor(f.message)
  err.stack = f.stack
  return err
}

/**
 * The cluster primary: one slot per worker, forked with ECOM_WORKER_ID and ECOM_CLUSTER_SIZE;
 * respawns crashed workers with backoff, gives up a crash-looping slot, replaces workers over the
 * memory limit, rolls reloads one slot at a time, holds the shared rate-limit store and merges metrics.
 */
export class ClusterSupervisor implements Supervisor {
  readonly #options: StartOptions
  readonly #log: Logger
  readonly #slots: Slot[] = []
  readonly #procs = new Set<Proc>()
  readonly #store = new MemoryRateLimitStore()
  readonly #startedAt = Date.now()
  #started = false
  #stopping: Promise<void> | undefined
  #reloading: Promise<{ replaced: number }> | undefined
  #memoryTimer: NodeJS.Timeout | undefined
  // prom-client loads once the workers listen: it is not needed to start serving.
  #metrics: Promise<typeof import('../metrics.js')> | undefined
  #resolveDone!: () => void
  #rejectDone!: (err: Error) => void
  readonly done: Promise<void>

  constructor(options: StartOptions, logger: Logger) {
    this.#options = options
    this.#log = logger
    this.done = new Promise((resolve, reject) => {
      this.#resolveDone = resolve
      this.#rejectDone = reject
    })
    this.done.catch(() => {})
    const here = fileURLToPath(import.meta.url)
    cluster.setupPrimary({
      exec: fileURLToPath(new URL(`../worker/main${extname(here)}`, import.meta.url)),
      args: [],
    })
    for (let id = 0; id < options.workers; id++) {
      this.#slots.push({
        id,
        current: undefined,
        restarts: 0,
        crashes: new CrashCounter({ ...BACKOFF_DEFAULTS, crashLimit: options.crashLimit }),
        state: 'running',
        timer: undefined,
        replacing: undefined,
      })
    }
  }

  #loadMetrics(): Promise<typeof import('../metrics.js')> {
    this.#metrics ??= import('../metrics.js').then((m) => {
      m.workerRestartsCounter()
      return m
    })
    return this.#metrics
  }

  #countRestart(reason: 'crash' | 'memory' | 'reload'): void {
    void this.#loadMetrics().then((m) => m.workerRestartsCounter().inc({ reason }))
  }

  async start(): Promise<void> {
    const procs = this.#slots.map((slot) => (slot.current = this.#fork(slot)))
    try {
      // Counted up only once listening: start resolves when every worker has its server bound.
      await Promise.all(procs.map((p) => p.listening))
    } catch (err) {
      for (const p of this.#procs) p.worker.process.kill('SIGKILL')
      await Promise.all([...this.#procs].map((p) => p.exited))
      await this.#store.close()
      throw err
    }
    this.#started = true
    // After the workers listen: loading prom-client while they start would take CPU from them.
    void this.#loadMetrics()
    if (this.#options.maxMemory !== null) {
      // Stats arrive every second, so this sees an RSS at most about two seconds old.
      this.#memoryTimer = setInterval(() => this.#checkMemory(), 1000)
      this.#memoryTimer.unref()
    }
  }

  #fork(slot: Slot): Proc {
    const worker = cluster.fork({
      ECOM_WORKER_ID: String(slot.id),
      ECOM_CLUSTER_SIZE: String(this.#options.workers),
      ECOM_START_CONFIG: JSON.stringify(this.#options),
    })
    let onListening!: () => void
    let onFailed!: (err: Error) => void
    const listening = new Promise<void>((resolve, reject) => {
      onListening = resolve
      onFailed = reject
    })
    listening.catch(() => {})
    const proc: Proc = {
      worker,
      slot,
      state: 'starting',
      startedAt: Date.now(),
      listeningAt: 0,
      rss: 0,
      requests: 0,
      fatal: undefined,
      listening,
      exited: new Promise((resolve) => worker.once('exit', () => resolve())),
    }
    this.#procs.add(proc)
    worker.on('message', (msg: unknown) => {
      if (isTagged<WorkerStats>(msg, 'stats')) {
        proc.rss = msg.rss
        proc.requests = msg.requests
      } else if (isTagged<MetricsRequest>(msg, 'metrics-req')) this.#answerMetrics(worker, msg.id)
      else if (isTagged<WorkerFatal>(msg, 'fatal')) proc.fatal = msg
    })
    worker.on('error', () => {}) // IPC to a dying worker; its exit is handled below
    serveRateLimit(worker, this.#store)
    worker.on('listening', (address) => {
      // The app may open servers of its own; only the edge's port counts as up.
      if (proc.state !== 'starting' || (this.#options.port !== 0 && address.port !== this.#options.port)) return
      proc.state = 'listening'
      proc.listeningAt = Date.now()
      onListening()
    })
    worker.once('exit', (code, signal) => {
      this.#procs.delete(proc)
      // Never listened (crashed, or retired while starting): whoever waits for it must hear so.
      if (proc.listeningAt === 0) {
        onFailed(proc.fatal ? errorFromFatal(proc.fatal) : new EntryLoadError(`worker ${slot.id} exited (${signal ?? `code ${code}`}) before it was listening`))
      }
      this.#onExit(proc, code, signal)
    })
    return proc
  }

  /** A worker was scraped: merge every listening worker's snapshot with the primary's own. */
  #answerMetrics(worker: Worker, id: number): void {
    const peers = [...this.#procs].filter((p) => p.state !== 'starting').map((p) => p.worker)
    const reply = (text: string): void => {
      if (worker.isConnected()) worker.send({ ecom: 'metrics-text', id, text } satisfies MetricsText)
    }
    this.#loadMetrics()
      .then((m) => m.collectClusterMetrics(peers))
      .then(reply, (err: unknown) => {
        this.#log.error({ err }, 'metrics aggregation failed')
        reply('')
      })
  }

  async snapshots(): Promise<ProcessSnapshot[]> {
    const m = await this.#loadMetrics()
    const procs = [...this.#procs].filter((p) => p.state === 'listening')
    const snaps = await m.gatherSnapshots(procs.map((p) => p.worker))
    const workers = procs.map((p, i): ProcessSnapshot => ({ pid: p.worker.process.pid ?? 0, role: 'worker', metrics: snaps[i]! }))
    return [...workers, { pid: process.pid, role: 'primary', metrics: await m.snapshotMetrics() }]
  }

  #onExit(proc: Proc, code: number | null, signal: string | null): void {
    const { slot } = proc
    if (proc.state === 'draining' || this.#stopping || !this.#started) return
    if (slot.current !== proc) return // a replacement that failed to start; its caller reports it
    slot.current = undefined
    slot.restarts++
    this.#countRestart('crash')
    const upMs = proc.listeningAt ? Date.now() - proc.listeningAt : 0
    const delay = slot.crashes.crashed(upMs)
    const how = signal ?? `code ${code}`
    if (delay === null) {
      slot.state = 'failed'
      this.#log.error({ slot: slot.id, crashes: slot.crashes.consecutive }, `worker slot ${slot.id} crashed ${slot.crashes.consecutive} times in a row (last: ${how}); not respawning it`)
      if (this.#slots.every((s) => s.state === 'failed')) {
        this.#shutdown(new CrashLoopError(`every worker slot crash-looped (last exit: ${how}); giving up`))
      }
      return
    }
    slot.state = 'backoff'
    this.#log.warn({ slot: slot.id, pid: proc.worker.process.pid, exit: how, delayMs: delay }, `worker ${slot.id} died (${how}); respawning in ${delay}ms`)
    slot.timer = setTimeout(() => {
      slot.timer = undefined
      if (this.#stopping || slot.replacing) return
      slot.state = 'running'
      slot.current = this.#fork(slot)
    }, delay)
  }

  #checkMemory(): void {
    const max = this.#options.maxMemory
    if (max === null || this.#stopping) return
    for (const slot of this.#slots) {
      const p = slot.current
      if (p && p.state === 'listening' && p.rss > max && !slot.replacing) {
        this.#log.warn({ slot: slot.id, pid: p.worker.process.pid, rss: p.rss, maxMemory: max }, `worker ${slot.id} is over --max-memory; replacing it`)
        this.#replace(slot, 'memory').catch((err: unknown) => this.#log.error({ err, slot: slot.id }, 'memory replacement failed'))
      }
    }
  }

  /** Start a replacement, wait until it listens, then drain the old worker out of the rotation. */
  #replace(slot: Slot, reason: 'memory' | 'reload'): Promise<void> {
    slot.replacing ??= (async () => {
      try {
        if (slot.timer) clearTimeout(slot.timer)
        slot.timer = undefined
        const old = slot.current
        const next = this.#fork(slot)
        try {
          await next.listening
        } catch (err) {
          throw new ReloadError(`worker ${slot.id} replacement failed to start: ${(err as Error).message}; the old worker keeps serving`, { cause: err })
        }
        if (this.#stopping) {
          await this.#retire(next)
          return
        }
        slot.current = next
        slot.state = 'running'
        this.#countRestart(reason)
        if (reason === 'memory') slot.restarts++
        if (old) await this.#retire(old)
      } finally {
        slot.replacing = undefined
      }
    })()
    return slot.replacing
  }

  #retire(proc: Proc): Promise<void> {
    if (proc.state === 'starting') {
      proc.state = 'draining'
      proc.worker.process.kill('SIGTERM')
    } else if (proc.state === 'listening') {
      proc.state = 'draining'
      const cmd: DrainCommand = { ecom: 'drain', graceMs: this.#options.graceMs }
      try {
        proc.worker.send(cmd)
      } catch {
        proc.worker.process.kill('SIGTERM')
      }
    }
    const kill = setTimeout(() => proc.worker.process.kill('SIGKILL'), this.#options.graceMs + 2000)
    kill.unref()
    return proc.exited.finally(() => clearTimeout(kill))
  }

  reload(): Promise<{ replaced: number }> {
    if (this.#stopping) return Promise.reject(new ReloadError('the app is stopping'))
    this.#reloading ??= (async () => {
      try {
        let replaced = 0
        for (const slot of this.#slots) {
          if (this.#stopping) break
          if (slot.state !== 'running') slot.crashes.consecutive = 0 // new code deserves a fresh count
          await this.#replace(slot, 'reload')
          replaced++
        }
        this.#log.info({ replaced }, 'reload complete')
        return { replaced }
      } finally {
        this.#reloading = undefined
      }
    })()
    return this.#reloading
  }

  stop(): Promise<void> {
    return this.#shutdown()
  }

  #shutdown(error?: Error): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#memoryTimer) clearInterval(this.#memoryTimer)
      for (const slot of this.#slots) if (slot.timer) clearTimeout(slot.timer)
      await Promise.all([...this.#procs].map((p) => this.#retire(p)))
      await this.#store.close()
      if (error) this.#rejectDone(error)
      else this.#resolveDone()
    })()
    return this.#stopping
  }

  force(): void {
    for (const p of this.#procs) p.worker.process.kill('SIGKILL')
    void this.#shutdown()
  }

  status(): AppStatus {
    const now = Date.now()
    const workers: WorkerStatus[] = []
    for (const slot of this.#slots) {
      const procs = [...this.#procs].filter((p) => p.slot === slot)
      if (procs.length === 0) {
        workers.push({ id: slot.id, pid: 0, state: slot.state === 'failed' ? 'failed' : 'backoff', uptimeMs: 0, restarts: slot.restarts, rss: 0, requests: 0 })
      }
      for (const p of procs) {
        workers.push({
          id: slot.id,
          pid: p.worker.process.pid ?? 0,
          state: p.state,
          uptimeMs: now - p.startedAt,
          restarts: slot.restarts,
          rss: p.rss,
          requests: p.requests,
        })
      }
    }
    const { name, host, port } = this.#options
    return { name, pid: process.pid, mode: 'cluster', host, port, uptimeMs: now - this.#startedAt, workers }
  }
}
