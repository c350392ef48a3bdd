// A small router of the shop's own: method + path pattern (`/orders/:id`) → handler, JSON in and out,
// and one place that turns thrown errors into coded answers. No framework needed for a dozen routes.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isEcomError } from 'ecom'
import { ShopBadRequestError, ShopNotFoundError } from './errors.js'

export interface Ctx {
  req: IncomingMessage
  res: ServerResponse
  params: Record<string, string>
  query: URLSearchParams
}
export type Handler = (ctx: Ctx) => Promise<void> | void

interface Route {
  method: string
  parts: string[]
  handler: Handler
}

export class Router {
  readonly #routes: Route[] = []

  on(method: string, path: string, handler: Handler): this {
    this.#routes.push({ method, parts: path.split('/').filter(Boolean), handler })
    return this
  }

  /** The Node request listener `ecom start` serves. */
  handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://shop')
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
    try {
      let pathMatched = false
      for (const r of this.#routes) {
        const params = match(r.parts, segs)
        if (!params) continue
        pathMatched = true
        if (r.method !== req.method) continue
        await r.handler({ req, res, params, query: url.searchParams })
        return
      }
      if (pathMatched) return sendJson(res, 405, { error: { code: 'ECOM_ERR_SHOP_METHOD', message: `${req.method} is not allowed on ${url.pathname}` } })
      throw new ShopNotFoundError(`no route ${req.method} ${url.pathname}`)
    } catch (err) {
      sendError(req, res, err)
    }
  }
}

function match(parts: string[], segs: string[]): Record<string, string> | undefined {
  if (parts.length !== segs.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!
    if (p.startsWith(':')) params[p.slice(1)] = segs[i]!
    else if (p !== segs[i]) return undefined
  }
  return params
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Coded errors answer with their status and code; anything else is a 500 whose details stay in the log. */
export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const log = (req as IncomingMessage & { log?: { error(o: object, m: string): void } }).log
  if (isEcomError(err) && err.statusCode && err.statusCode < 500) {
    if (res.headersSent) return void res.end()
    return sendJson(res, err.statusCode, { error: { code: err.code, message: err.message, details: err.details } })
  }
  // Messages of our own errors never carry PII (customer data is encrypted before it reaches any call).
  log?.error({ err }, 'request failed')
  if (res.headersSent) return void res.destroy()
  const e = isEcomError(err) ? err : undefined
  sendJson(res, e?.statusCode ?? 500, { error: { code: e?.code ?? 'ECOM_ERR_INTERNAL', message: e ? e.message : 'internal error' } })
}

/** The whole body as bytes (bounded by the edge's --body-limit). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBody(req)).toString('utf8')
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    throw new ShopBadRequestError('the body is not JSON')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ShopBadRequestError('the body must be a JSON object')
  return v as Record<string, unknown>
}
