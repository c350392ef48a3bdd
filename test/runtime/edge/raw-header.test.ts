import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { rawHeader } from '../../../src/runtime/edge/raw-header.js'

const req = (...raw: string[]) => ({ rawHeaders: raw }) as unknown as IncomingMessage

describe('raw header', () => {
  it('finds a header whatever the case it was sent in', () => {
    expect(rawHeader(req('Host', 'x', 'X-Request-Id', 'abc'), 'x-request-id')).toBe('abc')
    expect(rawHeader(req('x-request-id', 'abc'), 'x-request-id')).toBe('abc')
    expect(rawHeader(req('X-REQUEST-ID', 'abc'), 'x-request-id')).toBe('abc')
  })

  it('is undefined when the header is absent, even under a name of the same length', () => {
    expect(rawHeader(req('Host', 'x', 'X-Request-Ix', 'abc'), 'x-request-id')).toBeUndefined()
    expect(rawHeader(req(), 'content-length')).toBeUndefined()
  })

  it('joins a repeated header with ", " like req.headers', () => {
    expect(rawHeader(req('X-Request-Id', 'a', 'Host', 'x', 'x-request-id', 'b'), 'x-request-id')).toBe('a, b')
  })
})
