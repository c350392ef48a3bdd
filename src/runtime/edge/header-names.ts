/**
 * Lower-case forms of the response headers apps set most, keyed by their usual spelling.
 *
 * node:http files every header under `name.toLowerCase()` and lower-cases it again when it writes the
 * head. For a name already in lower case both calls give back the same string. For `Content-Type`
 * each gives a new one, which V8 then has to look up in its string table and compare by content. On
 * the bench's machine that costs a hello world that sets one such header 1 to 1.7 µs per response
 * (four bench runs): up to a tenth of the whole request in bare node:http.
 *
 * The edge writes these names in lower case instead, as HTTP/2 always does and as fastify does for
 * every header. Header names are case-insensitive (RFC 9110 §5.1), so only a client that breaks
 * that rule can tell. The literals below are interned strings, so node:http's work on them takes its
 * fast paths. Names not listed here are passed on as given.
 */
const COMMON = [
  'Accept-Ranges',
  'Access-Control-Allow-Credentials',
  'Access-Control-Allow-Headers',
  'Access-Control-Allow-Methods',
  'Access-Control-Allow-Origin',
  'Access-Control-Expose-Headers',
  'Access-Control-Max-Age',
  'Age',
  'Allow',
  'Cache-Control',
  'Connection',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Location',
  'Content-Range',
  'Content-Security-Policy',
  'Content-Type',
  'Cross-Origin-Opener-Policy',
  'Cross-Origin-Resource-Policy',
  'ETag',
  'Expires',
  'Keep-Alive',
  'Last-Modified',
  'Link',
  'Location',
  'Permissions-Policy',
  'Pragma',
  'Referrer-Policy',
  'Retry-After',
  'Server',
  'Server-Timing',
  'Set-Cookie',
  'Strict-Transport-Security',
  'Timing-Allow-Origin',
  'Transfer-Encoding',
  'Vary',
  'WWW-Authenticate',
  'X-Content-Type-Options',
  'X-Frame-Options',
  'X-Powered-By',
  'X-Request-Id',
  'X-Response-Time',
  'X-XSS-Protection',
] as const

const table = new Map<string, string>()
for (const name of COMMON) {
  // Each lower-case form comes from an object key, which V8 interns; a plain toLowerCase() result
  // would be a fresh, uninterned string and lose the point.
  const lower = Object.keys({ [name.toLowerCase()]: 0 })[0]!
  table.set(name, lower)
}

/** The lower-case spelling of a common header name, or the name itself. */
export function lowerHeaderName(name: string): string {
  return table.get(name) ?? name
}
