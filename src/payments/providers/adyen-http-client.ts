/**
 * An HTTP client for `@adyen/api-library` (its `ClientInterface`), sending through the toolkit's pooled
 * `HttpClient` (src/runtime/http-client.ts). The SDK's own client speaks HTTPS only and builds a new
 * agent per request; this one reuses the pool's keep-alive connections, can point every Adyen host at
 * one base URL (the local sandbox: `http://host:port/adyen`), and never retries. Non-2xx answers are
 * thrown as the SDK's `HttpClientException` carrying Adyen's error body, exactly as the SDK's client
 * does; transport errors are thrown as undici raised them (see pooled-http.ts), so the adapter can tell
 * "never connected" from "sent, then lost".
 */
import type { HttpClient } from '../../runtime/http-client.js'
import { paymentsHttpClient, sendPooled } from './pooled-http.js'

/** The parts of the SDK's `Config` this client reads. */
interface AdyenConfigLike {
  apiKey?: string
  username?: string
  password?: string
  connectionTimeoutMillis?: number
  applicationName?: string
}

interface RequestOptionsLike {
  method?: string
  headers?: Record<string, unknown>
  idempotencyKey?: string
  params?: ConstructorParameters<typeof URLSearchParams>[0]
  timeout?: number
  signal?: AbortSignal
}

export type HttpClientExceptionCtor = new (props: {
  message: string
  statusCode?: number
  errorCode?: string
  responseHeaders?: Record<string, string | string[] | undefined>
  responseBody?: string
  apiError?: unknown
}) => Error

export interface AdyenHttpClientOptions {
  /** Every Adyen endpoint's path is sent to this origin + path prefix instead of its own host. */
  baseUrl?: string
  /** The pooled client to send with. @default the payments-wide client (no retries, no breaker) */
  httpClient?: HttpClient
  /** Used when neither the SDK config nor the call sets a timeout. @default 30000 */
  timeoutMs?: number
}

export class AdyenHttpClient {
  readonly #options: AdyenHttpClientOptions
  readonly #Exception: HttpClientExceptionCtor

  constructor(Exception: HttpClientExceptionCtor, options: AdyenHttpClientOptions = {}) {
    this.#Exception = Exception
    this.#options = options
  }

  /** Maps `https://checkout-test.adyen.com/v72/payments` to `<baseUrl>/v72/payments`. */
  resolve(endpoint: string): string {
    if (!this.#options.baseUrl) return endpoint
    const u = new URL(endpoint)
    const path = u.pathname.replace(/^\/checkout(?=\/v\d+\/)/, '')
    return this.#options.baseUrl.replace(/\/+$/, '') + path
  }

  async request(endpoint: string, json: string | Buffer, config: AdyenConfigLike, isApiKeyRequired: boolean, requestOptions: RequestOptionsLike = {}): Promise<string> {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(requestOptions.headers ?? {})) if (v !== undefined) headers[k] = String(v)
    if (config.apiKey) headers['X-API-Key'] = config.apiKey
    else if (isApiKeyRequired) throw new this.#Exception({ message: 'Invalid X-API-Key was used', statusCode: 401 })
    else if (config.username) headers.Authorization = `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}`
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json'
    if (requestOptions.idempotencyKey) headers['Idempotency-Key'] = requestOptions.idempotencyKey
    headers['User-Agent'] = config.applicationName ? `${config.applicationName} ecom-adyen-client` : 'ecom-adyen-client'

    let url = this.resolve(endpoint)
    if (requestOptions.params) url += `?${new URLSearchParams(requestOptions.params).toString()}`
    const method = (requestOptions.method ?? 'POST').toUpperCase()
    const timeout = requestOptions.timeout ?? config.connectionTimeoutMillis ?? this.#options.timeoutMs ?? 30_000
    const body = method === 'GET' || method === 'DELETE' ? undefined : json

    const res = await sendPooled(this.#options.httpClient ?? paymentsHttpClient(), url, {
      method,
      headers,
      ...(body === undefined || body.length === 0 ? {} : { body }),
      timeoutMs: timeout,
      ...(requestOptions.signal ? { signal: requestOptions.signal } : {}),
    })
    const text = res.text()
    if (res.statusCode >= 200 && res.statusCode < 300) return text
    let apiError: { status?: number; errorCode?: string; message?: string } | undefined
    try {
      const parsed = JSON.parse(text) as Record<string, unknown>
      if ('status' in parsed) apiError = parsed
    } catch {
      // A non-JSON error body: keep it raw in responseBody.
    }
    throw new this.#Exception({
      message: `HTTP Exception: ${res.statusCode}.${apiError?.message ? ` ${apiError.message}` : ''}`,
      statusCode: apiError?.status ?? res.statusCode,
      ...(apiError?.errorCode ? { errorCode: apiError.errorCode } : {}),
      responseHeaders: res.headers,
      responseBody: text,
      ...(apiError ? { apiError } : {}),
    })
  }
}
