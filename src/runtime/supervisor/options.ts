import { availableParallelism } from 'node:os'
import { basename, extname, resolve } from 'node:path'
import { InvalidOptionError } from '../../errors.js'
// scale-out hook (issue 7): Redis-backed shared state for `--redis`
import { resolveStartRedis, type StartRedisOptions } from '../redis/start-hook.js'

/** The hardened HTTP edge around the user's handler, in every worker. */
export interface EdgeOptions {
  /** Open connections per worker; over it, a request gets 503 and `Connection: close`. @default 10000 */
  maxConnections: number
  /** Time allowed to receive a request's headers; a trickling client gets 408 and is cut off. @default 10000 */
  headersTimeoutMs: number
  /** Time allowed to receive a whole request. @default 30000 */
  requestTimeoutMs: number
  /** Idle time before a keep-alive connection is closed. @default 5000 */
  keepAliveTimeoutMs: number
  /** Largest request head (request line plus headers) in bytes; over it, 431. @default 16384 */
  maxHeaderSize: number
  /** Largest request body in bytes; over it, 413 without buffering the body. @default 1048576 */
  bodyLimit: number
  /** Per-client quota shared by the whole cluster, or null for none. @default null */
  rateLimit: { limit: number; windowMs: number } | null
  /**
   * Which answers carry the `RateLimit-Policy` and `RateLimit` headers. `"near-limit"`: a refused
   * request (429) and every answer once the client has used half its quota or more, as the IETF draft
   * allows for performance (section 6.2) and so that a client far from its limit is not told the
   * quota (section 8.2). `"always"`: every answer of the edge's rate limit, as express-rate-limit
   * and @fastify/rate-limit do. @default "near-limit"
   */
  rateLimitHeaders: RateLimitHeaders
  /** Take the client address from `X-Forwarded-For` (only behind a proxy you trust). @default false */
  trustProxy: boolean
  /** Prometheus text path, or null to turn it off. @default "/metrics" */
  metricsPath: string | null
  /** Liveness path. @default "/healthz" */
  healthPath: string
  /** Readiness path (503 while draining). @default "/readyz" */
  readyPath: string
  /** Log every request at info level. @default false */
  accessLog: boolean
  /**
   * Send every response header name exactly as the app spelled it. By default the usual spelling of
   * common names (`Content-Type`) goes out in lower case, which node:http handles for less
   * (docs/start.md, "The hardened edge"). @default false
   */
  preserveHeaderCase: boolean
}

export type RateLimitHeaders = 'always' | 'near-limit'

/** `--sandbox`: the payment sandbox as a supervised sidecar. */
export interface SandboxStartOptions {
  /** Port of the sandbox; 0 picks a free one once at start. @default 0 */
  port: number
  /** Where the sandbox POSTs its signed webhooks: an absolute URL, or a path on the app's own address; `{provider}` is replaced by the provider name. @default null */
  webhooks: string | null
}

/** The live dashboard in the primary. */
export interface DashboardOptions {
  /** @default "127.0.0.1" */
  host: string
  /** 0 picks a free port. @default 0 */
  port: number
}

export interface StartOptions {
  /** Absolute path of the entry file. */
  entry: string
  /** Name used for the control socket. @default the entry file name without extension */
  name: string
  /** Number of workers; 1 means a single process without cluster. @default "auto" (available parallelism) */
  workers: number
  port: number
  host: string
  /** Replace a worker whose RSS exceeds this many bytes, or null. @default null */
  maxMemory: number | null
  /** How long draining may take before connections are cut. @default 10000 */
  graceMs: number
  /** Consecutive crashes (none staying up 30 s) after which a slot is given up. @default 10 */
  crashLimit: number
  envFile: string | null
  verbose: boolean
  edge: EdgeOptions
  /** scale-out hook (issue 7): shared state in Redis across instances, or null. @default null */
  redis?: StartRedisOptions | null
  /** The payment sandbox sidecar, or null. @default null */
  sandbox: SandboxStartOptions | null
  /** The dashboard, or null for `--no-dashboard`. @default { host: "127.0.0.1", port: 0 } */
  dashboard: DashboardOptions | null
}

export const EDGE_DEFAULTS: EdgeOptions = {
  maxConnections: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 16 * 1024,
  bodyLimit: 1024 * 1024,
  rateLimit: null,
  rateLimitHeaders: 'near-limit',
  trustProxy: false,
  metricsPath: '/metrics',
  healthPath: '/healthz',
  readyPath: '/readyz',
  accessLog: false,
  preserveHeaderCase: false,
}

export const START_DEFAULTS = {
  workers: 'auto' as const,
  port: 3000,
  host: '0.0.0.0',
  maxMemory: null,
  graceMs: 10_000,
  crashLimit: 10,
}

