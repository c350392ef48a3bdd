import type { IncomingMessage } from 'node:http'

/**
 * Enforce a body limit without buffering: a declared `Content-Length` over the limit is refused before
 * a byte is read; a chunked body is counted as the parser pushes it and cut off the moment it passes
 * the limit. Returns false when the request is refused up front.
 */
export function guardBody(req: IncomingMessage, limit: number, onExceeded: () => void): boolean {
  const declared = req.headers['content-length']
  if (declared !== undefined) {
    const n = Number(declared)
    if (Number.isFinite(n) && n > limit) return false
    // The parser enforces Content-Length itself, so a body can never outgrow what was declared.
    return true
  }
  if (req.headers['transfer-encoding'] === undefined) return true
  let seen = 0
  const push = req.push.bind(req)
  req.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    if (chunk !== null && chunk !== undefined) {
      seen += (chunk as Buffer).length
      if (seen > limit) {
        req.push = push
        onExceeded()
        return false
      }
    }
    return push(chunk, encoding)
  }
  return true
}
