import { describe, expect, it } from 'vitest'
import { BACKOFF_DEFAULTS, CrashCounter, backoffDelay } from '../../../src/runtime/supervisor/backoff.js'

describe('restart backoff', () => {
  it('starts at 100 ms and grows by 1.5 up to 15 s', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n))).toEqual([100, 150, 225, 338])
    expect(backoffDelay(12)).toBe(8650)
    expect(backoffDelay(13)).toBe(12975)
    expect(backoffDelay(14)).toBe(15_000)
    expect(backoffDelay(50)).toBe(15_000)
  })

  it('resets the count after a worker stayed up 30 s', () => {
    const c = new CrashCounter({ ...BACKOFF_DEFAULTS, crashLimit: 100 })
    expect(c.crashed(10)).toBe(100)
    expect(c.crashed(10)).toBe(150)
    expect(c.crashed(10)).toBe(225)
    expect(c.crashed(29_999)).toBe(338)
    expect(c.crashed(30_000)).toBe(100)
  })

  it('gives up at the crash limit', () => {
    const c = new CrashCounter({ ...BACKOFF_DEFAULTS, crashLimit: 3 })
    expect(c.crashed(0)).toBe(100)
    expect(c.crashed(0)).toBe(150)
    expect(c.crashed(0)).toBeNull()
  })
})
