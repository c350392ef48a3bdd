import type { PaymentMethod, ProviderName, ProviderToken } from '../model.js'

/**
 * The kinds of test card every emulator honours, each with the provider's own published test value:
 * - Stripe: test PaymentMethods (`pm_card_visa`, `pm_card_chargeDeclined...`)
 * - Square: test payment tokens (`cnon:card-nonce-ok`, `cnon:card-nonce-declined`, ...)
 * - Adyen: test card numbers with the holder-name trigger for a refusal reason (`DECLINED`, `CARD_EXPIRED`, `ERROR`,
 *   `NOT_ENOUGH_BALANCE`, ...: Adyen's "Values for testing refusal reasons", the emulator's `ADYEN_HOLDER_NAME_TRIGGERS`)
 * - Braintree: test nonces (`fake-valid-nonce`, `fake-processor-declined-visa-nonce`, ...). Braintree
 *   triggers most specific declines by amount instead (2000.00-2999.00 decline with that processor
 *   response code): see `BRAINTREE_DECLINE_AMOUNTS`. A provider without a published value for a kind has
 *   no token for it, so the router does not send that method there.
 */
export type TestCardKind =
  | 'visa'
  | 'mastercard'
  | 'declined'
  | 'insufficient_funds'
  | 'expired'
  | 'incorrect_cvc'
  | 'fraud'
  | 'processing_error'

const ADYEN_VISA = { type: 'scheme', number: '4111111111111111', expiryMonth: '03', expiryYear: '2030', cvc: '737' }
const ADYEN_MC = { type: 'scheme', number: '5555341244441115', expiryMonth: '03', expiryYear: '2030', cvc: '737' }
const adyen = (holderName: string, card = ADYEN_VISA): ProviderToken => Object.freeze({ ...card, holderName })

export const TEST_CARDS: Readonly<Record<TestCardKind, Readonly<Partial<Record<ProviderName, ProviderToken>>>>> = Object.freeze({
  visa: {
    stripe: 'pm_card_visa',
    square: 'cnon:card-nonce-ok',
    adyen: adyen('John Smith'),
    braintree: 'fake-valid-visa-nonce',
  },
  mastercard: {
    stripe: 'pm_card_mastercard',
    square: 'cnon:card-nonce-ok',
    adyen: adyen('John Smith', ADYEN_MC),
    braintree: 'fake-valid-mastercard-nonce',
  },
  declined: {
    stripe: 'pm_card_chargeDeclined',
    square: 'cnon:card-nonce-declined',
    adyen: adyen('DECLINED'),
    braintree: 'fake-processor-declined-visa-nonce',
  },
  insufficient_funds: {
    stripe: 'pm_card_chargeDeclinedInsufficientFunds',
    // Square publishes no card nonce for it; its gift card nonce is the one that answers INSUFFICIENT_FUNDS.
    square: 'cnon:gift-card-nonce-insufficient-funds',
    adyen: adyen('NOT_ENOUGH_BALANCE'),
  },
  expired: {
    stripe: 'pm_card_chargeDeclinedExpiredCard',
    square: 'cnon:card-nonce-rejected-expiration',
    adyen: adyen('CARD_EXPIRED'),
  },
  incorrect_cvc: {
    stripe: 'pm_card_chargeDeclinedIncorrectCvc',
    square: 'cnon:card-nonce-rejected-cvv',
    adyen: adyen('CVC_DECLINED'),
  },
  fraud: {
    stripe: 'pm_card_chargeDeclinedFraudulent',
    adyen: adyen('FRAUD'),
    braintree: 'fake-gateway-rejected-fraud-nonce',
  },
  processing_error: {
    stripe: 'pm_card_chargeDeclinedProcessingError',
    adyen: adyen('ERROR'), // resultCode Error, refusal reason 4 Acquirer Error
    braintree: 'fake-processor-failure-visa-nonce',
  },
})

/**
 * Braintree sandbox amounts (minor units of USD) that decline with the processor response code equal to
 * the amount in major units, per Braintree's testing docs; use them with `fake-valid-nonce`.
 */
export const BRAINTREE_DECLINE_AMOUNTS: Readonly<Partial<Record<TestCardKind, number>>> = Object.freeze({
  declined: 200_000, // 2000 Do Not Honor
  insufficient_funds: 200_100, // 2001 Insufficient Funds
  expired: 200_400, // 2004 Expired Card
  incorrect_cvc: 201_000, // 2010 Card Issuer Declined CVV
})

/** A payment method carrying each provider's published test value for `kind`. */
export function testCard(kind: TestCardKind = 'visa', providers?: readonly ProviderName[]): PaymentMethod {
  const all = TEST_CARDS[kind]
  const tokens: Partial<Record<ProviderName, ProviderToken>> = {}
  for (const [p, t] of Object.entries(all) as Array<[ProviderName, ProviderToken]>) {
    if (!providers || providers.includes(p)) tokens[p] = t
  }
  return { type: 'card', tokens, brand: kind === 'mastercard' ? 'mastercard' : 'visa', country: 'US' }
}