/** What the CLI (or a caller) hands in: strings straight from flags, or already typed values. */
export interface StartInput {
  entry: string
  name?: string
  workers?: string | number
  port?: string | number
  host?: string
  maxMemory?: string | number
  grace?: string | number
  crashLimit?: string | number
  envFile?: string
  verbose?: boolean
  maxConnections?: string | number
  headersTimeout?: string | number
  requestTimeout?: string | number
  keepAliveTimeout?: string | number
  maxHeaderSize?: string | number
  bodyLimit?: string | number
  rateLimit?: string
  rateLimitHeaders?: string
  trustProxy?: boolean
  metricsPath?: string | false
  healthPath?: string
  readyPath?: string
  accessLog?: boolean
  preserveHeaderCase?: boolean
  /** scale-out hook (issue 7) */
  redis?: string
  redisFailMode?: string
  redisPrefix?: string
  /** `--sandbox [port]`: true (a free port) or a port. */
  sandbox?: boolean | string | number
  sandboxWebhooks?: string
  /** `--dashboard [host:]port`, or false for `--no-dashboard`. */
  dashboard?: string | false
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 }
const TIME_UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }

function fail(path: string, expected: string, got: unknown): never {
  throw new InvalidOptionError(`${path} must be ${expected}, got ${JSON.stringify(String(got))}`)
}

/** "512mb", "1g", "4096" -> bytes. */
export function parseSize(value: string | number, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.floor(value)
    fail(path, 'a positive size such as "512mb"', value)
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined
  if (!m || unit === undefined || Number(m[1]) <= 0) fail(path, 'a positive size such as "512mb" or "1g"', value)
  return Math.floor(Number(m[1]) * unit)
}

/** "10s", "500ms", "1m", "2000" -> milliseconds. */
export function parseDuration(value: string | number, path: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value)
    fail(path, 'a duration such as "10s"', value)
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = m ? TIME_UNITS[m[2]!.toLowerCase()] : undefined
  if (!m || unit === undefined) fail(path, 'a duration such as "10s", "500ms" or "1m"', value)
  return Math.floor(Number(m[1]) * unit)
}

function parseInteger(value: string | number, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(n) || n < min || n > max) fail(path, `an integer from ${min} to ${max}`, value)
  return n
}

export function parseWorkers(value: string | number): number {
  if (value === 'auto') return availableParallelism()
  const n = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > 1024) fail('options.workers', '"auto" or a positive integer', value)
  return n
}

/** "100/1m", "20/10s" -> { limit, windowMs }. */
export function parseRateLimit(value: string, path = 'options.rateLimit'): { limit: number; windowMs: number } {
  const m = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value)
  if (!m) fail(path, '"<requests>/<window>" such as "100/1m"', value)
  const limit = parseInteger(m[1]!, path, 1)
  const windowMs = parseDuration(m[2]!, path)
  if (windowMs < 1) fail(path, 'a window of at least 1ms', value)
  return { limit, windowMs }
}

export function parseRateLimitHeaders(value: string | undefined, rateLimit: string | undefined, path = 'options.rateLimitHeaders'): RateLimitHeaders {
  if (value === undefined) return EDGE_DEFAULTS.rateLimitHeaders
  if (rateLimit === undefined) fail(path, 'used together with --rate-limit', value)
  if (value !== 'always' && value !== 'near-limit') fail(path, '"always" or "near-limit"', value)
  return value
}

function parsePath(value: string, path: string): string {
  if (!value.startsWith('/') || /\s/.test(value)) fail(path, 'a path starting with "/"', value)
  return value
}

function parseSandbox(input: StartInput, appPort: number): SandboxStartOptions | null {
  if (input.sandbox === undefined || input.sandbox === false) {
    if (input.sandboxWebhooks !== undefined) fail('options.sandboxWebhooks', 'used together with --sandbox', input.sandboxWebhooks)
    return null
  }
  const port = input.sandbox === true ? 0 : parseInteger(input.sandbox, 'options.sandbox', 0, 65535)
  let webhooks: string | null = null
  if (input.sandboxWebhooks !== undefined) {
    const w = input.sandboxWebhooks
    if (w.startsWith('/')) {
      if (/\s/.test(w)) fail('options.sandboxWebhooks', 'an absolute http(s) URL or a path starting with "/"', w)
      // The path is joined to the app's own port, which is unknown until the workers listen on port 0.
      if (appPort === 0) fail('options.sandboxWebhooks', 'an absolute URL when --port is 0 (a path needs the app\'s port)', w)
    } else {
      let u: URL | undefined
      try {
        u = new URL(w)
      } catch {
        // reported below
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) fail('options.sandboxWebhooks', 'an absolute http(s) URL or a path starting with "/"', w)
    }
    webhooks = w
  }
  return { port, webhooks }
}

