/**
 * The payment SDKs' HTTP through the toolkit's pooled `HttpClient` (src/runtime/http-client.ts): one
 * keep-alive pool per origin, dialled through the caching DNS resolver, metrics per origin.
 *
 * Two things the payments model needs from it, both enforced here:
 * - No retries, ever: `retries: 0` on every request. A payment call is re-sent only by the router, with
 *   the attempt's key, after it has classified the first outcome.
 * - The transport error as the socket raised it. The toolkit wraps undici's errors in
 *   `HttpTimeoutError`/`HttpConnectionError`, which fold "never connected" (refused, connect timeout)
 *   and "sent, then lost" (reset, headers timeout) into one class; the payment classifiers need the
 *   difference (technical failure vs ambiguous), so the original error (`cause`) is rethrown.
 */
import { HttpClient, type HttpResponse, type RequestOptions } from '../../runtime/http-client.js'
import { HttpConnectionError, HttpTimeoutError } from '../../errors.js'

let shared: HttpClient | undefined

/**
 * The process-wide client the payment adapters use unless given one: no retries, and no breaker of
 * its own (the router keeps a breaker per provider; a second one here would refuse calls the router
 * meant to probe).
 */
export function paymentsHttpClient(): HttpClient {
  shared ??= new HttpClient({ retries: 0, breaker: false })
  return shared
}

export interface PooledRequest {
  method: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Deadline, ms; without one, the caller's signal and the pool's own timeouts bound the call. */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * One request, never retried; transport errors rethrown as undici raised them (see above). The
 * deadline is the client's per-attempt `timeout` as well as the pool's header/body timeouts: undici
 * checks those on a coarse (about one second) clock, and payment timeouts are often shorter. A
 * deadline that passes is an `ETIMEDOUT` `TimeoutError`: ambiguous to the classifiers (it may fire
 * while connecting, when nothing was sent; ambiguous is the safe side of that line).
 */
export async function sendPooled(client: HttpClient, url: string, req: PooledRequest): Promise<HttpResponse> {
  try {
    const options: RequestOptions = { method: req.method, headers: req.headers, retries: 0 }
    if (req.body !== undefined && req.body.length > 0) options.body = req.body
    if (req.timeoutMs !== undefined) options.timeout = options.headersTimeout = options.bodyTimeout = req.timeoutMs
    if (req.signal) options.signal = req.signal
    return await client.request(url, options)
  } catch (err) {
    if ((err instanceof HttpTimeoutError || err instanceof HttpConnectionError) && err.cause !== undefined) throw err.cause
    throw err
  }
}

const NULL_BODY = new Set([101, 204, 205, 304])

/**
 * A WHATWG `fetch` over the pooled client, for SDKs that take a fetch (Square): one request, never
 * retried. The caller's abort (the SDK's own timeout) rejects with an `AbortError` as fetch does;
 * transport errors are the undici errors (as `cause` of a `TypeError('fetch failed')`, like fetch).
 */
export function pooledFetch(client: HttpClient): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const headers: Record<string, string> = {}
    new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined)).forEach((v, k) => {
      headers[k] = v
    })
    const body = init.body
    if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array)) throw new TypeError('pooledFetch: only string and byte bodies are supported')
    try {
      const res = await sendPooled(client, url, {
        method: init.method ?? 'GET',
        headers,
        ...(body == null ? {} : { body }),
        ...(init.signal ? { signal: init.signal } : {}),
      })
      const out = new Headers()
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue
        for (const one of Array.isArray(v) ? v : [v]) out.append(k, one)
      }
      return new Response(NULL_BODY.has(res.statusCode) ? null : new Uint8Array(res.body), { status: res.statusCode, headers: out })
    } catch (err) {
      if (init.signal?.aborted) throw new DOMException('This operation was aborted', 'AbortError')
      throw new TypeError('fetch failed', { cause: err })
    }
  }) as typeof fetch
}
