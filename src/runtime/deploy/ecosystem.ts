import { existsSync } from 'node:fs'
import { basename, extname, isAbsolute, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvalidOptionError } from '../../errors.js'
import { validateRedisUrl } from '../redis/url.js'
import { parseRateLimit, parseRateLimitHeaders } from '../supervisor/options.js'

/** `ecom deploy pm2` options, as typed values. Strings from flags go through `resolveEcosystemOptions`. */
export interface EcosystemOptions {
  /** The app's entry, relative to `cwd` (what `ecom start` serves). */
  entry: string
  /** The PM2 app name. @default package.json name, else the entry's base name */
  name: string
  /** The app folder on this machine; paths in the file are relative to it. */
  cwd: string
  /** ecom workers inside the one PM2 process. @default "auto" */
  workers: 'auto' | number
  /** @default 3000 */
  port: number
  /** Bind address handed to `ecom start --host`. @default "0.0.0.0" */
  bind: string
  /** Per-worker RSS limit ecom enforces by a graceful replacement (`ecom start --max-memory`). @default null */
  maxMemory: string | null
  /** PM2's `max_memory_restart` for the ecom primary itself (a safety net; workers are ecom's). @default "512M" */
  primaryMaxMemory: string
  /** ecom's drain window (`ecom start --grace`), in ms. PM2's kill timeout is derived from it. @default 10000 */
  graceMs: number
  /**
   * The `ecom start` flags after the ones above: the edge flags deploy takes itself (`--rate-limit`,
   * `--rate-limit-headers`, `--trust-proxy`, `--redis`), then any extra ones. @default []
   */
  startArgs: string[]
  /** Variables for every environment. @default {} */
  env: Record<string, string>
  /** Variables for `--env production`. @default {} */
  envProduction: Record<string, string>
  /** Log folder, relative to cwd; PM2 writes `<name>-out-<id>.log` and `<name>-error-<id>.log` there. @default "logs" */
  logDir: string
  /** PM2 deploy targets `user@host`; empty means no deploy section. @default [] */
  hosts: string[]
  /** Git repository the hosts clone. Required with hosts. */
  repo: string | null
  /** Folder on the hosts. Required with hosts. */
  path: string | null
  /** @default "origin/main" */
  ref: string
  /** The ecom CLI as PM2 starts it: the app's node_modules/.bin/ecom when present, else this CLI. */
  ecomBin: string
}

/** Margin PM2 gives ecom past its own grace before SIGKILL: ecom forces remaining sockets closed at grace. */
export const KILL_MARGIN_MS = 5_000
/** How long PM2 waits for the primary's "ready" message (sent once every worker listens). */
export const LISTEN_TIMEOUT_MS = 30_000
const CWD_PLACEHOLDER = '__ECOM_DIRNAME__'

function selfBin(): string {
  return fileURLToPath(new URL('../../../bin/ecom.js', import.meta.url))
}

/** Pick the ecom CLI PM2 should run: the app's own install keeps the file portable across hosts. */
export function locateEcomBin(cwd: string): string {
  const local = join(cwd, 'node_modules', '.bin', 'ecom')
  if (existsSync(local)) return 'node_modules/.bin/ecom'
  return selfBin()
}

export function defaultAppName(cwd: string, entry: string, pkgName: string | undefined): string {
  const raw = pkgName ?? basename(entry, extname(entry))
  return raw.replace(/^@[^/]+\//, '').replace(/[^A-Za-z0-9_.-]/g, '-')
}

function parseEnvPairs(pairs: string[], path: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const p of pairs) {
    const i = p.indexOf('=')
    if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.slice(0, i))) throw new InvalidOptionError(`${path} must be KEY=VALUE, got ${JSON.stringify(p)}`)
    env[p.slice(0, i)] = p.slice(i + 1)
  }
  return env
}

