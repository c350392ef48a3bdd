import type { IncomingMessage, ServerResponse } from 'node:http'
import { rawHeader } from './raw-header.js'

/**
 * Enforce a body limit without buffering: a declared `Content-Length` over the limit is refused before
 * a byte is read; a chunked body is counted as the parser pushes it and cut off the moment it passes
 * the limit (`onExceeded(res)` answers then). Returns false when the request is refused up front.
 * `onExceeded` takes the response rather than closing over it, so that a request without a chunked
 * body (nearly all of them) costs no closure.
 */
export function guardBody<R extends ServerResponse>(req: IncomingMessage, res: R, limit: number, onExceeded: (res: R) => void): boolean {
  const declared = rawHeader(req, 'content-length')
  if (declared !== undefined) {
    const n = Number(declared)
    if (Number.isFinite(n) && n > limit) return false
    // The parser enforces Content-Length itself, so a body can never outgrow what was declared.
    return true
  }
  if (rawHeader(req, 'transfer-encoding') === undefined) return true
  let seen = 0
  const push = req.push.bind(req)
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk !== null && chunk !== undefined) {
      seen += (chunk as Buffer).length
      if (seen > limit) {
        req.push = push
        onExceeded(res)
        return false
      }
    }
    return push(chunk, encoding)
  }
  return true
}
