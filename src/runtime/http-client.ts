import type { IncomingHttpHeaders } from 'node:http'
import { debuglog } from 'node:util'
import { Pool, errors as undiciErrors, util as undiciUtil, type Dispatcher } from 'undici'
import { Counter, Gauge } from 'prom-client'
import {
  HttpCircuitOpenError,
  HttpClientClosedError,
  HttpConnectionError,
  HttpTimeoutError,
  InvalidOptionError,
  isEcomError,
} from '../errors.js'
import { getResolver, type CachingResolver } from './dns.js'
import { getRegistry } from './metrics.js'
import { FastCounter, FastHistogram, type CounterChild, type HistogramChild } from './worker-pool/metrics.js'
import { CircuitBreaker, type BreakerOptions, type BreakerState } from './http-client/breaker.js'

const debug = debuglog('ecom')

export interface HttpClientOptions {
  /** Connections per origin. @default 10 */
  connections?: number
  /** Idle keep-alive time of a pooled connection, in ms. @default 4000 */
  keepAliveTimeout?: number
  /** @default 5000 */
  connectTimeout?: number
  /** Time to the response headers, in ms. @default 10000 */
  headersTimeout?: number
  /** Longest gap between body chunks, in ms. @default 10000 */
  bodyTimeout?: number
  /** Attempts after the first, for retryable requests. @default 2 */
  retries?: number
  /** First retry delay in ms, doubled per attempt with full jitter. @default 100 */
  retryDelay?: number
  /** Cap on one retry delay (also on a server's Retry-After), in ms. @default 5000 */
  maxRetryDelay?: number
  /** Per-origin circuit breaker; false to disable. */
  breaker?: BreakerOptions | false
  /** The resolver whose `lookup` new connections use. @default the process-wide CachingResolver */
  resolver?: CachingResolver
}

export interface RequestOptions {
  /** @default "GET" */
  method?: string
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** Sent as `Idempotency-Key`; makes a POST/PATCH retryable. */
  idempotencyKey?: string
  signal?: AbortSignal
  /**
   * Deadline of one attempt, ms, from the moment it is handed to the pool to the last byte of the
   * answer: when it passes, the attempt is aborted and fails with `HttpTimeoutError` (phase
   * `deadline`; its `cause` a `TimeoutError` with code `ETIMEDOUT`). `headersTimeout` and
   * `bodyTimeout` bound the gaps instead, on undici's coarse (about one second) clock.
   */
  timeout?: number
  headersTimeout?: number
  bodyTimeout?: number
  /** Override the client's retry count for this call. */
  retries?: number
}

export interface HttpResponse {
  statusCode: number
  headers: IncomingHttpHeaders
  body: Buffer
  text(): string
  json<T = unknown>(): T
}

const BREAKER_DEFAULTS: Required<BreakerOptions> = { consecutiveFailures: 5, failureRatio: 0.5, minRequests: 20, windowMs: 10_000, openMs: 5000 }
const DEFAULTS = { connections: 10, keepAliveTimeout: 4000, connectTimeout: 5000, headersTimeout: 10_000, bodyTimeout: 10_000, retries: 2, retryDelay: 100, maxRetryDelay: 5000 }
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
const RETRY_STATUS = new Set([429, 502, 503, 504])
const NO_OPTIONS: RequestOptions = Object.freeze({})
const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 }

interface OriginState {
  pool: Pool
  breaker: CircuitBreaker | undefined
  // Metric children bound to this origin's label, so the hot path does no label hashing.
  duration: HistogramChild
  outcomes: Map<string | number, CounterChild>
}

class Response implements HttpResponse {
  constructor(readonly statusCode: number, readonly headers: IncomingHttpHeaders, readonly body: Buffer) {}
  text(): string {
    return this.body.toString('utf8')
  }
  json<T = unknown>(): T {
    return JSON.parse(this.body.toString('utf8')) as T
  }
}

/**
 * One attempt through the pool's `dispatch`, its body collected into one Buffer. undici's `request()`
 * does the same through a `Readable` per answer and an `AsyncResource` per call, and a deadline on it
 * needs an `AbortController` per call; the toolkit always buffers the whole body, so the stream is
 * pure overhead, and the caller's signal and the deadline abort through the function undici hands
 * the handler. Against the sandbox's Stripe emulator that is 24 to 33 µs less CPU per call than
 * `request()` with a deadline signal.
 */
