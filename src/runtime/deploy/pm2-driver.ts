import { createRequire } from 'node:module'
import { existsSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { MissingDependencyError, Pm2DeployError } from '../../errors.js'

// pm2 is an optional peer dependency, loaded only when a PM2 action runs.
type Cb<T = unknown> = (err: Error | null, value?: T) => void
interface Pm2Proc {
  name?: string
  pid?: number
  pm_id?: number
  pm2_env?: { status?: string; restart_time?: number; pm_uptime?: number }
  monit?: { memory?: number; cpu?: number }
}
interface Pm2Api {
  connect(noDaemon: boolean, cb: Cb): void
  disconnect(cb?: Cb): void
  start(file: string, opts: Record<string, unknown>, cb: Cb<Pm2Proc[]>): void
  stop(name: string, cb: Cb): void
  delete(name: string, cb: Cb): void
  describe(name: string, cb: Cb<Pm2Proc[]>): void
  list(cb: Cb<Pm2Proc[]>): void
  sendSignalToProcessName(signal: string, name: string, cb: Cb): void
  killDaemon(cb: Cb): void
}
type Pm2Ctor = new (opts: { pm2_home?: string; cwd?: string; daemon_mode?: boolean }) => Pm2Api

function loadPm2(): Pm2Ctor {
  const require = createRequire(import.meta.url)
  try {
    return (require('pm2') as { custom: Pm2Ctor }).custom
  } catch (err) {
    throw new MissingDependencyError('PM2 is not installed: npm install pm2', { cause: err, details: { package: 'pm2' } })
  }
}

export interface Pm2DriverOptions {
  /** PM2's state folder (socket, pids, dump). @default $PM2_HOME, else ~/.pm2 */
  pm2Home?: string
  /** Folder the ecosystem file's relative paths are resolved from. @default process.cwd() */
  cwd?: string
}

export interface Pm2AppStatus {
  name: string
  pmId: number | undefined
  pid: number | undefined
  status: string
  restarts: number
  memory: number | undefined
}

/**
 * A connection to one PM2 daemon through PM2's programmatic API. The daemon is started on connect if it
 * is not running, under `pm2Home`: tests and side-by-side setups use their own folder.
 */
export class Pm2Driver {
  readonly pm2Home: string | undefined
  readonly #api: Pm2Api
  #connected = false

  constructor(options: Pm2DriverOptions = {}) {
    this.pm2Home = options.pm2Home ?? process.env.PM2_HOME
    const Pm2 = loadPm2()
    this.#api = new Pm2({ ...(this.pm2Home ? { pm2_home: resolve(this.pm2Home) } : {}), cwd: options.cwd ?? process.cwd() })
  }

  #call<T>(what: string, fn: (cb: Cb<T>) => void): Promise<T> {
    return new Promise((res, rej) => {
      fn((err, value) => {
        if (err) {
          const message = err instanceof Error ? err.message : String(err)
          rej(new Pm2DeployError(`pm2 ${what} failed: ${message}`, { cause: err }))
        } else res(value as T)
      })
    })
  }

  async connect(): Promise<void> {
    if (this.#connected) return
    await this.#call('connect', (cb) => this.#api.connect(false, cb))
    this.#connected = true
  }

  async disconnect(): Promise<void> {
    if (!this.#connected) return
    this.#connected = false
    await new Promise<void>((res) => this.#api.disconnect(() => res()))
  }

  async describe(name: string): Promise<Pm2AppStatus | undefined> {
    await this.connect()
    const procs = await this.#call<Pm2Proc[]>('describe', (cb) => this.#api.describe(name, cb))
    const p = procs?.[0]
    if (!p) return undefined
    return {
      name: p.name ?? name,
      pmId: p.pm_id,
      pid: p.pid,
      status: p.pm2_env?.status ?? 'unknown',
      restarts: p.pm2_env?.restart_time ?? 0,
      memory: p.monit?.memory,
    }
  }

  /** Start the apps of an ecosystem file (`env` picks `env_<name>`). Starting a running app restarts it. */
  async start(ecosystemFile: string, env?: string): Promise<void> {
    await this.connect()
    await this.#call('start', (cb) => this.#api.start(resolve(ecosystemFile), env ? { env } : {}, cb))
  }

  /**
   * ecom's zero-drop reload: SIGHUP to the primary, which replaces its workers one by one. An app that is
   * not running is started instead, so this is also the deploy hook.
   */
  async reload(name: string, ecosystemFile: string, env?: string): Promise<'reloaded' | 'started'> {
    const app = await this.describe(name)
    if (!app || app.status !== 'online') {
      if (app) await this.#call('delete', (cb) => this.#api.delete(name, cb))
      await this.start(ecosystemFile, env)
      return 'started'
    }
    await this.#call('sendSignal', (cb) => this.#api.sendSignalToProcessName('SIGHUP', name, cb))
    return 'reloaded'
  }

  /** Stop (ecom drains within its grace) and remove the app from PM2's list. */
  async stop(name: string): Promise<boolean> {
    const app = await this.describe(name)
    if (!app) return false
    await this.#call('delete', (cb) => this.#api.delete(name, cb))
    return true
  }

  /**
   * Stop every app (each drains) and then the daemon of this PM2_HOME. The daemon is signalled through
   * its pid file rather than PM2's own killDaemon RPC, whose client can be left reconnecting to the
   * dead socket and keep the calling process alive.
   */
  async killDaemon(): Promise<void> {
    const home = this.pm2Home ? resolve(this.pm2Home) : join(homedir(), '.pm2')
    const pidFile = join(home, 'pm2.pid')
    if (!existsSync(pidFile)) return
    await this.connect()
    try {
      await this.#call('delete', (cb) => this.#api.delete('all', cb))
    } catch {
      // no apps: nothing to stop
    }
    await this.disconnect()
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    if (!Number.isInteger(pid) || pid <= 0) return
    const alive = (): boolean => {
      try {
        process.kill(pid, 0)
        return true
      } catch {
        return false
      }
    }
    if (!alive()) return
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + 10_000
    while (alive() && Date.now() < deadline) await sleep(50)
    if (alive()) process.kill(pid, 'SIGKILL')
  }
}
