import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createInterface } from 'node:readline'
import { debuglog } from 'node:util'
import { InvalidOptionError, ProcessGaveUpError, ProcessStartError } from '../errors.js'
import type { Logger } from './logger.js'

const debug = debuglog('ecom')

export interface ProcessSpec {
  /** Shown in logs and errors. */
  name: string
  command: string
  args?: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** @default "on-failure" (restart after a non-zero exit or a signal) */
  restart?: 'always' | 'on-failure' | 'never'
  /** First restart delay in ms; doubled per restart up to `maxBackoff`. @default 100 */
  backoff?: number
  /** @default 30000 */
  maxBackoff?: number
  /** A run that lasted this long (ms) resets the backoff. @default 10000 */
  resetAfter?: number
  /** Give up after this many restarts within `restartWindow`. @default 10 */
  maxRestarts?: number
  /** @default 60000 */
  restartWindow?: number
  /** @default "SIGTERM" */
  stopSignal?: NodeJS.Signals
  /** Deadline for a graceful stop before SIGKILL, in ms. @default 5000 */
  stopTimeout?: number
  /** `start()` resolves once a stdout/stderr line matches; otherwise once spawned. */
  readyLine?: RegExp
  /** How long to wait for `readyLine`, in ms. @default 30000 */
  readyTimeout?: number
  /** Each output line is logged here at info (stdout) / warn (stderr), with `proc` and `stream`. */
  logger?: Logger
  /**
   * Run the child in its own process group, so a terminal's Ctrl-C reaches only the supervisor, which
   * then stops the child itself, in its own order (after the app has drained). @default false
   */
  detached?: boolean
}

export type ProcessState = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'failed'
export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

type Filled = Required<Omit<ProcessSpec, 'readyLine' | 'logger' | 'cwd' | 'env'>> & Pick<ProcessSpec, 'readyLine' | 'logger' | 'cwd' | 'env'>
const DEFAULTS = {
  args: [] as string[], restart: 'on-failure' as const, backoff: 100, maxBackoff: 30_000, resetAfter: 10_000,
  maxRestarts: 10, restartWindow: 60_000, stopSignal: 'SIGTERM' as NodeJS.Signals, stopTimeout: 5000, readyTimeout: 30_000, detached: false,
}

/**
 * One supervised child (a sidecar such as a payment sandbox). Events: `line` ({ stream, line }),
 * `exit` (ExitInfo), `restart` ({ attempt, delay }), `give-up` (ProcessGaveUpError).
 */
export class ManagedProcess extends EventEmitter {
  readonly spec: Readonly<Filled>
  #child: ChildProcess | undefined
  #state: ProcessState = 'idle'
  #restarts: number[] = []
  #delay: number
  #timer: NodeJS.Timeout | undefined
  #startedAt = 0