class Attempt implements Dispatcher.DispatchHandler {
  #abort: ((err?: Error) => void) | undefined
  #reason: Error | undefined
  #done = false
  #status = 0
  #headers: IncomingHttpHeaders | undefined
  #chunks: Buffer[] = []
  #timer: NodeJS.Timeout | undefined
  #signal: AbortSignal | undefined
  #onAbort: (() => void) | undefined
  readonly #resolve: (res: HttpResponse) => void
  readonly #reject: (err: unknown) => void

  constructor(resolve: (res: HttpResponse) => void, reject: (err: unknown) => void, origin: string, timeout: number | undefined, signal: AbortSignal | undefined) {
    this.#resolve = resolve
    this.#reject = reject
    if (signal) {
      if (signal.aborted) this.#reason = abortReason(signal)
      else {
        this.#signal = signal
        this.#onAbort = () => this.#stop(abortReason(signal))
        signal.addEventListener('abort', this.#onAbort, { once: true })
      }
    }
    if (timeout !== undefined && this.#reason === undefined) {
      this.#timer = setTimeout(() => this.#stop(deadlineError(origin, timeout)), timeout)
    }
  }

  #stop(reason: Error): void {
    if (this.#done || this.#reason !== undefined) return
    this.#reason = reason
    this.#abort?.(reason)
  }

  #end(): void {
    this.#done = true
    clearTimeout(this.#timer)
    if (this.#onAbort) this.#signal!.removeEventListener('abort', this.#onAbort)
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#reason !== undefined) abort(this.#reason)
    else this.#abort = abort
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true // 1xx: informational, the answer follows
    this.#status = statusCode
    this.#headers = undiciUtil.parseHeaders(rawHeaders) as IncomingHttpHeaders
    return true
  }

  onData(chunk: Buffer): boolean {
    this.#chunks.push(chunk)
    return true
  }

  onComplete(): void {
    if (this.#done) return
    this.#end()
    const c = this.#chunks
    this.#resolve(new Response(this.#status, this.#headers!, c.length === 1 ? c[0]! : Buffer.concat(c)))
  }

  onError(err: Error): void {
    if (this.#done) return
    this.#end()
    this.#reject(err)
  }
}

function abortReason(signal: AbortSignal): Error {
  return (signal.reason as Error | undefined) ?? new undiciErrors.RequestAbortedError()
}

function deadlineError(origin: string, ms: number): HttpTimeoutError {
  const message = `no answer from ${origin} within ${ms} ms`
  const cause = Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' })
  return new HttpTimeoutError(message, { cause, details: { origin, cause: 'ETIMEDOUT', phase: 'deadline' } })
}

function send(pool: Pool, opts: Dispatcher.DispatchOptions, origin: string, timeout: number | undefined, signal: AbortSignal | undefined): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const handler = new Attempt(resolve, reject, origin, timeout, signal)
    try {
      pool.dispatch(opts, handler)
    } catch (err) {
      handler.onError(err as Error)
    }
  })
}

function metrics() {
  const registry = getRegistry()
  const registers = [registry]
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make()
  return {
    requests: FastCounter.register(registry, 'ecom_http_client_requests_total',
      'Outgoing HTTP attempts by origin and outcome (status code or error code)', ['origin', 'outcome']),
    duration: FastHistogram.register(registry, 'ecom_http_client_request_duration_seconds', 'Outgoing HTTP attempt duration by origin',
      ['origin'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
    retries: get('ecom_http_client_retries_total', () => new Counter({
      name: 'ecom_http_client_retries_total', help: 'Outgoing HTTP retries by origin', labelNames: ['origin'], registers,
    })),
    breaker: get('ecom_http_client_breaker_state', () => new Gauge({
      name: 'ecom_http_client_breaker_state', help: 'Circuit breaker state by origin: 0 closed, 1 half-open, 2 open', labelNames: ['origin'], registers,
    })),
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => {
      clearTimeout(t)
      reject(signal.reason)
    }, { once: true })
  })

function checkInt(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new InvalidOptionError(`options.${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  }
}

/**
 * Pooled HTTP client on undici: one keep-alive Pool per origin dialling through the caching DNS
 * resolver, timeouts per phase, retries only where repeating is safe, a circuit breaker per origin.
 */
export class HttpClient {
  readonly options: Readonly<typeof DEFAULTS>
  readonly #breaker: Required<BreakerOptions> | false
  readonly #resolver: CachingResolver
  readonly #origins = new Map<string, OriginState>()
  readonly #m = metrics()
  #closed = false

  constructor(options: HttpClientOptions = {}) {
    const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & HttpClientOptions
    for (const k of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) checkInt(k, o[k], k === 'connections' ? 1 : 0)
    this.options = Object.freeze(Object.fromEntries(Object.keys(DEFAULTS).map((k) => [k, o[k as keyof typeof DEFAULTS]])) as typeof DEFAULTS)
    if (options.breaker === false) this.#breaker = false
    else {
      const b = { ...BREAKER_DEFAULTS, ...options.breaker }
      for (const k of ['consecutiveFailures', 'minRequests', 'windowMs', 'openMs'] as const) checkInt(`breaker.${k}`, b[k], 1)
      if (!(b.failureRatio > 0 && b.failureRatio <= 1)) throw new InvalidOptionError(`options.breaker.failureRatio must be in (0, 1], got ${b.failureRatio}`)
      this.#breaker = b
    }
    this.#resolver = options.resolver ?? getResolver()
  }

  /** Breaker state of an origin (`closed` for one never called). */
  breakerState(origin: string): BreakerState {
    return this.#origins.get(new URL(origin).origin)?.breaker?.state ?? 'closed'
  }

  async request(url: string | URL, options: RequestOptions = NO_OPTIONS): Promise<HttpResponse> {
    if (this.#closed) throw new HttpClientClosedError()
    const timeout = options.timeout
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout > 0 && timeout <= 2 ** 31 - 1)) {
      throw new InvalidOptionError(`options.timeout must be a number of ms in (0, 2147483647], got ${JSON.stringify(timeout)}`)
    }
    const { origin, path } = typeof url === 'string' ? splitUrl(url) : { origin: url.origin, path: `${url.pathname}${url.search}` }
    const state = this.#origin(origin)
    const method = (options.method ?? 'GET').toUpperCase()
    let headers = options.headers
    if (options.idempotencyKey !== undefined) headers = { ...headers, 'idempotency-key': options.idempotencyKey }
    const retryable = IDEMPOTENT.has(method) || (options.idempotencyKey !== undefined && (method === 'POST' || method === 'PATCH'))
    const maxAttempts = 1 + (retryable ? (options.retries ?? this.options.retries) : 0)
    // Only what differs from the Pool's own settings goes per request (each extra field costs).
    const opts: Dispatcher.DispatchOptions = { path, method: method as Dispatcher.HttpMethod }
    if (headers !== undefined) opts.headers = headers
    if (options.body !== undefined) opts.body = options.body
    if (options.headersTimeout !== undefined) opts.headersTimeout = options.headersTimeout
    if (options.bodyTimeout !== undefined) opts.bodyTimeout = options.bodyTimeout
    for (let attempt = 1; ; attempt++) {
      const breaker = state.breaker
      if (breaker && !breaker.allow()) {
        throw new HttpCircuitOpenError(`circuit breaker open for ${origin}; retry in ${breaker.retryIn()} ms`, { details: { origin } })
      }
      const started = performance.now()
      // No per-attempt wrapper object: the response or the error, whichever came.
      let res: HttpResponse | undefined
      let error: unknown
      try {
        res = await send(state.pool, opts, origin, timeout, options.signal)
      } catch (err) {
        error = err
      }
      state.duration.observe((performance.now() - started) / 1000)
      if (res !== undefined) {
        const status = res.statusCode
        this.#count(state, origin, status)
        if (status >= 500) breaker?.failure()
        else breaker?.success()
        if (!RETRY_STATUS.has(status) || attempt >= maxAttempts) return res
        await this.#backoff(origin, attempt, options.signal, res.headers['retry-after'])
        continue
      }
      if (options.signal?.aborted) {
        breaker?.neutral()
        throw error
      }
      const err = mapError(error, origin)
      this.#count(state, origin, (err as { code?: string }).code ?? 'error')
      breaker?.failure()
      const transient = err instanceof HttpTimeoutError || err instanceof HttpConnectionError
      if (!transient || attempt >= maxAttempts) throw err
      debug('http-client: %s %s%s attempt %d failed: %s', method, origin, path, attempt, (err as Error).message)
      await this.#backoff(origin, attempt, options.signal)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#origins.values()].map((s) => s.pool.close()))
    this.#origins.clear()
  }

  async #backoff(origin: string, attempt: number, signal: AbortSignal | undefined, retryAfter?: string | string[]): Promise<void> {
    this.#m.retries.inc({ origin })
    let ms = Math.random() * this.options.retryDelay * 2 ** (attempt - 1)
    const ra = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter
    if (ra !== undefined && /^\d+$/.test(ra)) ms = Number(ra) * 1000
    await sleep(Math.min(ms, this.options.maxRetryDelay), signal)
  }

  #count(state: OriginState, origin: string, outcome: string | number): void {
    let c = state.outcomes.get(outcome)
    if (!c) {
      c = this.#m.requests.labels(origin, String(outcome))
      state.outcomes.set(outcome, c)
    }
    c.inc()
  }

  #origin(origin: string): OriginState {
    let s = this.#origins.get(origin)
    if (s) return s
    const gauge = this.#m.breaker
    s = {
      pool: new Pool(origin, {
        connections: this.options.connections,
        keepAliveTimeout: this.options.keepAliveTimeout,
        headersTimeout: this.options.headersTimeout,
        bodyTimeout: this.options.bodyTimeout,
        connect: { timeout: this.options.connectTimeout, lookup: this.#resolver.lookup as never },
      }),
      breaker: this.#breaker ? new CircuitBreaker(this.#breaker, (st) => {
        gauge.set({ origin }, STATE_VALUE[st])
        debug('http-client: breaker for %s is %s', origin, st)
      }) : undefined,
      duration: this.#m.duration.labels(origin),
      outcomes: new Map(),
    }
    gauge.set({ origin }, 0)
    this.#origins.set(origin, s)
    return s
  }
}

// `new URL()` costs a few µs per request; plain URLs are split by hand, and the origin (which URL
// normalises: case, default port) is computed once per distinct scheme://host:port prefix. A client
// mostly calls the same few URLs, so whole URLs are remembered too (a bounded map, cleared when full):
// a repeat costs one lookup and allocates nothing, where a split costs a match array and two strings.
const URL_RE = /^(https?:\/\/[^/?#\\]+)(.*)$/i
const SAFE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/
const DOT_SEGMENT = /\/\.\.?(?:[/?]|$)/
const origins = new Map<string, string>()
const splits = new Map<string, Readonly<{ origin: string; path: string }>>()

export function splitUrl(url: string): Readonly<{ origin: string; path: string }> {
  let split = splits.get(url)
  if (split === undefined) {
    split = Object.freeze(parseUrl(url))
    if (splits.size >= 512) splits.clear()
    splits.set(url, split)
  }
  return split
}

function parseUrl(url: string): { origin: string; path: string } {
  const m = URL_RE.exec(url)
  if (m && SAFE_PATH.test(m[2]!) && !DOT_SEGMENT.test(m[2]!)) {
    let origin = origins.get(m[1]!)
    if (origin === undefined) {
      origin = new URL(m[1]!).origin
      if (origins.size > 1000) origins.clear()
      origins.set(m[1]!, origin)
    }
    const rest = m[2]!
    return { origin, path: rest === '' ? '/' : rest[0] === '?' ? `/${rest}` : rest }
  }
  const u = new URL(url)
  return { origin: u.origin, path: `${u.pathname}${u.search}` }
}

function mapError(err: unknown, origin: string): unknown {
  if (isEcomError(err)) return err
  const code = (err as { code?: string })?.code ?? ''
  const details = { origin, cause: code }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new HttpTimeoutError(`connect timeout to ${origin}`, { cause: err, details: { ...details, phase: 'connect' } })
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new HttpTimeoutError(`headers timeout from ${origin}`, { cause: err, details: { ...details, phase: 'headers' } })
  if (code === 'UND_ERR_BODY_TIMEOUT') return new HttpTimeoutError(`body timeout from ${origin}`, { cause: err, details: { ...details, phase: 'body' } })
  if (/^(UND_ERR_SOCKET|UND_ERR_CLOSED|ECONNRESET|ECONNREFUSED|EPIPE|ECONNABORTED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)$/.test(code)) {
    return new HttpConnectionError(`connection to ${origin} failed: ${code}`, { cause: err, details })
  }
  return err
}

let shared: HttpClient | undefined
/** The process-wide client with default options. */
export function getHttpClient(): HttpClient {
  shared ??= new HttpClient()
  return shared
}
