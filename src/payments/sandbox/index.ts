import type { ProviderName } from '../model.js'
import type { ProviderEmulator, SandboxCredentials } from './types.js'

/**
 * What the sandbox server hands each emulator when it creates it. Emulators sign their webhooks with
 * `credentials` and deliver them through `emitWebhook`, which records them (GET /__admin/webhooks) and
 * POSTs them to the sandbox's `webhookUrl` when one is set.
 */
export interface EmulatorContext {
  readonly credentials: SandboxCredentials
  /** http://host:port of the sandbox; valid once it listens. */
  baseUrl(): string
  /** Where webhooks are delivered (the sandbox's `webhookUrl`), for providers that sign the URL (Square). */
  webhookUrl?(): string | undefined
  emitWebhook(hook: SandboxWebhook): void
}

export interface SandboxWebhook {
  readonly provider: ProviderName
  /** The exact bytes signed, as the provider sends them. */
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/** Each emulator module exports `createEmulator`. */
export type EmulatorFactory = (ctx: EmulatorContext) => ProviderEmulator

/** The registered emulators, loaded lazily. One line per provider. */
export const EMULATORS: Partial<Record<ProviderName, () => Promise<{ createEmulator: EmulatorFactory }>>> = {
  stripe: () => import('./stripe.js'),
  // providers
  square: () => import('./square.js'),
  adyen: () => import('./adyen.js'),
  braintree: () => import('./braintree.js'),
}
