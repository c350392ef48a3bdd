import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { clientIp } from '../../../src/runtime/edge/client-ip.js'
import { routeLabel } from '../../../src/runtime/edge/http-metrics.js'

const req = (xff?: string) => ({ rawHeaders: xff ? ['X-Forwarded-For', xff] : [], socket: { remoteAddress: '10.0.0.1' } }) as unknown as IncomingMessage

describe('client address', () => {
  it('uses the socket address unless the proxy is trusted', () => {
    expect(clientIp(req('1.2.3.4'), false)).toBe('10.0.0.1')
    expect(clientIp(req('1.2.3.4'), true)).toBe('1.2.3.4')
    expect(clientIp(req('6.6.6.6, 1.2.3.4'), true)).toBe('1.2.3.4')
    expect(clientIp(req(), true)).toBe('10.0.0.1')
  })
})

describe('route label', () => {
  it('prefers the framework route pattern and folds ids otherwise', () => {
    expect(routeLabel({ url: '/orders/42', route: { path: '/:id' }, baseUrl: '/orders' })).toBe('/orders/:id')
    expect(routeLabel({ url: '/orders/42?x=1' })).toBe('/orders/:id')
    expect(routeLabel({ url: '/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301' })).toBe('/u/:id')
  })
})
