// The `ecom/payments` entry exports the error classes its functions throw, so an app can tell a
// forged webhook or an unavailable provider apart with `instanceof` without a deep import.
import { describe, expect, it } from 'vitest'
import * as errors from '../../src/errors.js'
import * as payments from '../../src/public/payments.js'

const PAYMENT_ERRORS = [
  'InvalidMoneyError',
  'RoutingConfigError',
  'UnknownProviderError',
  'NoEligibleProviderError',
  'PaymentConflictError',
  'PaymentNotFoundError',
  'IllegalTransitionError',
  'PaymentOperationError',
  'WebhookSignatureError',
  'WebhookPayloadError',
  'SandboxListenError',
] as const

describe('ecom/payments entry', () => {
  it('exports every payments error class, the same class the library throws', () => {
    for (const name of PAYMENT_ERRORS) expect((payments as Record<string, unknown>)[name], name).toBe(errors[name])
  })

  it('a forged webhook rejects with the exported WebhookSignatureError', async () => {
    const stripe = await payments.createAdapter('stripe', { credentials: payments.SANDBOX_CREDENTIALS.stripe })
    const router = await payments.createRouter({ config: { providers: { stripe: {} } }, adapters: { stripe } })
    try {
      const err = await router.handleWebhook('stripe', '{"id":"evt_1"}', { 'stripe-signature': 't=1,v1=00' }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(payments.WebhookSignatureError)
      expect((err as errors.EcomError).code).toBe('ECOM_ERR_PAYMENTS_WEBHOOK_SIGNATURE')
    } finally {
      await router.close()
    }
  })

  it('a payment no provider can take rejects with the exported NoEligibleProviderError', async () => {
    const stripe = await payments.createAdapter('stripe', { credentials: payments.SANDBOX_CREDENTIALS.stripe })
    const router = await payments.createRouter({ config: { providers: { stripe: {} } }, adapters: { stripe } })
    try {
      // A method without a Stripe token: no provider is eligible, nothing is sent.
      const req = { paymentId: 'p-1', amount: { amount: 100, currency: 'USD' }, method: { type: 'card' as const, tokens: { square: 'cnon:card-nonce-ok' } } }
      await expect(router.sale(req)).rejects.toBeInstanceOf(payments.NoEligibleProviderError)
    } finally {
      await router.close()
    }
  })
})