  constructor(spec: ProcessSpec) {
    super()
    if (typeof spec?.name !== 'string' || spec.name === '') throw new InvalidOptionError('spec.name must be a non-empty string')
    if (typeof spec.command !== 'string' || spec.command === '') throw new InvalidOptionError(`spec.command of "${spec.name}" must be a non-empty string`)
    const s = { ...DEFAULTS, ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) } as Filled
    for (const k of ['backoff', 'maxBackoff', 'resetAfter', 'maxRestarts', 'restartWindow', 'stopTimeout', 'readyTimeout'] as const) {
      if (!Number.isInteger(s[k]) || s[k] < 0) throw new InvalidOptionError(`spec.${k} of "${s.name}" must be a non-negative integer, got ${JSON.stringify(s[k])}`)
    }
    if (!['always', 'on-failure', 'never'].includes(s.restart)) {
      throw new InvalidOptionError(`spec.restart of "${s.name}" must be "always", "on-failure" or "never", got ${JSON.stringify(s.restart)}`)
    }
    this.spec = Object.freeze(s)
    this.#delay = s.backoff
  }

  get state(): ProcessState {
    return this.#state
  }
  get pid(): number | undefined {
    return this.#child?.pid
  }
  /** Restarts within the current window. */
  get restarts(): number {
    return this.#restarts.length
  }

  /** Spawn the process; resolves when it runs (and printed `readyLine`, if given). */
  async start(): Promise<void> {
    if (this.#state === 'running' || this.#state === 'starting') return
    this.#restarts = []
    this.#delay = this.spec.backoff
    try {
      await this.#spawn()
    } catch (err) {
      // Not ready in time: do not leave it running unsupervised.
      if (this.#child?.pid !== undefined) await this.stop()
      this.#state = 'failed'
      throw err
    }
  }

  /** Graceful stop: `stopSignal`, then SIGKILL after `stopTimeout`. No restart follows. */
  async stop(timeout = this.spec.stopTimeout): Promise<ExitInfo & { forced: boolean }> {
    clearTimeout(this.#timer)
    const child = this.#child
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.#state = 'stopped'
      return { code: child?.exitCode ?? null, signal: child?.signalCode ?? null, forced: false }
    }
    this.#state = 'stopping'
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
    child.kill(this.spec.stopSignal)
    let forced = false
    const deadline = setTimeout(() => {
      forced = true
      debug('process %s: no exit %d ms after %s, sending SIGKILL', this.spec.name, timeout, this.spec.stopSignal)
      child.kill('SIGKILL')
    }, timeout)
    const [code, signal] = await exited
    clearTimeout(deadline)
    this.#state = 'stopped'
    return { code, signal, forced }
  }

  async #spawn(): Promise<void> {
    this.#state = 'starting'
    const s = this.spec
    const child = spawn(s.command, s.args, { cwd: s.cwd, env: s.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: s.detached })
    this.#child = child
    try {
      await once(child, 'spawn')
    } catch (err) {
      this.#state = 'failed'
      throw new ProcessStartError(`cannot start "${s.name}" (${s.command}): ${(err as Error).message}`, { cause: err, details: { name: s.name } })
    }
    this.#startedAt = Date.now()
    let ready: Promise<void> | undefined
    if (s.readyLine) {
      const re = s.readyLine
      ready = new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new ProcessStartError(`"${s.name}" printed no line matching ${re} within ${s.readyTimeout} ms`)), s.readyTimeout)
        const onLine = ({ line }: { line: string }) => {
          if (!re.test(line)) return
          clearTimeout(t)
          this.off('line', onLine)
          resolve()
        }
        this.on('line', onLine)
        child.once('exit', () => {
          clearTimeout(t)
          this.off('line', onLine)
          reject(new ProcessStartError(`"${s.name}" exited before printing a line matching ${re}`))
        })
      })
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: child[stream]!, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        if (s.logger) s.logger[stream === 'stdout' ? 'info' : 'warn']({ proc: s.name, stream }, line)
        this.emit('line', { stream, line })
      })
    }
    child.once('exit', (code, signal) => this.#onExit(child, { code, signal }))
    if (ready) await ready
    if (this.#state === 'starting') this.#state = 'running'
  }

  #onExit(child: ChildProcess, info: ExitInfo): void {
    if (child !== this.#child) return
    this.emit('exit', info)
    if (this.#state === 'stopping' || this.#state === 'stopped') return
    const s = this.spec
    const failed = info.code !== 0
    if (s.restart === 'never' || (s.restart === 'on-failure' && !failed)) {
      this.#state = 'stopped'
      return
    }
    const now = Date.now()
    if (now - this.#startedAt >= s.resetAfter) this.#delay = s.backoff
    this.#restarts = this.#restarts.filter((t) => now - t < s.restartWindow)
    if (this.#restarts.length >= s.maxRestarts) {
      this.#state = 'failed'
      const err = new ProcessGaveUpError(`"${s.name}" exited ${this.#restarts.length + 1} times within ${s.restartWindow} ms; not restarting`, {
        details: { name: s.name, code: info.code, signal: info.signal },
      })
      s.logger?.error({ proc: s.name, code: err.code }, err.message)
      if (this.listenerCount('give-up') > 0) this.emit('give-up', err)
      return
    }
    this.#restarts.push(now)
    const delay = this.#delay
    this.#delay = Math.min(this.#delay * 2, s.maxBackoff)
    this.#state = 'backoff'
    this.emit('restart', { attempt: this.#restarts.length, delay, exit: info })
    s.logger?.warn({ proc: s.name, exitCode: info.code, signal: info.signal, delay }, 'process exited; restarting')
    this.#timer = setTimeout(() => {
      this.#spawn().catch((err: Error) => {
        s.logger?.error({ proc: s.name, code: (err as { code?: string }).code }, err.message)
        const c = this.#child!
        // Never spawned: count it as an exit. Not ready in time: kill it, and its exit restarts it.
        if (c.pid === undefined) this.#onExit(c, { code: null, signal: null })
        else if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
      })
    }, delay)
  }
}

/** A set of supervised processes, stopped together. */
export class ProcessManager {
  readonly #procs = new Map<string, ManagedProcess>()

  add(spec: ProcessSpec): ManagedProcess {
    if (this.#procs.has(spec.name)) throw new InvalidOptionError(`a process named "${spec.name}" is already managed`)
    const p = new ManagedProcess(spec)
    this.#procs.set(spec.name, p)
    return p
  }

  get(name: string): ManagedProcess | undefined {
    return this.#procs.get(name)
  }

  list(): ManagedProcess[] {
    return [...this.#procs.values()]
  }

  async startAll(): Promise<void> {
    for (const p of this.#procs.values()) await p.start()
  }

  async stopAll(timeout?: number): Promise<void> {
    await Promise.all([...this.#procs.values()].map((p) => p.stop(timeout)))
  }
}
