import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ProviderName } from '../model.js'

/**
 * The local provider sandbox: one HTTP server, one emulator per provider, each speaking its provider's
 * real wire format on its provider's real paths, so the official SDKs talk to it unchanged:
 * - Stripe:    `/v1/...` (SDK `host`/`port`/`protocol: 'http'`)
 * - Braintree: `/merchants/<merchantId>/...` (`new braintree.Environment(host, port, authUrl, false)`)
 * - Square:    `/square/v2/...` (SDK `baseUrl: http://host:port/square`)
 * - Adyen:     `/adyen/...` (through a custom HTTP client, since the SDK's own speaks HTTPS only)
 * - Admin:     `/__admin/...` (faults, captured totals, reset)
 */

/** Faults the admin API injects per provider. The server applies them before or after the emulator. */
export interface EmulatorFaults {
  /** Added before the answer. */
  latencyMs?: number
  /** 0..1: answer this share of requests with a provider-formatted 5xx, before executing them. */
  errorRate?: number
  /** Refuse every request (connection destroyed before any processing): a definite technical failure. */
  outage?: boolean
  /** 0..1: answer this share with the provider's 429, before executing them. */
  rateLimitRate?: number
  /** 0..1: execute and commit this share of requests, then destroy the connection without answering. */
  dropAfterCommitRate?: number
}

/** What the sandbox knows about money actually moved, for "charged once" assertions. */
export interface EmulatedPayment {
  readonly provider: ProviderName
  readonly reference: string
  /** The merchant's payment id as the provider saw it (metadata, reference, order_id, ...). */
  readonly paymentId?: string
  readonly currency: string
  readonly authorized: number
  readonly captured: number
  readonly refunded: number
  readonly status: 'authorized' | 'captured' | 'voided' | 'refunded' | 'failed'
}

export interface ProviderEmulator {
  readonly name: ProviderName
  /** True when this emulator serves the request's path. */
  matches(pathname: string): boolean
  /** Serve one request; the body is already read. Must commit state before answering. */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void>
  /** A provider-formatted error answer, used by the fault injector (5xx, 429). */
  errorResponse(res: ServerResponse, status: 429 | 500 | 503): void
  /** Every payment this emulator holds. */
  payments(): EmulatedPayment[]
  reset(): void
}

/** Credentials the sandbox accepts; the SDKs are configured with the same. Not secrets: test values. */
export interface SandboxCredentials {
  stripe: { apiKey: string; webhookSecret: string }
  square: { accessToken: string; webhookSignatureKey: string; locationId: string }
  adyen: { apiKey: string; merchantAccount: string; hmacKeyHex: string }
  braintree: { merchantId: string; publicKey: string; privateKey: string }
}