export interface EcosystemInput {
  entry: string
  cwd: string
  pkgName?: string
  name?: string
  workers?: string
  port?: string
  bind?: string
  maxMemory?: string
  primaryMaxMemory?: string
  grace?: string
  /** `ecom start --rate-limit`, e.g. "100/1m". */
  rateLimit?: string
  /** `ecom start --rate-limit-headers`: "near-limit" or "always"; needs rateLimit. */
  rateLimitHeaders?: string
  /** `ecom start --trust-proxy`: a fleet behind a load balancer keys the quota on X-Forwarded-For. */
  trustProxy?: boolean
  /** `ecom start --redis`. */
  redis?: string
  /** Further `ecom start` flags, passed as they are. */
  startArgs?: string[]
  env?: string[]
  envProduction?: string[]
  logDir?: string
  host?: string
  repo?: string
  path?: string
  ref?: string
}

function parseDurationMs(v: string, path: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$/i.exec(v)
  if (!m) throw new InvalidOptionError(`${path} must be a duration such as "10s" or "1500ms", got ${JSON.stringify(v)}`)
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000 }[(m[2] ?? 'ms').toLowerCase() as 'ms']
  return Math.round(Number(m[1]) * unit)
}

/** Validate once, with messages that name the option and what was expected; report every problem. */
export function resolveEcosystemOptions(input: EcosystemInput): EcosystemOptions {
  const problems: string[] = []
  const check = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn()
    } catch (err) {
      problems.push((err as Error).message)
      return fallback
    }
  }
  if (isAbsolute(input.entry)) input = { ...input, entry: relative(input.cwd, input.entry) || input.entry }
  const workers = check((): 'auto' | number => {
    const w = input.workers ?? 'auto'
    if (w === 'auto') return 'auto'
    if (!/^\d+$/.test(w) || Number(w) < 1) throw new InvalidOptionError(`--workers must be "auto" or a positive integer, got ${JSON.stringify(w)}`)
    return Number(w)
  }, 'auto')
  const port = check(() => {
    const p = input.port ?? '3000'
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw new InvalidOptionError(`--port must be an integer from 1 to 65535, got ${JSON.stringify(p)}`)
    return Number(p)
  }, 3000)
  const graceMs = check(() => parseDurationMs(input.grace ?? '10s', '--grace'), 10_000)
  const memory = (v: string | undefined, path: string): string | null => {
    if (v === undefined) return null
    const m = /^\s*(\d+)\s*(k|kb|m|mb|g|gb)?\s*$/i.exec(v)
    if (!m) {
      problems.push(`${path} must be a size such as "512M" or "1G", got ${JSON.stringify(v)}`)
      return null
    }
    return `${m[1]}${(m[2] ?? '').charAt(0).toUpperCase()}`
  }
  const hosts = (input.host ?? '').split(',').map((h) => h.trim()).filter(Boolean)
  for (const h of hosts) if (!/^[A-Za-z0-9._-]+@[A-Za-z0-9.:_-]+$/.test(h)) problems.push(`--host must be a comma-separated list of user@host, got ${JSON.stringify(h)}`)
  if (hosts.length > 0 && !input.repo) problems.push('--repo is required with --host (the git URL the hosts clone)')
  if (hosts.length > 0 && !input.path) problems.push('--path is required with --host (the folder on the hosts)')
  if (hosts.length === 0 && (input.repo || input.path)) problems.push('--repo and --path need --host user@h1[,user@h2]')
  const env = check(() => parseEnvPairs(input.env ?? [], '--set'), {})
  const envProduction = check(() => parseEnvPairs(input.envProduction ?? [], '--set-production'), {})
  const name = input.name ?? defaultAppName(input.cwd, input.entry, input.pkgName)
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) problems.push(`--name must use letters, digits, ".", "_" or "-", got ${JSON.stringify(name)}`)
  const maxMemory = memory(input.maxMemory, '--max-memory')
  const primaryMaxMemory = memory(input.primaryMaxMemory ?? '512M', '--primary-max-memory') ?? '512M'
  // The edge flags are checked here, so a bad value fails now and not when PM2 starts the app.
  const startArgs: string[] = []
  if (input.rateLimit !== undefined && check(() => parseRateLimit(input.rateLimit!, '--rate-limit'), null)) {
    startArgs.push('--rate-limit', input.rateLimit)
  }
  if (input.rateLimitHeaders !== undefined) {
    const headers = check(() => parseRateLimitHeaders(input.rateLimitHeaders, input.rateLimit, '--rate-limit-headers'), null)
    if (headers) startArgs.push('--rate-limit-headers', headers)
  }
  if (input.trustProxy) startArgs.push('--trust-proxy')
  if (input.redis !== undefined && check(() => validateRedisUrl(input.redis!, '--redis'), null)) startArgs.push('--redis', input.redis)
  if (problems.length > 0) throw new InvalidOptionError(problems.join('; '), { details: { problems } })
  return {
    entry: input.entry,
    name,
    cwd: input.cwd,
    workers,
    port,
    bind: input.bind ?? '0.0.0.0',
    maxMemory,
    primaryMaxMemory,
    graceMs,
    startArgs: [...startArgs, ...(input.startArgs ?? [])],
    env,
    envProduction,
    logDir: input.logDir ?? 'logs',
    hosts,
    repo: input.repo ?? null,
    path: input.path ?? null,
    ref: input.ref ?? 'origin/main',
    ecomBin: locateEcomBin(input.cwd),
  }
}

