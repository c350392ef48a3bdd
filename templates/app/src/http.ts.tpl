import type { IncomingMessage, ServerResponse } from 'node:http'
import { ZodError } from 'zod'

export type Params = Record<string, string>
export type RouteHandler = (ctx: { req: IncomingMessage; params: Params; body: unknown; query: URLSearchParams }) => Promise<Reply> | Reply
export interface Reply {
  status?: number
  body?: unknown
}
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'
  /** `/order-items/:id`: segments starting with ":" are parameters. */
  path: string
  handler: RouteHandler
}

/** Thrown by services; the router answers with its status and message. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly details?: unknown) {
    super(message)
  }
}

const MAX_BODY = 1024 * 1024

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (req.method === 'GET' || req.method === 'DELETE' || req.method === 'HEAD') return undefined
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new HttpError(413, 'body too large')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'body is not valid JSON')
  }
}

function match(pattern: string, path: string): Params | undefined {
  const a = pattern.split('/').filter(Boolean)
  const b = path.split('/').filter(Boolean)
  if (a.length !== b.length) return undefined
  const params: Params = {}
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith(':')) params[a[i]!.slice(1)] = decodeURIComponent(b[i]!)
    else if (a[i] !== b[i]) return undefined
  }
  return params
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (status === 204 || body === undefined) {
    res.writeHead(status).end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** A plain Node request handler over a route table: what `ecom start` serves. */
export function createRouter(routes: Route[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const candidates = routes.map((r) => ({ r, params: match(r.path, url.pathname) })).filter((c) => c.params)
    if (candidates.length === 0) return send(res, 404, { error: 'not found' })
    const hit = candidates.find((c) => c.r.method === req.method)
    if (!hit) return send(res, 405, { error: 'method not allowed' })
    void (async () => {
      try {
        const body = await readJson(req)
        const reply = await hit.r.handler({ req, params: hit.params!, body, query: url.searchParams })
        send(res, reply.status ?? 200, reply.body)
      } catch (err) {
        if (err instanceof HttpError) return send(res, err.status, { error: err.message, details: err.details })
        if (err instanceof ZodError) {
          return send(res, 400, { error: 'invalid input', details: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) })
        }
        console.error(err)
        send(res, 500, { error: 'internal error' })
      }
    })()
  }
}
