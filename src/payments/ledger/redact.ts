import type { AuthorizeRequest } from '../model.js'

/**
 * Card fields that must never be stored: the full card number and the security code, in the clear or
 * encrypted for the provider (PCI DSS keeps sensitive authentication data out of storage after
 * authorization). They only appear when a caller passes raw or client-encrypted card fields as a
 * provider token (Adyen's card object); token strings (pm_…, nonces) are not card data and are kept.
 */
const CARD_SECRETS = new Set(['number', 'cvc', 'cvv', 'securityCode', 'encryptedCardNumber', 'encryptedSecurityCode'])

/** The request as the ledger stores it, and whether card secrets were left out of it. */
export interface StoredRequest extends AuthorizeRequest {
  /** Present (true) when card secrets were removed: this copy cannot be re-sent to the provider. */
  readonly redacted?: true
}

/** JSON of the request without card secrets; `redacted: true` says the copy is not replayable. */
export function storableRequest(req: AuthorizeRequest): string {
  let redacted = false
  const tokens: Record<string, unknown> = {}
  for (const [provider, token] of Object.entries(req.method.tokens)) {
    if (token === null || typeof token !== 'object') {
      tokens[provider] = token
      continue
    }
    const kept: Record<string, string> = {}
    for (const [field, value] of Object.entries(token)) {
      if (CARD_SECRETS.has(field)) redacted = true
      else kept[field] = value
    }
    tokens[provider] = kept
  }
  if (!redacted) return JSON.stringify(req)
  return JSON.stringify({ ...req, method: { ...req.method, tokens }, redacted: true })
}
