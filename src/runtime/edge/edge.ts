import type { RequestListener, ServerResponse } from 'node:http'
// The global `performance` is a lazy getter on globalThis, looked up on every use; the import is not.
import { performance } from 'node:perf_hooks'
import { PayloadTooLargeError, RateLimitedError, ServerBusyError, type EcomError, isEcomError } from '../../errors.js'
import type { Logger } from '../logger.js'
import type { EdgeOptions } from '../supervisor/options.js'
import { guardBody } from './body-limit.js'
import { clientIp } from './client-ip.js'
import type { ConnectionTracker } from './connections.js'
import { httpMetrics, routeLabel } from './http-metrics.js'
import { rateLimitPolicy, setRateLimitHeaders } from './rate-limit.js'
import { rawHeader } from './raw-header.js'
import { isSyncStore, type RateLimitResult, type RateLimitStore } from './rate-limit-store.js'
import type { EdgeRequest, EdgeResponse } from './request.js'

export interface EdgeContext {
  options: EdgeOptions
  /** The user's handler, already adapted from whatever the entry exported. */
  handler: RequestListener
  /** Where the rate-limit counters live; ignored when options.rateLimit is null. */
  store: RateLimitStore | null
  logger: Logger
  connections: ConnectionTracker
  /** Prometheus text for /metrics (cluster-wide in a cluster). */
  metricsText: () => Promise<string>
  /** Called once per answered request (the status command's "requests served"). */
  onResponse?: () => void
}

const ID_OK = /^[\w.:@-]{1,128}$/
// Unique enough per process to tell workers and restarts apart in logs; not a secret (node:crypto
// would cost start-up time for nothing).
const idPrefix = `${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}${process.env.ECOM_WORKER_ID ?? '0'}-`
let idSeq = 0

/**
 * The request's id: the caller's `X-Request-Id` when it is a sane one, echoed back so a proxy can
 * correlate; otherwise a new one, which goes into the logs (and the edge's own error responses) but not
 * onto every answer: an id nobody asked for is bytes on every response for nothing (Kong's
 * correlation-id plugin does not echo by default either).
 */
function requestId(req: EdgeRequest, res: EdgeResponse): string {
  const given = rawHeader(req, 'x-request-id')
  if (given !== undefined && ID_OK.test(given)) {
    // Lower case for the reason given at setRateLimitHeaders.
    res.setHeader('x-request-id', given)
    return given
  }
  return idPrefix + (++idSeq).toString(36)
}

function pathOf(url: string | undefined): string {
  if (!url) return '/'
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

type Refusal = Pick<EcomError, 'code' | 'message' | 'statusCode'>

function refuse(res: ServerResponse, err: Refusal, close: boolean): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = JSON.stringify({ error: { code: err.code, message: err.message } })
  res.statusCode = err.statusCode ?? 500
  // A refusal names its request, so whoever got it can find it in the logs.
  const id = (res.req as EdgeRequest).id
  if (id) res.setHeader('x-request-id', id)
  if (close) res.setHeader('Connection', 'close')
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}

function sendText(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', type)
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.setHeader('Cache-Control', 'no-store')
  res.end(body)
}

const INTERNAL: Refusal = { code: 'ECOM_ERR_INTERNAL', message: 'internal server error', statusCode: 500 }

/**
 * The hardened layer around the user's handler: connection limit, request id, health and metrics
 * endpoints, body limit, cluster-wide rate limit, error isolation (a throwing handler costs its own
 * request a 500, nothing more), metrics and logs. Needs a server created with EdgeRequest/EdgeResponse.
 */
