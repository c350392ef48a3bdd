import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { lowerHeaderName } from '../../../src/runtime/edge/header-names.js'
import { EdgeRequest, EdgeResponse, LowerCaseEdgeResponse } from '../../../src/runtime/edge/request.js'
import { rawHead } from '../../helpers/raw-http.js'

/** A server on the edge's classes whose handler sets headers the way apps do; the head as sent. */
async function headOf(Response: typeof EdgeResponse, seen: Record<string, unknown> = {}): Promise<string[]> {
  server = createServer({ IncomingMessage: EdgeRequest, ServerResponse: Response }, (_req, res) => {
    res.setHeader('Content-Type', 'text/plain')
    res.setHeader('X-My-Thing', '1')
    res.appendHeader('Set-Cookie', 'a=1')
    res.appendHeader('Set-Cookie', 'b=2')
    seen.type = res.getHeader('content-type')
    seen.cookies = res.getHeader('SET-COOKIE')
    seen.names = res.getHeaderNames()
    res.end('ok')
  })
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r))
  return rawHead((server.address() as AddressInfo).port)
}

let server: Server | undefined
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())))

describe('response header names', () => {
  it('maps the usual spelling of common names to lower case and leaves other names as given', () => {
    expect(lowerHeaderName('Content-Type')).toBe('content-type')
    expect(lowerHeaderName('ETag')).toBe('etag')
    expect(lowerHeaderName('content-type')).toBe('content-type')
    expect(lowerHeaderName('X-My-Thing')).toBe('X-My-Thing')
    expect(lowerHeaderName('CoNtEnT-TyPe')).toBe('CoNtEnT-TyPe')
  })

  it('go on the wire in lower case for common names, as given otherwise; reads stay case-insensitive', async () => {
    const seen: Record<string, unknown> = {}
    const head = await headOf(LowerCaseEdgeResponse, seen)
    expect(head[0]).toBe('HTTP/1.1 200 OK')
    expect(head).toContain('content-type: text/plain')
    expect(head).toContain('X-My-Thing: 1')
    expect(head.filter((l) => l.startsWith('set-cookie: '))).toEqual(['set-cookie: a=1', 'set-cookie: b=2'])
    expect(head.some((l) => l.startsWith('Content-Type'))).toBe(false)
    expect(seen).toEqual({ type: 'text/plain', cookies: ['a=1', 'b=2'], names: ['content-type', 'x-my-thing', 'set-cookie'] })
  })

  it('go out exactly as the app spelled them with --preserve-header-case (the plain EdgeResponse)', async () => {
    const head = await headOf(EdgeResponse)
    expect(head).toContain('Content-Type: text/plain')
    expect(head.filter((l) => l.startsWith('Set-Cookie: '))).toEqual(['Set-Cookie: a=1', 'Set-Cookie: b=2'])
    expect(head.some((l) => l.startsWith('content-type'))).toBe(false)
  })
})
