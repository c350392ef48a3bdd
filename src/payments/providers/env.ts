import { InvalidConfigError } from '../../errors.js'
import type { ProviderName } from '../model.js'
import type { SandboxCredentials } from '../sandbox/types.js'

/**
 * The environment variables each provider's credentials are read from: the names `ecom doctor` checks,
 * so one `.env` serves both. `required` must be set; `optional` only enable webhook verification.
 */
export const CREDENTIAL_ENV: Readonly<Record<ProviderName, { readonly required: Readonly<Record<string, string>>; readonly optional: Readonly<Record<string, string>> }>> = Object.freeze({
  stripe: { required: { apiKey: 'STRIPE_SECRET_KEY' }, optional: { webhookSecret: 'STRIPE_WEBHOOK_SECRET' } },
  square: {
    required: { accessToken: 'SQUARE_ACCESS_TOKEN', locationId: 'SQUARE_LOCATION_ID' },
    optional: { webhookSignatureKey: 'SQUARE_WEBHOOK_SIGNATURE_KEY' },
  },
  adyen: { required: { apiKey: 'ADYEN_API_KEY', merchantAccount: 'ADYEN_MERCHANT_ACCOUNT' }, optional: { hmacKeyHex: 'ADYEN_HMAC_KEY' } },
  braintree: {
    required: { merchantId: 'BRAINTREE_MERCHANT_ID', publicKey: 'BRAINTREE_PUBLIC_KEY', privateKey: 'BRAINTREE_PRIVATE_KEY' },
    optional: {},
  },
})

/**
 * A provider's credentials from the environment (`CREDENTIAL_ENV`), for `createAdapter(name, { credentials })`.
 * Throws `InvalidConfigError` naming every required variable that is unset or empty.
 */
export function credentialsFromEnv<P extends ProviderName>(provider: P, env: NodeJS.ProcessEnv = process.env): SandboxCredentials[P] {
  const names = CREDENTIAL_ENV[provider]
  if (!names) throw new InvalidConfigError(`no credential variables are known for payment provider "${String(provider)}"`)
  const out: Record<string, string> = {}
  const missing: string[] = []
  for (const [field, name] of Object.entries(names.required)) {
    const v = env[name]
    if (v) out[field] = v
    else missing.push(name)
  }
  if (missing.length) throw new InvalidConfigError(`${provider} credentials: ${missing.join(', ')} must be set in the environment`, { details: { missing } })
  for (const [field, name] of Object.entries(names.optional)) out[field] = env[name] ?? ''
  return out as unknown as SandboxCredentials[P]
}
