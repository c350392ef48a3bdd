/**
 * Runs the adapter conformance suite for every provider in the adapter registry, each through its
 * official SDK against its emulator in one sandbox server.
 */
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROVIDER_NAMES, type PaymentMethod, type ProviderName } from '../../src/payments/model.js'
import { ADAPTERS, createAdapter } from '../../src/payments/providers/index.js'
import type { SandboxWebhook } from '../../src/payments/sandbox/index.js'
import { startSandbox, type Sandbox } from '../../src/payments/sandbox/server.js'
import { SQUARE_SANDBOX_NOTIFICATION_URL } from '../../src/payments/sandbox/square-values.js'
import { BRAINTREE_DECLINE_AMOUNTS, TEST_CARDS } from '../../src/payments/sandbox/test-cards.js'
import { paymentAdapterConformance, type ConformanceKit, type DeclineCase, type TestCardExpectation } from '../conformance/payment-adapter.js'

const method = (p: ProviderName, token: PaymentMethod['tokens'][ProviderName]): PaymentMethod => ({ type: 'card', tokens: { [p]: token } })
const adyenCard = (holderName: string) => method('adyen', { type: 'scheme', number: '4111111145551142', expiryMonth: '03', expiryYear: '2030', cvc: '737', holderName })

/** Breaks a JSON body's bytes while keeping its signature header: what a tampering proxy would do. */
const tamperBody = (h: SandboxWebhook): SandboxWebhook => ({ ...h, body: h.body.replace(/"(amount|value)":(\d)/, '"$1":9$2') })

const approved: TestCardExpectation = { outcome: 'approved', code: 'approved' }
// Stripe and Adyen publish a test value for every kind of test card; Square and Braintree do not.
const EVERY_KIND_PUBLISHED = {
  visa: approved,
  mastercard: approved,
  declined: { outcome: 'hard_decline', code: 'card_declined' },
  insufficient_funds: { outcome: 'soft_decline', code: 'insufficient_funds' },
  expired: { outcome: 'hard_decline', code: 'expired_card' },
  incorrect_cvc: { outcome: 'hard_decline', code: 'incorrect_cvc' },
  fraud: { outcome: 'hard_decline', code: 'fraud_suspected' },
  processing_error: { outcome: 'soft_decline', code: 'processing_error' },
} as const satisfies Record<string, TestCardExpectation>

