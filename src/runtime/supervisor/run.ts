import { debuglog } from 'node:util'
import { InvalidOptionError } from '../../errors.js'
import type { Dashboard } from '../dashboard/server.js'
import { createLazyLogger } from '../logger.js'
import { keepNextTickFast } from '../next-tick.js'
import { listenControl } from './control-socket.js'
import type { StartOptions } from './options.js'
import { resolveEntry } from './resolve-entry.js'
import type { SandboxSidecar } from './sandbox-sidecar.js'
import type { AppStatus, Supervisor } from './status.js'

const debug = debuglog('ecom')

export interface RunResult {
  /** True when a second signal cut the drain short. */
  forced: boolean
}

/**
 * Run an app until it is stopped: by SIGTERM/SIGINT (drain, then resolve; a second signal forces), by
 * `ecom stop`, or by the cluster giving up (rejects). SIGHUP and `ecom reload` roll the workers.
 */
export async function runStart(input: StartOptions): Promise<RunResult> {
  // The primary answers every worker's rate-limit hits over IPC, a nextTick or more each (next-tick.ts).
  keepNextTickFast()
  // A directory becomes its package.json "main" or index file here, once, before any worker forks.
  const options: StartOptions = { ...input, entry: resolveEntry(input.entry) }
  if (options.envFile !== null) {
    try {
      process.loadEnvFile(options.envFile)
    } catch (err) {
      throw new InvalidOptionError(`options.envFile must be a readable .env file, got "${options.envFile}": ${(err as Error).message}`, { cause: err })
    }
  }
  const logger = createLazyLogger({ base: { pid: process.pid, role: options.workers === 1 ? 'single' : 'primary' } })
  // Each mode loads only its own modules: the cluster primary never loads the edge or prom-client
  // before its workers are forked.
  const supervisor: Supervisor =
    options.workers === 1
      ? new (await import('./single.js')).SingleSupervisor(options, logger)
      : new (await import('./primary.js')).ClusterSupervisor(options, logger)

  let sandbox: SandboxSidecar | undefined
  let dashboard: Dashboard | undefined
  const status = (): AppStatus => ({ ...supervisor.status(), sandbox: sandbox?.status() ?? null })
  const control = await listenControl(options.name, options.port, async (cmd) => {
    if (cmd === 'status') return { ...status(), dashboard: dashboard ? { url: dashboard.url } : null }
    if (cmd === 'reload') return supervisor.reload()
    await supervisor.stop()
    return { stopped: true }
  })
  // Signals are handled from before the first fork: a SIGTERM that arrives while workers are still
  // starting must not kill the primary with its default action and orphan them.
  let started = false
  let stopRequested = false
  let forced = false
  let signals = 0
  const onStop = (signal: NodeJS.Signals): void => {
    signals++
    if (signals === 1) {
      logger.info({ signal }, `${signal}: draining (send it again to force)`)
      if (started) void supervisor.stop()
      else stopRequested = true
    } else {
      forced = true
      logger.warn({ signal }, `${signal} again: forcing exit`)
      supervisor.force()
    }
  }
  const onReload = (): void => {
    if (!started) return
    supervisor.reload().then(
      (r) => logger.info(r, 'SIGHUP: reload complete'),
      (err: unknown) => logger.error({ err }, 'SIGHUP: reload failed')
    )
  }
  process.on('SIGTERM', onStop)
  process.on('SIGINT', onStop)
  process.on('SIGHUP', onReload)
  const removeHandlers = (): void => {
    process.off('SIGTERM', onStop)
    process.off('SIGINT', onStop)
    process.off('SIGHUP', onReload)
  }

  debug('primary %d: forking workers %dms after process start (cpu %dms)', process.pid, Math.round(performance.now()), Math.round((process.cpuUsage().user + process.cpuUsage().system) / 1000))
  let serving = false
  try {
    if (options.sandbox) {
      // Before the fork: every worker starts with ECOM_SANDBOX_URL and a sandbox that already answers.
      const { SandboxSidecar } = await import('./sandbox-sidecar.js')
      sandbox = await SandboxSidecar.start(options.sandbox, options, logger)
      process.env.ECOM_SANDBOX_URL = sandbox.url
    }
    await supervisor.start()
    serving = true
    // Loaded only now: the dashboard is not needed to serve the first request.
    if (options.dashboard) dashboard = await (await import('../dashboard/server.js')).startDashboard(options.dashboard, { status, snapshots: () => supervisor.snapshots() }, logger)
  } catch (err) {
    removeHandlers()
    if (serving) await supervisor.stop().catch(() => {})
    await sandbox?.stop()
    await control.close()
    if (forced) return { forced }
    throw err
  }
  started = true
  debug('primary %d: all workers listening %dms after process start', process.pid, Math.round(performance.now()))
  if (stopRequested) void supervisor.stop()
  else {
    // scale-out hook (issue 7): under PM2 (wait_ready in ecom's ecosystem file) say when every worker listens.
    if (process.send && process.env.pm_id !== undefined) process.send('ready')
    logger.info(
      { app: options.name, workers: options.workers, host: options.host, port: options.port, control: control.path },
      `ecom: ${options.name} listening on http://${options.host}:${options.port} (${options.workers === 1 ? 'single process' : `${options.workers} workers`})`
    )
    if (sandbox) logger.info({ sandbox: sandbox.url }, `ecom: payments sandbox on ${sandbox.url} (admin API ${sandbox.url}/__admin)`)
    // The token stays out of the log: the link comes from the owner-only control socket.
    if (dashboard) logger.info({ dashboard: dashboard.origin }, `ecom: dashboard on ${dashboard.origin}/ (\`ecom status --web\` prints the link with its token)`)
  }

  try {
    await supervisor.done
  } finally {
    removeHandlers()
    await dashboard?.close()
    // After the workers drained: a payment in flight during the drain still reaches the sandbox.
    await sandbox?.stop()
    await control.close()
  }
  return { forced }
}
