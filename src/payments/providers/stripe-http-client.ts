/**
 * A stripe-node `HttpClient` over the toolkit's pooled client (stripe-node accepts a custom client:
 * a subclass of `Stripe.HttpClient` whose `makeRequest` answers a `Stripe.HttpClientResponse`).
 * Timeouts after sending surface as stripe-node's own timeout error (`ETIMEDOUT`), so the SDK reports
 * them as it always does; every other transport error reaches the SDK as the socket raised it.
 */
import { Readable } from 'node:stream'
import type { HttpClient, HttpResponse } from '../../runtime/http-client.js'
import { sendPooled, type PooledRequest } from './pooled-http.js'

/** The parts of the SDK's constructor this module reads. */
export interface StripeNetLike {
  HttpClient: (new () => object) & { makeTimeoutError(): Error }
  HttpClientResponse: new (statusCode: number, headers: Record<string, unknown>) => object
}

const AFTER_SEND_TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])

export function createStripeHttpClient(Stripe: StripeNetLike, pool: HttpClient): object {
  const Base = Stripe.HttpClient
  const BaseResponse = Stripe.HttpClientResponse

  class PooledResponse extends BaseResponse {
    readonly #res: HttpResponse
    constructor(res: HttpResponse) {
      super(res.statusCode, res.headers as Record<string, unknown>)
      this.#res = res
    }
    getRawResponse(): HttpResponse {
      return this.#res
    }
    toStream(done: () => void): Readable {
      const s = Readable.from([this.#res.body])
      s.once('end', done)
      return s
    }
    toJSON(): Promise<unknown> {
      try {
        return Promise.resolve(JSON.parse(this.#res.text()))
      } catch (err) {
        ;(err as Error & { rawBody?: string }).rawBody = this.#res.text()
        return Promise.reject(err)
      }
    }
  }

  class PooledStripeHttpClient extends Base {
    getClientName(): string {
      return 'ecom-pooled'
    }
    async makeRequest(
      host: string,
      port: string | number,
      path: string,
      method: string,
      headers: Record<string, string | number | string[]>,
      requestData: string | Uint8Array | null,
      protocol: string,
      timeout: number,
    ): Promise<object> {
      const h: Record<string, string> = {}
      for (const k in headers) {
        const v = headers[k]
        if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : String(v)
      }
      const req: PooledRequest = { method, headers: h, timeoutMs: timeout }
      if (requestData) req.body = requestData
      try {
        const res = await sendPooled(pool, `${protocol}://${host}:${port}${path}`, req)
        return new PooledResponse(res)
      } catch (err) {
        if (AFTER_SEND_TIMEOUT.has((err as { code?: string }).code ?? '')) throw Object.assign(Base.makeTimeoutError(), { cause: err })
        throw err
      }
    }
  }
  return new PooledStripeHttpClient()
}
