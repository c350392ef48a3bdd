import type { ServerResponse } from 'node:http'
import type { RateLimitResult } from './rate-limit-store.js'

/**
 * Quota headers per the IETF httpapi "RateLimit header fields" draft: `RateLimit-Policy` names the
 * policy with its quota (q) and window in seconds (w); `RateLimit` gives what remains (r) and the
 * seconds until the window resets (t). A refused request also gets `Retry-After`.
 */
export function rateLimitPolicy(limit: number, windowMs: number): string {
  return `"default";q=${limit};w=${Math.max(1, Math.ceil(windowMs / 1000))}`
}

/**
 * Names are written in lower case (header names are case-insensitive; HTTP/2 sends only lower case):
 * node:http lowercases every name it is given, and a name that already is lower case comes back as the
 * same string, which spares a new string and its lookup in V8's string table on every request.
 */
export function setRateLimitHeaders(res: ServerResponse, policy: string, r: RateLimitResult): void {
  const reset = Math.max(0, Math.ceil(r.resetMs / 1000))
  res.setHeader('ratelimit-policy', policy)
  res.setHeader('ratelimit', `"default";r=${r.remaining};t=${reset}`)
  if (!r.allowed) res.setHeader('retry-after', String(Math.max(1, reset)))
}