/** "4000", "127.0.0.1:4000", "[::1]:4000", "0.0.0.0:0" -> { host, port }. */
export function parseDashboard(value: string | false | undefined): DashboardOptions | null {
  if (value === false) return null
  if (value === undefined) return { host: '127.0.0.1', port: 0 }
  const m = /^\s*(?:(\[[0-9a-fA-F:.]+\]|[^:\s]+):)?(\d+)\s*$/.exec(value)
  if (!m) fail('options.dashboard', '"[host:]port" such as "4000" or "127.0.0.1:4000"', value)
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '')
  return { host, port: parseInteger(m[2]!, 'options.dashboard', 0, 65535) }
}

/** The app's own address as seen from this machine (a wildcard bind is reached through loopback). */
export function appOrigin(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`
}

export function defaultName(entry: string): string {
  return basename(entry, extname(entry)).replace(/[^a-zA-Z0-9._-]/g, '_') || 'app'
}

/** Validate everything once; every later piece works with the filled, typed options. */
export function resolveStartOptions(input: StartInput): StartOptions {
  if (!input.entry) fail('entry', 'a path to a .js, .mjs or .ts file or a directory', input.entry)
  const entry = resolve(input.entry)
  const name = input.name === undefined ? defaultName(entry) : input.name
  if (!/^[a-zA-Z0-9._-]{1,64}$/.test(name)) fail('options.name', 'letters, digits, ".", "_" or "-" (at most 64)', name)
  const host = input.host ?? START_DEFAULTS.host
  if (host.length === 0) fail('options.host', 'a host name or address', host)
  const edge: EdgeOptions = {
    maxConnections: input.maxConnections === undefined ? EDGE_DEFAULTS.maxConnections : parseInteger(input.maxConnections, 'options.maxConnections', 1),
    headersTimeoutMs: input.headersTimeout === undefined ? EDGE_DEFAULTS.headersTimeoutMs : parseDuration(input.headersTimeout, 'options.headersTimeout'),
    requestTimeoutMs: input.requestTimeout === undefined ? EDGE_DEFAULTS.requestTimeoutMs : parseDuration(input.requestTimeout, 'options.requestTimeout'),
    keepAliveTimeoutMs: input.keepAliveTimeout === undefined ? EDGE_DEFAULTS.keepAliveTimeoutMs : parseDuration(input.keepAliveTimeout, 'options.keepAliveTimeout'),
    maxHeaderSize: input.maxHeaderSize === undefined ? EDGE_DEFAULTS.maxHeaderSize : parseSize(input.maxHeaderSize, 'options.maxHeaderSize'),
    bodyLimit: input.bodyLimit === undefined ? EDGE_DEFAULTS.bodyLimit : parseSize(input.bodyLimit, 'options.bodyLimit'),
    rateLimit: input.rateLimit === undefined ? null : parseRateLimit(input.rateLimit),
    rateLimitHeaders: parseRateLimitHeaders(input.rateLimitHeaders, input.rateLimit),
    trustProxy: input.trustProxy ?? EDGE_DEFAULTS.trustProxy,
    metricsPath: input.metricsPath === false ? null : input.metricsPath === undefined ? EDGE_DEFAULTS.metricsPath : parsePath(input.metricsPath, 'options.metricsPath'),
    healthPath: input.healthPath === undefined ? EDGE_DEFAULTS.healthPath : parsePath(input.healthPath, 'options.healthPath'),
    readyPath: input.readyPath === undefined ? EDGE_DEFAULTS.readyPath : parsePath(input.readyPath, 'options.readyPath'),
    accessLog: input.accessLog ?? EDGE_DEFAULTS.accessLog,
    preserveHeaderCase: input.preserveHeaderCase ?? EDGE_DEFAULTS.preserveHeaderCase,
  }
  // Node would answer a timed-out request only after the headers timeout; keep them in a sane order.
  if (edge.requestTimeoutMs !== 0 && edge.headersTimeoutMs > edge.requestTimeoutMs) {
    fail('options.headersTimeout', `at most options.requestTimeout (${edge.requestTimeoutMs}ms)`, input.headersTimeout)
  }
  const redis = resolveStartRedis(input, name) // scale-out hook (issue 7)
  const port = input.port === undefined ? START_DEFAULTS.port : parseInteger(input.port, 'options.port', 0, 65535)
  return {
    ...(redis ? { redis } : {}),
    entry,
    name,
    workers: parseWorkers(input.workers ?? START_DEFAULTS.workers),
    port,
    host,
    maxMemory: input.maxMemory === undefined ? START_DEFAULTS.maxMemory : parseSize(input.maxMemory, 'options.maxMemory'),
    graceMs: input.grace === undefined ? START_DEFAULTS.graceMs : parseDuration(input.grace, 'options.grace'),
    crashLimit: input.crashLimit === undefined ? START_DEFAULTS.crashLimit : parseInteger(input.crashLimit, 'options.crashLimit', 1),
    envFile: input.envFile === undefined ? null : resolve(input.envFile),
    verbose: input.verbose ?? false,
    edge,
    sandbox: parseSandbox(input, port),
    dashboard: parseDashboard(input.dashboard),
  }
}
