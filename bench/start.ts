// `npm run bench start`: ecom start against pm2, raw node:cluster, one node process, bare node:http and
// fastify + @fastify/rate-limit, all serving the same hello world, driven by autocannon on 127.0.0.1.
// Each measurement is a few seconds; every process started here is stopped here (pm2 runs with its own
// temporary PM2_HOME and its daemon is killed at the end).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { median, type BenchRow, type BenchSuite } from './util.js'

interface AutocannonResult {
  requests: { average: number; total: number }
  errors: number
  timeouts: number
  non2xx: number
}
type Autocannon = (opts: { url: string; connections: number; duration: number }, cb: (err: Error | null, r: AutocannonResult) => void) => unknown
// autocannon ships no types; this is the slice used here.
const autocannon = ((await import('autocannon' as string)) as { default: Autocannon }).default

const root = fileURLToPath(new URL('..', import.meta.url))
const apps = join(root, 'test/fixtures/apps')
const ECOM = join(root, 'bin/ecom.js')
const PM2 = join(root, 'node_modules/pm2/bin/pm2')
const SECONDS = Number(process.env.ECOM_BENCH_SECONDS ?? 3)
// Two workers and autocannon share this machine's two cores, so one 3 s round of a cluster can land
// anywhere in 47-58k req/s; more rounds narrow the median's error (about by the square root). With 15
// rounds, ecom's cluster against pm2's moved between 0.96x and 1.07x over the last five full runs of the same
// code, so 25 it is.
const ROUNDS = Number(process.env.ECOM_BENCH_ROUNDS ?? 25)
const CONNECTIONS = 50

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

function status(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(0))
    req.setTimeout(1000, () => req.destroy())
    req.end()
  })
}

/** Poll until the first 200; returns the milliseconds since `since`. */
async function firstOk(url: string, since: number, timeoutMs = 30_000): Promise<number> {
  while (performance.now() - since < timeoutMs) {
    if ((await status(url)) === 200) return performance.now() - since
    await sleep(5)
  }
  throw new Error(`no 200 from ${url} within ${timeoutMs}ms`)
}

interface Cannon {
  rps: number
  failed: number
  total: number
}

function cannon(url: string, seconds = SECONDS): Promise<Cannon> {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds }, (err, r) => {
      if (err) return reject(err)
      resolve({ rps: r.requests.average, failed: r.errors + r.timeouts + r.non2xx, total: r.requests.total })
    })
  })
}

/**
 * Every server runs in a session of its own (`detached`: setsid), as pm2's daemon does. Linux's
 * scheduler autogroups by session: a server left in the bench's session would share one CPU share
 * with autocannon, while pm2's workers get a share of their own; on two cores that alone moved a
 * raw node:cluster by 7-14%.
 */
function node(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: 'ignore', detached: true })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000)
  await exited
  clearTimeout(t)
}

/** CPU seconds (user + system) used so far by a process and all its descendants (Linux /proc). */
function treeCpuSeconds(root: number): number {
  const parent = new Map<number, number>()
  const ticks = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      parent.set(Number(entry), Number(fields[1]))
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]))
    } catch {
      // exited meanwhile
    }
  }
  let total = 0
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += t
        break
      }
    }
  }
  return total / 100 // USER_HZ
}

interface Contender {
  name: string
  url: string
  /** Root of the process tree that serves (for CPU accounting). */
  pid: () => number
  stop: () => Promise<void> | void
  /** Requests/s of each round. */
  rps: number[]
  /** CPU milliseconds the process tree spent per 1000 requests, each round. */
  cpuPerKReq: number[]
}

/**
 * Measure several servers that run side by side: each gets a warm-up, then `ROUNDS` rounds in which
 * every one is driven in turn. The order rotates from round to round (A B C, B C A, C A B ...), so
 * a burst of load from elsewhere on the machine, or the client's own warming up, falls on every
 * contender alike, and none always runs right after the same neighbour. Each contender's figure is
 * the median of its rounds. The CPU its process tree spends per 1000 requests is recorded too: on a
 * shared machine it moves far less than requests/s.
 */
async function interleaved(contenders: Contender[]): Promise<void> {
  for (const c of contenders) await cannon(c.url, 1)
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(r + i) % contenders.length]!
      const cpu0 = treeCpuSeconds(c.pid())
      const res = await cannon(c.url)
      const cpu = treeCpuSeconds(c.pid()) - cpu0
      c.rps.push(res.rps)
      c.cpuPerKReq.push(res.total > 0 ? (cpu * 1e6) / res.total : Number.NaN)
    }
  }
}

async function serverContender(name: string, template: string[], env: NodeJS.ProcessEnv = {}): Promise<Contender> {
  const port = await freePort()
  const child = node(template.map((a) => a.replaceAll('{port}', String(port))), { ...env, PORT: String(port) })
  const url = `http://127.0.0.1:${port}/`
  await firstOk(url, performance.now())
  return { name, url, pid: () => child.pid!, stop: () => stop(child), rps: [], cpuPerKReq: [] }
}

