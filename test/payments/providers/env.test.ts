import { describe, expect, it } from 'vitest'
import { CREDENTIAL_ENV, credentialsFromEnv } from '../../../src/payments/providers/env.js'
import { createAdapter } from '../../../src/payments/providers/index.js'
import { startSandbox } from '../../../src/payments/sandbox/server.js'

describe('payment credentials from the environment', () => {
  it('reads exactly the variable names ecom doctor checks', () => {
    expect(Object.values(CREDENTIAL_ENV).flatMap((c) => Object.values(c.required)).sort()).toEqual(
      [
        'STRIPE_SECRET_KEY',
        'SQUARE_ACCESS_TOKEN',
        'SQUARE_LOCATION_ID',
        'ADYEN_API_KEY',
        'ADYEN_MERCHANT_ACCOUNT',
        'BRAINTREE_MERCHANT_ID',
        'BRAINTREE_PUBLIC_KEY',
        'BRAINTREE_PRIVATE_KEY',
      ].sort(),
    )
    const env = {
      STRIPE_SECRET_KEY: 'sk_test_1',
      SQUARE_ACCESS_TOKEN: 'sq-token',
      SQUARE_LOCATION_ID: 'L1',
      ADYEN_API_KEY: 'ak',
      ADYEN_MERCHANT_ACCOUNT: 'Shop',
      BRAINTREE_MERCHANT_ID: 'm',
      BRAINTREE_PUBLIC_KEY: 'pub',
      BRAINTREE_PRIVATE_KEY: 'priv',
      STRIPE_WEBHOOK_SECRET: 'whsec_1',
    }
    expect(credentialsFromEnv('stripe', env)).toEqual({ apiKey: 'sk_test_1', webhookSecret: 'whsec_1' })
    expect(credentialsFromEnv('square', env)).toMatchObject({ accessToken: 'sq-token', locationId: 'L1' })
    expect(credentialsFromEnv('adyen', env)).toMatchObject({ apiKey: 'ak', merchantAccount: 'Shop' })
    expect(credentialsFromEnv('braintree', env)).toEqual({ merchantId: 'm', publicKey: 'pub', privateKey: 'priv' })
  })

  it('names every missing required variable in one coded error', () => {
    expect(() => credentialsFromEnv('braintree', { BRAINTREE_MERCHANT_ID: 'm' })).toThrow(
      expect.objectContaining({ code: 'ECOM_ERR_INVALID_CONFIG', message: expect.stringContaining('BRAINTREE_PUBLIC_KEY, BRAINTREE_PRIVATE_KEY') }),
    )
    expect(() => credentialsFromEnv('square', { SQUARE_ACCESS_TOKEN: 't', SQUARE_LOCATION_ID: '' })).toThrow(/SQUARE_LOCATION_ID/)
  })

  it('credentials read from the environment drive a real adapter', async () => {
    const sb = await startSandbox({ providers: ['stripe'] })
    try {
      const env = { STRIPE_SECRET_KEY: sb.credentials.stripe.apiKey }
      const a = await createAdapter('stripe', { credentials: credentialsFromEnv('stripe', env), sandboxUrl: sb.url })
      const r = await a.authorize(
        { paymentId: 'env-1', amount: { amount: 500, currency: 'USD' }, method: { type: 'card', tokens: { stripe: 'pm_card_visa' } }, capture: true },
        { paymentId: 'env-1', attempt: 1, idempotencyKey: 'env-1:1:stripe' },
      )
      expect(r.outcome).toBe('approved')
    } finally {
      await sb.close()
    }
  })
})
