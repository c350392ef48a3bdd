import { describe, expect, it } from 'vitest'
import { CircuitBreaker, ProviderHealth } from '../../../src/payments/router/breaker.js'

describe('circuit breaker', () => {
  it('opens after consecutive failures, half-opens after the cooldown, closes on a probe success', () => {
    let now = 0
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, halfOpenProbes: 1, now: () => now })
    b.failure()
    b.failure()
    b.success() // resets the count
    b.failure()
    b.failure()
    expect(b.state).toBe('closed')
    b.failure()
    expect(b.state).toBe('open')
    expect(b.acquire()).toBe(false)
    now = 999
    expect(b.available()).toBe(false)
    now = 1000
    expect(b.state).toBe('half_open')
    expect(b.acquire()).toBe(true)
    expect(b.acquire()).toBe(false) // one probe only
    b.success()
    expect(b.state).toBe('closed')
    expect(b.acquire()).toBe(true)
  })

  it('re-opens when the probe fails', () => {
    let now = 0
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100, halfOpenProbes: 1, now: () => now })
    b.failure()
    now = 100
    expect(b.acquire()).toBe(true)
    b.failure()
    expect(b.state).toBe('open')
    now = 150
    expect(b.state).toBe('open')
    now = 200
    expect(b.state).toBe('half_open')
  })

  it('health keeps a latency moving average and a sliding success window', () => {
    const h = new ProviderHealth(0.5, 4)
    expect(h.successRate).toBeUndefined()
    h.record(true, 100)
    h.record(false, 200)
    expect(h.latencyMs).toBe(150)
    h.record(true, 100)
    h.record(true, 100)
    expect(h.successRate).toBe(0.75)
    h.record(true, 100) // pushes the failure out? no: the oldest (a success) goes first
    expect(h.successRate).toBe(0.75)
    h.record(true, 100) // now the failure leaves the window
    expect(h.successRate).toBe(1)
  })
})
