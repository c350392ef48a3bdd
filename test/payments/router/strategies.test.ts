import { describe, expect, it } from 'vitest'
import type { AuthorizeRequest, ProviderName } from '../../../src/payments/model.js'
import { ProviderHealth } from '../../../src/payments/router/breaker.js'
import { parseRouterConfig, type RouterConfigInput } from '../../../src/payments/router/config.js'
import { eligible, rank } from '../../../src/payments/router/strategies.js'
import { testCard } from '../../../src/payments/sandbox/test-cards.js'

const ALL = { stripe: {}, square: {}, adyen: {}, braintree: {} }
const req = (over: Partial<AuthorizeRequest> = {}): AuthorizeRequest => ({
  paymentId: 'p',
  amount: { amount: 10_000, currency: 'USD' },
  method: testCard('visa'),
  capture: true,
  ...over,
})

function order(cfg: RouterConfigInput, r = req(), health = new Map<ProviderName, ProviderHealth>(), random = Math.random) {
  const config = parseRouterConfig(cfg)
  const input = { req: r, config, health, random }
  return rank(input, eligible(input))
}

function seeded(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32)
}

describe('routing strategies', () => {
  it('priority: explicit priority first, then listing order', () => {
    expect(order({ providers: ALL })).toEqual(['stripe', 'square', 'adyen', 'braintree'])
    expect(order({ providers: { stripe: { priority: 3 }, square: { priority: 1 }, adyen: { priority: 2 } } })).toEqual(['square', 'adyen', 'stripe'])
  })

  it('weighted: splits first choices by weight', () => {
    const config = parseRouterConfig({ providers: { stripe: { weight: 3 }, square: { weight: 1 }, adyen: { weight: 0 } }, strategy: 'weighted' })
    const input = { req: req(), config, health: new Map(), random: seeded(42) }
    const first = new Map<string, number>()
    for (let i = 0; i < 4000; i++) {
      const o = rank(input)
      first.set(o[0]!, (first.get(o[0]!) ?? 0) + 1)
      expect(o).toHaveLength(3)
    }
    expect(first.get('adyen') ?? 0).toBe(0)
    const share = first.get('stripe')! / 4000
    expect(share).toBeGreaterThan(0.7)
    expect(share).toBeLessThan(0.8)
  })

  it('rules: currency, country, amount range, method and metadata filter; use sets the order', () => {
    const rules: RouterConfigInput['rules'] = [
      { when: { currency: ['EUR'] }, use: ['adyen', 'stripe'] },
      { when: { country: ['CA'] }, exclude: ['square'] },
      { when: { amount: { min: 100_000 } }, use: ['braintree'] },
      { when: { method: ['mastercard'] }, use: ['square'] },
      { when: { metadata: { channel: 'pos' } }, use: ['square', 'stripe'] },
    ]
    expect(order({ providers: ALL, rules }, req({ amount: { amount: 100, currency: 'EUR' } }))).toEqual(['adyen', 'stripe'])
    expect(order({ providers: ALL, rules }, req({ country: 'CA' }))).toEqual(['stripe', 'adyen', 'braintree'])
    expect(order({ providers: ALL, rules }, req({ amount: { amount: 200_000, currency: 'USD' } }))).toEqual(['braintree'])
    expect(order({ providers: ALL, rules }, req({ method: testCard('mastercard') }))).toEqual(['square'])
    expect(order({ providers: ALL, rules }, req({ metadata: { channel: 'pos' } }))).toEqual(['square', 'stripe'])
    // 'all' mode: every matching rule narrows the set
    expect(order({ providers: ALL, rules, rulesMode: 'all' }, req({ country: 'CA', metadata: { channel: 'pos' } }))).toEqual(['stripe'])
  })

  it('skips providers with no token for the method, and disabled providers', () => {
    // fraud has no Square published test value; expired none for Braintree
    expect(order({ providers: { ...ALL, stripe: { enabled: false } } }, req({ method: testCard('fraud') }))).toEqual(['adyen', 'braintree'])
    expect(order({ providers: { ...ALL, stripe: { enabled: false }, square: { enabled: false } } }, req({ method: testCard('expired') }))).toEqual(['adyen'])
  })

  it('lowest-cost: percent + fixed per currency, "*" as the fallback', () => {
    const providers = {
      stripe: { fees: { USD: { percent: 2.9, fixed: 30 } } },
      square: { fees: { '*': { percent: 2.6, fixed: 10 } } },
      adyen: { fees: { USD: { percent: 1.5, fixed: 120 } } },
      braintree: {},
    }
    // 10,000: stripe 320, square 270, adyen 270 -> square first (listed first), braintree (no schedule) last
    expect(order({ providers, strategy: 'lowest-cost' })).toEqual(['square', 'adyen', 'stripe', 'braintree'])
    // 100,000: stripe 2930, square 2610, adyen 1620
    expect(order({ providers, strategy: 'lowest-cost' }, req({ amount: { amount: 100_000, currency: 'USD' } }))).toEqual(['adyen', 'square', 'stripe', 'braintree'])
  })

  it('lowest-latency and highest-success read the health trackers', () => {
    const h = new Map<ProviderName, ProviderHealth>()
    for (const n of ['stripe', 'square', 'adyen', 'braintree'] as const) h.set(n, new ProviderHealth(0.5, 10))
    h.get('stripe')!.record(true, 80)
    h.get('square')!.record(true, 20)
    h.get('adyen')!.record(false, 5)
    h.get('braintree')!.record(true, 40)
    expect(order({ providers: ALL, strategy: 'lowest-latency' }, req(), h)).toEqual(['adyen', 'square', 'braintree', 'stripe'])
    expect(order({ providers: ALL, strategy: 'highest-success' }, req(), h)).toEqual(['stripe', 'square', 'braintree', 'adyen'])
  })

  it('composes: rules filter, then the first score, then the next as tie-breaker', () => {
    const h = new Map<ProviderName, ProviderHealth>()
    for (const n of ['stripe', 'square', 'adyen', 'braintree'] as const) h.set(n, new ProviderHealth(0.5, 10))
    h.get('stripe')!.record(true, 50)
    h.get('adyen')!.record(true, 10)
    h.get('square')!.record(false, 1)
    const providers = {
      stripe: { fees: { '*': { percent: 1, fixed: 0 } } },
      square: { fees: { '*': { percent: 1, fixed: 0 } } },
      adyen: { fees: { '*': { percent: 1, fixed: 0 } } },
      braintree: { fees: { '*': { percent: 5, fixed: 0 } } },
    }
    const o = order({ providers, strategy: ['lowest-cost', 'lowest-latency'], rules: [{ when: {}, exclude: ['square'] }] }, req(), h)
    expect(o).toEqual(['adyen', 'stripe', 'braintree'])
  })
})
