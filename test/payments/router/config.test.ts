import { describe, expect, it } from 'vitest'
import { RoutingConfigError } from '../../../src/errors.js'
import { parseRouterConfig } from '../../../src/payments/router/config.js'

describe('routing config', () => {
  it('fills defaults', () => {
    const c = parseRouterConfig({ providers: { stripe: {} } })
    expect(c.strategy).toBe('priority')
    expect(c.failover.maxAttempts).toBe(3)
    expect(c.breaker.failureThreshold).toBe(5)
    expect(c.providers.stripe!.enabled).toBe(true)
  })

  it('reports every problem as path: message', () => {
    let err: RoutingConfigError | undefined
    try {
      parseRouterConfig({
        providers: { stripe: { weight: -1 }, paypal: {} },
        strategy: 'cheapest',
        rules: [{ when: { currency: ['usd'], amount: { min: 5 } }, use: ['stripe'] }],
        breaker: { failureThreshold: 0 },
      })
    } catch (e) {
      err = e as RoutingConfigError
    }
    expect(err).toBeInstanceOf(RoutingConfigError)
    const problems = err!.details!.problems as string[]
    expect(problems.length).toBeGreaterThanOrEqual(4)
    expect(problems.some((p) => p.startsWith('providers.stripe.weight: '))).toBe(true)
    expect(problems.some((p) => p.startsWith('strategy: '))).toBe(true)
    expect(problems.some((p) => p.startsWith('rules.0.when.currency.0: '))).toBe(true)
    expect(problems.some((p) => p.startsWith('breaker.failureThreshold: '))).toBe(true)
    for (const p of problems) expect(p).toMatch(/^[\w.()]+: .+/)
    expect(err!.message).toContain('providers.stripe.weight')
  })

  it('reports semantic problems after the schema passes, all at once', () => {
    let problems: string[] = []
    try {
      parseRouterConfig({
        providers: { stripe: {}, square: { fees: { ZZZ: { percent: 1, fixed: 0 } } } },
        strategy: ['weighted', 'lowest-cost'],
        rules: [
          { when: { amount: { min: 10, max: 5 } }, use: ['adyen'] },
          { when: {} },
        ],
      })
    } catch (e) {
      problems = (e as RoutingConfigError).details!.problems as string[]
    }
    expect(problems).toContain('providers.square.fees.ZZZ: expected a known ISO 4217 currency code or "*"')
    expect(problems).toContain('rules.0.use.0: provider "adyen" is not configured')
    expect(problems).toContain('rules.0.when.amount: min (10) is greater than max (5)')
    expect(problems).toContain('rules.1: a rule needs "use" or "exclude"')
  })
})