async function pm2Contender(pm2: Pm2): Promise<Contender> {
  const port = await freePort()
  await pm2.exec(['start', join(apps, 'hello-server.cjs'), '-i', '2', '--name', 'hello'], { PORT: String(port) })
  const url = `http://127.0.0.1:${port}/`
  await firstOk(url, performance.now())
  // The pm2 daemon is the parent of its workers: its tree is what pm2 costs.
  const daemon = Number(readFileSync(join(pm2.home, 'pm2.pid'), 'utf8'))
  return { name: 'pm2 start -i 2', url, pid: () => daemon, stop: () => pm2.kill(), rps: [], cpuPerKReq: [] }
}

const ecomArgs = (app: string, ...extra: string[]): string[] =>
  [ECOM, 'start', join(apps, app), '--port', '{port}', '--host', '127.0.0.1', '--name', `bench-{port}`, ...extra]

class Pm2 {
  readonly home = mkdtempSync(join(tmpdir(), 'ecom-bench-pm2-'))
  readonly env = { ...process.env, PM2_HOME: this.home }

  cmd(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
    return spawn(process.execPath, [PM2, ...args], { env: { ...this.env, ...env }, stdio: 'ignore' })
  }

  async exec(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
    const child = this.cmd(args, env)
    const code = await new Promise((r) => child.once('exit', r))
    if (code !== 0) throw new Error(`pm2 ${args.join(' ')} exited ${String(code)}`)
  }

  kill(): void {
    spawnSync(process.execPath, [PM2, 'kill'], { env: this.env, stdio: 'ignore', timeout: 20_000 })
    rmSync(this.home, { recursive: true, force: true })
  }
}

/** Milliseconds from launching the start command to the first 200, median of `runs`. */
async function timeToFirst200(launch: (port: number) => { child: ChildProcess; cleanup: () => Promise<void> | void }, runs = 3): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const port = await freePort()
    const t0 = performance.now()
    const { child, cleanup } = launch(port)
    try {
      times.push(await firstOk(`http://127.0.0.1:${port}/`, t0))
    } finally {
      await stop(child)
      await cleanup()
    }
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
}

/** Failed requests (errors, timeouts, non-2xx) while a reload runs in the middle of a 4 s load. */
async function failedDuringReload(startUp: (port: number) => Promise<{ reload: () => Promise<void>; cleanup: () => Promise<void> | void }>): Promise<Cannon> {
  const port = await freePort()
  const { reload, cleanup } = await startUp(port)
  try {
    await firstOk(`http://127.0.0.1:${port}/`, performance.now())
    const load = cannon(`http://127.0.0.1:${port}/`, 4)
    await sleep(1000)
    await reload()
    return await load
  } finally {
    await cleanup()
  }
}

