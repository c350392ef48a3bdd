import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { ProcessStartError } from '../../errors.js'
import { ProcessManager, type ManagedProcess, type ProcessState } from '../process-manager.js'
import type { Logger } from '../logger.js'
import { appOrigin, type SandboxStartOptions } from './options.js'

/** The payment sandbox as `ecom status` and the dashboard show it. */
export interface SandboxStatus {
  url: string
  adminUrl: string
  pid: number
  state: ProcessState
  /** Times the sidecar was restarted since the app started. */
  restarts: number
  /** Where its webhooks go, with `{provider}` still in place; null when they are only recorded. */
  webhooks: string | null
}

/** bin/ecom.js, from src/runtime/supervisor (tests) and dist/runtime/supervisor (built) alike. */
const ECOM_BIN = fileURLToPath(new URL('../../../bin/ecom.js', import.meta.url))

/** A port that was free a moment ago: chosen once, so the URL the workers got survives restarts. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** `--sandbox-webhooks`: an absolute URL is used as is, a path is joined to the app's own address. */
export function webhookTarget(value: string | null, host: string, port: number): string | null {
  if (value === null) return null
  return value.startsWith('/') ? `${appOrigin(host, port)}${value}` : value
}

/**
 * `ecom start --sandbox`: the payment sandbox (`ecom payments sandbox`) as a supervised child of the
 * primary. It is started and ready before the workers fork, restarted with backoff when it dies (on the
 * same port), and stopped after the workers have drained.
 */
export class SandboxSidecar {
  readonly url: string
  readonly webhooks: string | null
  readonly #proc: ManagedProcess
  readonly #manager = new ProcessManager()
  #restarts = 0

  private constructor(port: number, webhooks: string | null, logger: Logger) {
    this.url = `http://127.0.0.1:${port}`
    this.webhooks = webhooks
    // --parent-pid: the sandbox exits by itself if this primary dies without stopping it (SIGKILL).
    const args = [ECOM_BIN, 'payments', 'sandbox', '--port', String(port), '--host', '127.0.0.1', '--parent-pid', String(process.pid)]
    if (webhooks) args.push('--webhook-url', webhooks)
    this.#proc = this.#manager.add({
      name: 'payments-sandbox',
      command: process.execPath,
      args,
      // Exit 0 means it was asked to stop; a crash or a kill restarts it.
      restart: 'on-failure',
      // Out of the terminal's process group: Ctrl-C drains the workers first, then the primary stops it.
      detached: true,
      readyLine: /listening on http:\/\//,
      logger,
    })
    this.#proc.on('restart', () => this.#restarts++)
    // A sidecar that keeps dying is reported (state "failed") rather than taking the app down.
    this.#proc.on('give-up', () => {})
  }

  static async start(options: SandboxStartOptions, app: { host: string; port: number }, logger: Logger): Promise<SandboxSidecar> {
    const port = options.port === 0 ? await freePort('127.0.0.1') : options.port
    const sidecar = new SandboxSidecar(port, webhookTarget(options.webhooks, app.host, app.port), logger)
    // Its own one-line error (port taken, ...) says more than "exited before it was ready".
    let lastError = ''
    const onLine = ({ stream, line }: { stream: string; line: string }): void => {
      if (stream === 'stderr' && line.startsWith('ecom:')) lastError = line.slice(6)
    }
    sidecar.#proc.on('line', onLine)
    try {
      await sidecar.#manager.startAll()
    } catch (err) {
      throw new ProcessStartError(`the payment sandbox did not start: ${lastError || (err as Error).message}`, { cause: err })
    } finally {
      sidecar.#proc.off('line', onLine)
    }
    return sidecar
  }

  get pid(): number | undefined {
    return this.#proc.pid
  }

  status(): SandboxStatus {
    return {
      url: this.url,
      adminUrl: `${this.url}/__admin`,
      pid: this.#proc.state === 'running' ? (this.#proc.pid ?? 0) : 0,
      state: this.#proc.state,
      restarts: this.#restarts,
      webhooks: this.webhooks,
    }
  }

  async stop(): Promise<void> {
    await this.#manager.stopAll()
  }
}
