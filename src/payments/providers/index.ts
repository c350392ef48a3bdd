import { UnknownProviderError } from '../../errors.js'
import type { PaymentAdapter, ProviderName } from '../model.js'
import type { SandboxCredentials } from '../sandbox/types.js'

export { loadSdk } from '../load-optional.js'

/** Options every adapter takes; provider-specific extras ride along. */
export interface AdapterOptions<P extends ProviderName = ProviderName> {
  /** The provider's credentials, in the sandbox's shape for that provider. */
  credentials: SandboxCredentials[P]
  /** Point the SDK at the local sandbox (e.g. `http://127.0.0.1:4242`) instead of the provider's test API. */
  sandboxUrl?: string
  /** Per-request timeout in ms; a timeout after sending is an ambiguous outcome. @default 10000 */
  timeoutMs?: number
  [extra: string]: unknown
}

export type AdapterModule = { createAdapter(options: AdapterOptions<any>): Promise<PaymentAdapter> }

/** The registered adapters, loaded lazily so an app pays only for the SDKs it uses. One line each. */
export const ADAPTERS: Partial<Record<ProviderName, () => Promise<AdapterModule>>> = {
  stripe: () => import('./stripe.js'),
  // providers
  square: () => import('./square.js'),
  adyen: () => import('./adyen.js'),
  braintree: () => import('./braintree.js'),
}

export async function createAdapter<P extends ProviderName>(name: P, options: AdapterOptions<P>): Promise<PaymentAdapter> {
  const load = ADAPTERS[name]
  if (!load) throw new UnknownProviderError(`unknown payment provider "${String(name)}" (known: ${Object.keys(ADAPTERS).join(', ')})`)
  const mod = await load()
  return mod.createAdapter(options)
}