export const suite: BenchSuite = {
  area: 'start',
  async run(): Promise<BenchRow[]> {
    // bin/ecom.js runs the compiled CLI, like an installed package would.
    if (!existsSync(join(root, 'dist/cli/index.js'))) throw new Error('bench start: run `npm run build` first')
    const rows: BenchRow[] = []
    const note = `autocannon ${CONNECTIONS} connections, ${SECONDS}s`

    const rowsOf = (group: string, cs: Contender[], ours: string, target: string): void => {
      for (const c of cs) {
        const mine = c.name === ours
        rows.push({
          group,
          name: c.name,
          value: median(c.rps),
          unit: 'req/s',
          higherIsBetter: true,
          ...(mine ? { ours: true, target } : {}),
          note: `${note}, median of ${ROUNDS} rotating rounds (${c.rps.map((x) => Math.round(x / 1000)).join('/')}k); ${median(c.cpuPerKReq).toFixed(1)} CPU ms per 1000 requests`,
        })
      }
    }

    // 1. Throughput with 2 workers: all four run side by side and are measured in turns.
    const pm2 = new Pm2()
    const g1: Contender[] = []
    try {
      g1.push(await serverContender('ecom start --workers 2', ecomArgs('hello-handler.mjs', '--workers', '2')))
      g1.push(await pm2Contender(pm2))
      g1.push(await serverContender('raw node:cluster (2 workers)', [join(apps, 'hello-cluster.cjs')], { WORKERS: '2' }))
      g1.push(await serverContender('one node process', [join(apps, 'hello-server.cjs')]))
      await interleaved(g1)
    } finally {
      for (const c of g1) await c.stop()
      pm2.kill()
    }
    rowsOf('hello world, 2 workers: requests/s', g1, 'ecom start --workers 2', '>= 1.0x pm2, >= 0.95x raw node:cluster')

    // 2. The hardened edge, one process each.
    const g2: Contender[] = []
    try {
      // The rate limit counts every request; with this quota no answer comes near it, so by default
      // (--rate-limit-headers near-limit) none carries the RateLimit headers.
      g2.push(await serverContender('ecom edge (rate limit + metrics; quota headers near the limit)', ecomArgs('hello-handler.mjs', '--workers', '1', '--rate-limit', '1000000000/1m')))
      // Context, not a target: the same edge putting the quota headers on every answer, as fastify's does.
      g2.push(await serverContender('ecom edge, RateLimit headers on every answer (--rate-limit-headers always)', ecomArgs('hello-handler.mjs', '--workers', '1', '--rate-limit', '1000000000/1m', '--rate-limit-headers', 'always')))
      g2.push(await serverContender('bare node:http', [join(apps, 'hello-server.cjs')]))
      // Context, not a target: bare node:http with the nextTick fix every ecom process applies to itself
      // (docs/start.md, "After an idle spell"). Node's idle slowdown hits a process in some runs and not
      // in others; this row shows the peer as it runs when it is spared.
      const keepTick = `import { keepNextTickFast } from ${JSON.stringify(pathToFileURL(join(root, 'dist/runtime/next-tick.js')).href)}; keepNextTickFast()`
      g2.push(await serverContender('(context) bare node:http + keepNextTickFast()', ['--import', `data:text/javascript,${encodeURIComponent(keepTick)}`, join(apps, 'hello-server.cjs')]))
      // Context, not a target: ecom's edge writes `Content-Type` in lower case, which node:http handles
      // for less; this is bare node:http with the app itself doing that, so what the edge costs shows.
      g2.push(await serverContender('(context) node:http, the app writing its header name in lower case', [join(apps, 'hello-server-lower.cjs')]))
      g2.push(await serverContender('fastify + @fastify/rate-limit', [join(apps, 'fastify-rate-limit.cjs')]))
      await interleaved(g2)
    } finally {
      for (const c of g2) await c.stop()
    }
    rowsOf('hardened edge, one process: requests/s', g2, 'ecom edge (rate limit + metrics; quota headers near the limit)', '>= 0.9x bare node:http')

    // 3. Start to first 200 (2 workers).
    const g3 = 'start to first 200, 2 workers (median of 3)'
    const ecomReady = await timeToFirst200((port) => ({
      child: node([ECOM, 'start', join(apps, 'hello-handler.mjs'), '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--name', `ready-${port}`]),
      cleanup: () => {},
    }))
    rows.push({ group: g3, name: 'ecom start --workers 2', value: ecomReady, unit: 'ms', higherIsBetter: false, ours: true, target: '<= 0.5x pm2' })
    const pm2Ready = await timeToFirst200((port) => {
      const p = new Pm2()
      return { child: p.cmd(['start', join(apps, 'hello-server.cjs'), '-i', '2', '--name', 'hello'], { PORT: String(port) }), cleanup: () => p.kill() }
    })
    rows.push({ group: g3, name: 'pm2 start -i 2', value: pm2Ready, unit: 'ms', higherIsBetter: false, note: 'fresh PM2_HOME: includes starting the pm2 daemon' })
    const warm = new Pm2()
    try {
      await warm.exec(['ping'])
      const pm2Warm = await timeToFirst200((port) => {
        const name = `hello-${port}`
        return { child: warm.cmd(['start', join(apps, 'hello-server.cjs'), '-i', '2', '--name', name], { PORT: String(port) }), cleanup: () => warm.exec(['delete', name]) }
      })
      rows.push({ group: g3, name: 'pm2 start -i 2 (daemon already up)', value: pm2Warm, unit: 'ms', higherIsBetter: false })
    } finally {
      warm.kill()
    }

    // 4. Failed requests during a reload under load.
    const g4 = 'failed requests during a reload under load (4 s load, reload at 1 s)'
    const ecomReload = await failedDuringReload(async (port) => {
      const child = node([ECOM, 'start', join(apps, 'hello-handler.mjs'), '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--name', `reload-${port}`])
      return {
        reload: async () => {
          const r = spawn(process.execPath, [ECOM, 'reload', '--port', String(port)], { stdio: 'ignore' })
          await new Promise((res) => r.once('exit', res))
        },
        cleanup: () => stop(child),
      }
    })
    rows.push({ group: g4, name: 'ecom reload', value: ecomReload.failed, unit: 'failed', higherIsBetter: false, ours: true, target: '0', note: `of ${ecomReload.total} requests` })
    const pm2Reload = await failedDuringReload(async (port) => {
      const p = new Pm2()
      await p.exec(['start', join(apps, 'hello-server.cjs'), '-i', '2', '--name', 'hello'], { PORT: String(port) })
      return { reload: () => p.exec(['reload', 'hello'], { PORT: String(port) }), cleanup: () => p.kill() }
    })
    rows.push({ group: g4, name: 'pm2 reload', value: pm2Reload.failed, unit: 'failed', higherIsBetter: false, note: `of ${pm2Reload.total} requests` })
    return rows
  },
}