export function createEdge(ctx: EdgeContext): (req: EdgeRequest, res: EdgeResponse) => void {
  const { options, handler, logger, connections, onResponse } = ctx
  const { healthPath, readyPath, metricsPath, bodyLimit, accessLog, trustProxy } = options
  const metrics = httpMetrics()
  connections.onChange = (open) => (metrics.openConnections = open)
  const rl = options.rateLimit
  const store = rl ? ctx.store : null
  const syncStore = store && isSyncStore(store) ? store : null
  const policy = rl ? rateLimitPolicy(rl.limit, rl.windowMs) : ''
  const limit = rl ? rl.limit : 0
  const headersAlways = options.rateLimitHeaders === 'always'
  const tooLarge = `request body larger than ${bodyLimit} bytes`

  // One listener function for every response, so the hot path allocates no closure for it. 'close'
  // comes after 'finish' and also when the client went away mid-response (not counted as answered).
  function onClose(this: EdgeResponse): void {
    const now = performance.now()
    connections.end(this, now)
    if (!this.writableFinished) return
    const req = this.req
    const seconds = (now - this.started) / 1000
    metrics.requests.record(req.method ?? 'GET', routeLabel(req as never), this.statusCode, seconds)
    onResponse?.()
    if (accessLog) req.log.info({ method: req.method, url: req.url, status: this.statusCode, ms: Math.round(seconds * 1000) }, 'request')
  }

  function fail(req: EdgeRequest, res: EdgeResponse, err: unknown): void {
    req.log.error({ err }, 'handler failed')
    if (res.headersSent) res.destroy()
    else refuse(res, INTERNAL, false)
  }

  // A chunked body passed the limit while it was arriving; the rest of it is not read.
  function tooLargeMidway(res: EdgeResponse): void {
    refuse(res, new PayloadTooLargeError(tooLarge), true)
    res.once('finish', () => res.req.socket.destroy())
  }

  function decide(req: EdgeRequest, res: EdgeResponse, r: RateLimitResult): void {
    if (res.writableEnded) return
    if (r.allowed) {
      // "near-limit": from the request that leaves half the quota or less (options.ts says why).
      if (headersAlways || r.remaining * 2 <= limit) setRateLimitHeaders(res, policy, r)
      run(req, res)
    } else {
      setRateLimitHeaders(res, policy, r)
      refuse(res, new RateLimitedError(), false)
    }
  }

  function run(req: EdgeRequest, res: EdgeResponse): void {
    try {
      const out = handler(req, res) as unknown
      if (out !== undefined && out !== null && typeof (out as Promise<unknown>).then === 'function') {
        ;(out as Promise<unknown>).then(undefined, (err: unknown) => fail(req, res, err))
      }
    } catch (err) {
      fail(req, res, err)
    }
  }

  return (req, res) => {
    res.started = performance.now()
    const overLimit = connections.begin(req, res)
    req.id = requestId(req, res)
    req.baseLogger = logger
    res.on('close', onClose)

    if (overLimit) return refuse(res, new ServerBusyError(), true)

    const path = pathOf(req.url)
    if (path === healthPath) return sendText(res, 200, 'application/json', '{"status":"ok"}')
    if (path === readyPath) {
      return connections.draining
        ? sendText(res, 503, 'application/json', '{"ready":false,"reason":"draining"}')
        : sendText(res, 200, 'application/json', '{"ready":true}')
    }
    if (metricsPath !== null && path === metricsPath) {
      ctx.metricsText().then(
        (text) => sendText(res, 200, 'text/plain; version=0.0.4; charset=utf-8', text),
        (err: unknown) => {
          req.log.error({ err }, 'metrics scrape failed')
          sendText(res, 500, 'text/plain', 'metrics unavailable\n')
        }
      )
      return
    }

    if (!guardBody(req, res, bodyLimit, tooLargeMidway)) return refuse(res, new PayloadTooLargeError(tooLarge), true)

    if (!store || !rl) return run(req, res)
    // In-process counters answer at once; a remote store (the primary, Redis) is awaited.
    if (syncStore) return decide(req, res, syncStore.hitSync(clientIp(req, trustProxy), rl.limit, rl.windowMs))
    store.hit(clientIp(req, trustProxy), rl.limit, rl.windowMs).then(
      (r) => decide(req, res, r),
      (err: unknown) => {
        // scale-out hook (issue 7): a fail-closed store (Redis `--redis-fail closed`) refuses with its status.
        if (isEcomError(err) && err.statusCode === 503) return refuse(res, err, false)
        // A store that does not answer must not take the app down with it: let the request through.
        req.log.warn({ err }, 'rate-limit store failed; request let through')
        run(req, res)
      }
    )
  }
}
