import { describe, expect, it } from 'vitest'
import { checkNode, checkPayments, failing, renderTable } from '../../../src/runtime/doctor/checks.js'

describe('doctor checks', () => {
  it.each([
    ['20.19.0', 'ok'],
    ['20.20.2', 'ok'],
    ['22.1.0', 'ok'],
    ['20.18.9', 'fail'],
    ['18.20.0', 'fail'],
  ])('node %s -> %s', (v, verdict) => {
    const r = checkNode(v)
    expect(r.verdict).toBe(verdict)
    expect(r.required).toBe(true)
  })

  it('payments: presence only, values never in the result; an incomplete set fails', () => {
    const env = { STRIPE_SECRET_KEY: 'sk_test_TOPSECRET', ADYEN_API_KEY: 'ADYENSECRET' }
    const results = checkPayments(env, false)
    const text = JSON.stringify(results) + renderTable(results)
    expect(text).not.toContain('TOPSECRET')
    expect(text).not.toContain('ADYENSECRET')
    expect(results.find((r) => r.check === 'payments stripe')?.verdict).toBe('ok')
    const adyen = results.find((r) => r.check === 'payments adyen')!
    expect(adyen.verdict).toBe('fail')
    expect(adyen.detail).toContain('missing ADYEN_MERCHANT_ACCOUNT')
    expect(failing(results).map((r) => r.check)).toEqual(['payments adyen'])
  })

  it('payments: none configured is a warning, or a failure when required', () => {
    expect(checkPayments({}, false).at(-1)).toMatchObject({ verdict: 'warn', required: false })
    expect(failing(checkPayments({}, true))).toHaveLength(1)
  })
})
