import { MissingDependencyError, UnknownProviderError } from '../../errors.js'
import type { PaymentAdapter, ProviderName } from '../model.js'
import type { SandboxCredentials } from '../sandbox/types.js'

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
}

export async function createAdapter<P extends ProviderName>(name: P, options: AdapterOptions<P>): Promise<PaymentAdapter> {
  const load = ADAPTERS[name]
  if (!load) throw new UnknownProviderError(`unknown payment provider "${String(name)}" (known: ${Object.keys(ADAPTERS).join(', ')})`)
  const mod = await load()
  return mod.createAdapter(options)
}

/**
 * Import an optional SDK, turning "not installed" into a coded error naming the package.
 * Call with a literal import so bundlers see it: `loadSdk('stripe', () => import('stripe'))`.
 */
export async function loadSdk<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingDependencyError(`the "${pkg}" package is required for this payment provider: npm install ${pkg}`, { cause: err })
    }
    throw err
  }
}
