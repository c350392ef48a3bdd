import type { IncomingMessage } from 'node:http'
import { rawHeader } from './raw-header.js'

/**
 * The client's address. `X-Forwarded-For` is read only when the app sits behind a proxy it trusts;
 * otherwise any client could pick its own rate-limit key. Behind a trusted proxy the right-most entry
 * was added by that proxy, so it is the one address the proxy vouches for.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    // From rawHeaders like the edge's other reads: req.headers would be built for every request.
    const value = rawHeader(req, 'x-forwarded-for')
    if (value) {
      const parts = value.split(',')
      const last = parts[parts.length - 1]!.trim()
      if (last) return last
    }
  }
  return req.socket.remoteAddress ?? 'unknown'
}
