// Shared by the start-*.test.ts files: boot the real CLI on a free port, wait for it, drive load.
import type { ChildProcess } from 'node:child_process'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort, runCli, startCli, type RunResult } from '../helpers/cli.js'
import { tempDir } from '../helpers/temp-dir.js'

export const APPS = fileURLToPath(new URL('../fixtures/apps/', import.meta.url))
export const app = (file: string): string => join(APPS, file)

/** Each test file gets its own control-socket directory so files never see each other's apps. */
export function isolatedEnv(): NodeJS.ProcessEnv {
  return { XDG_RUNTIME_DIR: tempDir('start-test'), ECOM_LOG_LEVEL: 'warn' }
}

export interface Running {
  child: ChildProcess & { output: () => string }
  port: number
  url: string
  env: NodeJS.ProcessEnv
  cli: (args: string[]) => Promise<RunResult>
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export async function startApp(args: string[], env: NodeJS.ProcessEnv, opts: { workers?: number; port?: number } = {}): Promise<Running> {
  const port = opts.port ?? (await freePort())
  const child = startCli(['start', ...args, '--port', String(port), '--host', '127.0.0.1'], { env })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  )
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  let up = false
  let done = false
  void exited.then(() => (done = true))
  while (!up && !done && Date.now() < deadline) {
    try {
      const r = await get(`${url}/healthz`)
      up = r.status === 200
    } catch {
      await sleep(50)
    }
  }
  if (!up) {
    child.kill('SIGKILL')
    throw new Error(`app did not come up: ${child.output()}`)
  }
  if (opts.workers && opts.workers > 1) {
    // /healthz answers once one worker listens; wait until the primary reports them all.
    while (Date.now() < deadline) {
      const st = await runCli(['status', '--json', '--port', String(port)], { env })
      const parsed = st.code === 0 ? (JSON.parse(st.stdout) as { workers: Array<{ state: string }> }) : undefined
      if (parsed && parsed.workers.filter((w) => w.state === 'listening').length >= opts.workers) break
      await sleep(100)
    }
  }
  return {
    child,
    port,
    url,
    env,
    exited,
    cli: (a) => runCli(a, { env }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const r = await exited
      clearTimeout(t)
      return r
    },
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export function get(
  url: string,
  opts: { headers?: Record<string, string>; agent?: Agent; method?: string; body?: string; timeoutMs?: number } = {}
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('timeout')))
    req.end(opts.body)
  })
}

export interface LoadResult {
  total: number
  ok: number
  non2xx: number
  errors: number
  errorMessages: string[]
  pids: Set<number>
}

/**
 * Continuous keep-alive load: `concurrency` loops, each sending the next request as soon as the last
 * one finished, until stop() is called. Counts every non-2xx answer and every errored request.
 */
export function load(url: string, concurrency = 8): { stop: () => Promise<LoadResult> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const result: LoadResult = { total: 0, ok: 0, non2xx: 0, errors: 0, errorMessages: [], pids: new Set() }
  let running = true
  const loop = async (): Promise<void> => {
    while (running) {
      try {
        const r = await get(url, { agent })
        result.total++
        if (r.status >= 200 && r.status < 300) {
          result.ok++
          const pid = (JSON.parse(r.body) as { pid?: number }).pid
          if (pid) result.pids.add(pid)
        } else result.non2xx++
      } catch (err) {
        result.total++
        result.errors++
        if (result.errorMessages.length < 5) result.errorMessages.push((err as Error).message)
      }
    }
  }
  const loops = Array.from({ length: concurrency }, loop)
  return {
    stop: async () => {
      running = false
      await Promise.all(loops)
      agent.destroy()
      return result
    },
  }
}

export interface StatusJson {
  name: string
  pid: number
  mode: string
  workers: Array<{ id: number; pid: number; state: string; restarts: number; rss: number; requests: number; uptimeMs: number }>
}

export async function status(r: Running): Promise<StatusJson> {
  const s = await r.cli(['status', '--json', '--port', String(r.port)])
  if (s.code !== 0) throw new Error(`status failed: ${s.stderr}`)
  return JSON.parse(s.stdout) as StatusJson
}

export async function waitFor<T>(fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('condition not met in time')
    await sleep(100)
  }
}