const KITS: Record<ProviderName, Omit<ConformanceKit, 'adapter'>> = {
  stripe: {
    provider: 'stripe',
    currency: 'USD',
    approved: method('stripe', 'pm_card_visa'),
    declines: [
      { name: 'pm_card_chargeDeclined', method: method('stripe', TEST_CARDS.declined.stripe!), outcome: 'hard_decline', code: 'card_declined' },
      { name: 'insufficient funds', method: method('stripe', TEST_CARDS.insufficient_funds.stripe!), outcome: 'soft_decline', code: 'insufficient_funds' },
      { name: 'expired card', method: method('stripe', TEST_CARDS.expired.stripe!), outcome: 'hard_decline', code: 'expired_card' },
      { name: 'incorrect cvc', method: method('stripe', TEST_CARDS.incorrect_cvc.stripe!), outcome: 'hard_decline', code: 'incorrect_cvc' },
      { name: 'fraudulent', method: method('stripe', TEST_CARDS.fraud.stripe!), outcome: 'hard_decline', code: 'fraud_suspected' },
    ],
    forge: tamperBody,
    unknownKeyStatus: 'not_found',
    testCards: EVERY_KIND_PUBLISHED,
  },
  square: {
    provider: 'square',
    currency: 'USD',
    approved: method('square', 'cnon:card-nonce-ok'),
    webhookUrl: SQUARE_SANDBOX_NOTIFICATION_URL,
    declines: [
      { name: 'cnon:card-nonce-declined', method: method('square', 'cnon:card-nonce-declined'), outcome: 'hard_decline', code: 'card_declined' },
      { name: 'cnon:card-nonce-rejected-cvv', method: method('square', 'cnon:card-nonce-rejected-cvv'), outcome: 'hard_decline', code: 'incorrect_cvc' },
      { name: 'cnon:card-nonce-rejected-expiration', method: method('square', 'cnon:card-nonce-rejected-expiration'), outcome: 'hard_decline', code: 'expired_card' },
      { name: 'cnon:card-nonce-rejected-postalcode', method: method('square', 'cnon:card-nonce-rejected-postalcode'), outcome: 'hard_decline', code: 'card_declined' },
      { name: 'cnon:gift-card-nonce-insufficient-funds', method: method('square', 'cnon:gift-card-nonce-insufficient-funds'), outcome: 'soft_decline', code: 'insufficient_funds' },
      { name: 'cnon:card-nonce-requires-verification', method: method('square', 'cnon:card-nonce-requires-verification'), outcome: 'soft_decline', code: 'do_not_honor' },
      { name: 'cnon:card-nonce-already-used', method: method('square', 'cnon:card-nonce-already-used'), outcome: 'technical_failure', code: 'invalid_request' },
    ],
    forge: tamperBody,
    unknownKeyStatus: 'not_found',
    testCards: {
      ...EVERY_KIND_PUBLISHED,
      fraud: { noTestValue: 'Square publishes no fraud test value (its sandbox nonces: ok, declined, cvv, postal code, expiration, already used, verification)' },
      processing_error: { noTestValue: 'Square publishes no processing-error test value' },
    },
  },
  adyen: {
    provider: 'adyen',
    currency: 'USD',
    approved: adyenCard('John Smith'),
    declines: (
      [
        ['DECLINED', 'hard_decline', 'card_declined'],
        ['CARD_EXPIRED', 'hard_decline', 'expired_card'],
        ['CVC_DECLINED', 'hard_decline', 'incorrect_cvc'],
        ['NOT_ENOUGH_BALANCE', 'soft_decline', 'insufficient_funds'],
        ['FRAUD', 'hard_decline', 'fraud_suspected'],
        ['BLOCK_CARD', 'hard_decline', 'fraud_suspected'],
        ['INVALID_CARD_NUMBER', 'hard_decline', 'incorrect_number'],
        ['ISSUER_UNAVAILABLE', 'soft_decline', 'try_again_later'],
        ['REFERRAL', 'soft_decline', 'do_not_honor'],
        ['ERROR', 'soft_decline', 'processing_error'],
      ] as const
    ).map(([holder, outcome, code]): DeclineCase => ({ name: `holderName ${holder}`, method: adyenCard(holder), outcome, code })),
    forge: tamperBody,
    unknownKeyStatus: 'unknown',
    testCards: EVERY_KIND_PUBLISHED,
  },
  braintree: {
    provider: 'braintree',
    currency: 'USD',
    approved: method('braintree', 'fake-valid-nonce'),
    declines: [
      { name: 'fake-processor-declined-visa-nonce', method: method('braintree', 'fake-processor-declined-visa-nonce'), outcome: 'soft_decline', code: 'do_not_honor' },
      { name: 'amount 2001.00', amount: 200_100, method: method('braintree', 'fake-valid-nonce'), outcome: 'soft_decline', code: 'insufficient_funds' },
      { name: 'amount 2004.00', amount: 200_400, method: method('braintree', 'fake-valid-nonce'), outcome: 'hard_decline', code: 'expired_card' },
      { name: 'amount 2010.00', amount: 201_000, method: method('braintree', 'fake-valid-nonce'), outcome: 'hard_decline', code: 'incorrect_cvc' },
      { name: 'amount 2014.00', amount: 201_400, method: method('braintree', 'fake-valid-nonce'), outcome: 'hard_decline', code: 'fraud_suspected' },
      { name: 'amount 3000.00 (processor failure)', amount: 300_000, method: method('braintree', 'fake-valid-nonce'), outcome: 'soft_decline', code: 'try_again_later' },
      { name: 'fake-gateway-rejected-fraud-nonce', method: method('braintree', 'fake-gateway-rejected-fraud-nonce'), outcome: 'hard_decline', code: 'fraud_suspected' },
      { name: 'fake-luhn-invalid-nonce', method: method('braintree', 'fake-luhn-invalid-nonce'), outcome: 'technical_failure', code: 'invalid_request' },
    ],
    // Re-signed with a key that is not the merchant's: a forger without the private key.
    forge: (h) => {
      const form = new URLSearchParams(h.body)
      const payload = form.get('bt_payload')!
      const key = createHmac('sha1', 'x').update('not-the-private-key').digest()
      form.set('bt_signature', `${form.get('bt_signature')!.split('|')[0]}|${createHmac('sha1', key).update(payload).digest('hex')}`)
      return { ...h, body: form.toString() }
    },
    unknownKeyStatus: 'not_found',
    // Braintree's nonces cover declined, fraud and processor failure; the rest it triggers by amount.
    testCards: {
      visa: approved,
      mastercard: approved,
      declined: { outcome: 'soft_decline', code: 'do_not_honor' },
      insufficient_funds: { outcome: 'soft_decline', code: 'insufficient_funds', amount: BRAINTREE_DECLINE_AMOUNTS.insufficient_funds! },
      expired: { outcome: 'hard_decline', code: 'expired_card', amount: BRAINTREE_DECLINE_AMOUNTS.expired! },
      incorrect_cvc: { outcome: 'hard_decline', code: 'incorrect_cvc', amount: BRAINTREE_DECLINE_AMOUNTS.incorrect_cvc! },
      fraud: { outcome: 'hard_decline', code: 'fraud_suspected' },
      processing_error: { outcome: 'soft_decline', code: 'try_again_later' },
    },
  },
}

const providers = PROVIDER_NAMES.filter((p) => ADAPTERS[p])
let sandbox: Sandbox

beforeAll(async () => {
  sandbox = await startSandbox({ providers })
})
afterAll(async () => {
  await sandbox?.close()
})

it('no adapter is left with known gaps', () => {
  expect(Object.entries(KITS).filter(([, k]) => Object.keys(k.knownGaps ?? {}).length > 0).map(([p]) => p)).toEqual([])
})

for (const provider of providers) {
  describe(`payment adapter conformance: ${provider}`, () => {
    paymentAdapterConformance(
      {
        ...KITS[provider],
        adapter: (sandboxUrl) => createAdapter(provider, { credentials: sandbox.credentials[provider], sandboxUrl, timeoutMs: 5000 } as never),
      },
      () => sandbox,
    )
  })
}
