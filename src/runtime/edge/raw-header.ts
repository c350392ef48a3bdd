import type { IncomingMessage } from 'node:http'

/**
 * One request header, read from `rawHeaders` instead of `req.headers`. Node builds `req.headers` on
 * first access (a new object, every header name lowercased into a new string), so the edge reading
 * one header through it would make every request pay for that even when the app never looks; a scan
 * of the few raw headers costs a fraction of it. `lowerName` must be lowercase. A repeated header is
 * joined with ", ", as `req.headers` does for every header the edge reads (x-request-id,
 * transfer-encoding; the parser itself refuses a repeated content-length).
 */
export function rawHeader(req: IncomingMessage, lowerName: string): string | undefined {
  const raw = req.rawHeaders
  const len = lowerName.length
  let value: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length !== len || (name !== lowerName && name.toLowerCase() !== lowerName)) continue
    value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`
  }
  return value
}