/** The one PM2 app: ecom's own primary in fork mode, which runs and reloads the workers itself. */
export function buildEcosystem(o: EcosystemOptions): Record<string, unknown> {
  const args = ['start', o.entry, '--name', o.name, '--workers', String(o.workers), '--port', String(o.port), '--host', o.bind, '--grace', `${o.graceMs}ms`]
  if (o.maxMemory) args.push('--max-memory', o.maxMemory)
  args.push(...o.startArgs)
  const app: Record<string, unknown> = {
    name: o.name,
    // interpreter "none": PM2 spawns the ecom CLI itself (shebang), not through its ProcessContainerFork
    // wrapper, so node:cluster in the primary forks the real CLI and the IPC channel is PM2's.
    script: o.ecomBin,
    args,
    interpreter: 'none',
    exec_mode: 'fork',
    instances: 1,
    // Resolved where the file lives, so the same file works in every checkout on every host.
    cwd: CWD_PLACEHOLDER,
    // ecom drains its workers; PM2 must signal only the primary, never the whole tree.
    treekill: false,
    kill_signal: 'SIGTERM',
    kill_timeout: o.graceMs + KILL_MARGIN_MS,
    wait_ready: true,
    listen_timeout: LISTEN_TIMEOUT_MS,
    max_memory_restart: o.primaryMaxMemory,
    min_uptime: 5_000,
    max_restarts: 10,
    exp_backoff_restart_delay: 100,
    autorestart: true,
    merge_logs: false,
    out_file: join(o.logDir, `${o.name}-out.log`),
    error_file: join(o.logDir, `${o.name}-error.log`),
    log_date_format: 'YYYY-MM-DDTHH:mm:ss.SSSZ',
    time: false,
    env: { NODE_ENV: 'development', ...o.env },
    env_production: { NODE_ENV: 'production', ...o.env, ...o.envProduction },
  }
  const config: Record<string, unknown> = { apps: [app] }
  if (o.hosts.length > 0) {
    config.deploy = {
      production: {
        user: o.hosts[0]!.split('@')[0],
        host: o.hosts.map((h) => h.split('@')[1]),
        ref: o.ref,
        repo: o.repo,
        path: o.path,
        // `ecom deploy pm2 --reload` starts the app when it is not running and otherwise sends SIGHUP:
        // ecom's rolling reload, which drops nothing (PM2's own reload of a fork app is a restart).
        'post-deploy': 'npm ci && npx ecom deploy pm2 --reload --env production',
      },
    }
  }
  return config
}

export function renderEcosystem(config: Record<string, unknown>, o: EcosystemOptions): string {
  return (
    `// Written by \`ecom deploy pm2\`. PM2 runs ecom's own primary in fork mode (one PM2 app); ecom runs\n` +
    `// ${o.workers === 'auto' ? 'one worker per CPU' : `${o.workers} worker(s)`}, shares the rate-limit quota, aggregates /metrics and reloads with zero\n` +
    `// dropped requests. Reload with \`ecom deploy pm2 --reload\` (SIGHUP), not \`pm2 reload\` (a restart).\n` +
    `module.exports = ${JSON.stringify(config, null, 2).replace(JSON.stringify(CWD_PLACEHOLDER), '__dirname')}\n`
  )
}
