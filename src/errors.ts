/**
 * Every coded error ecom throws. One class per condition; the code is stable and documented in
 * docs/errors.md. Areas keep their classes in their own section so additions do not collide.
 */

export interface EcomErrorOptions {
  cause?: unknown
  /** Extra machine-readable facts (never secrets). */
  details?: Record<string, unknown>
}

export class EcomError extends Error {
  static readonly code: string = 'ECOM_ERR_INTERNAL'
  static readonly defaultMessage: string = 'internal error'
  /** HTTP status an edge should answer with, where one applies. */
  static readonly statusCode: number | undefined = undefined
  /** For payments and HTTP calls: whether trying again may succeed. */
  static readonly retryable: boolean | undefined = undefined
  /** How the CLI exits when this reaches it: 2 for usage errors, 1 for failures. */
  static readonly exitCode: 1 | 2 = 1

  readonly code: string
  readonly statusCode: number | undefined
  readonly retryable: boolean | undefined
  readonly exitCode: 1 | 2
  readonly details: Record<string, unknown> | undefined

  constructor(message?: string, options: EcomErrorOptions = {}) {
    const ctor = new.target as typeof EcomError
    super(message ?? ctor.defaultMessage, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = ctor.name
    this.code = ctor.code
    this.statusCode = ctor.statusCode
    this.retryable = ctor.retryable
    this.exitCode = ctor.exitCode
    this.details = options.details
  }
}

/** Base for errors caused by how ecom was called; the CLI exits 2 on these. */
export class EcomUsageError extends EcomError {
  static override readonly code: string = 'ECOM_ERR_USAGE'
  static override readonly defaultMessage: string = 'invalid usage'
  static override readonly exitCode: 1 | 2 = 2
}

export function isEcomError(err: unknown): err is EcomError {
  return err instanceof EcomError
}

// ---------------------------------------------------------------------------------------------
// general / CLI

export class InvalidOptionError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_INVALID_OPTION'
  static override readonly defaultMessage = 'invalid option'
}

export class InvalidConfigError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_INVALID_CONFIG'
  static override readonly defaultMessage = 'invalid configuration'
}

export class MissingDependencyError extends EcomError {
  static override readonly code = 'ECOM_ERR_MISSING_DEPENDENCY'
  static override readonly defaultMessage = 'an optional dependency is not installed'
}

// ---------------------------------------------------------------------------------------------
// runtime: start, supervisor, worker, edge


// ---------------------------------------------------------------------------------------------
// runtime toolkit: worker pool, dns, safe fs, keyring, http client, process manager


// ---------------------------------------------------------------------------------------------
// payments

export class InvalidMoneyError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_INVALID_MONEY'
  static override readonly defaultMessage = 'invalid money: amount must be a non-negative integer of minor units in a known ISO 4217 currency'
}

export class RoutingConfigError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_ROUTING_CONFIG'
  static override readonly defaultMessage = 'invalid payments routing configuration'
}

export class UnknownProviderError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_UNKNOWN_PROVIDER'
  static override readonly defaultMessage = 'unknown payment provider'
}

export class NoEligibleProviderError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_NO_PROVIDER'
  static override readonly defaultMessage = 'no payment provider is eligible for this payment'
  static override readonly statusCode = 503
  static override readonly retryable = true
}

export class PaymentConflictError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_CONFLICT'
  static override readonly defaultMessage = 'a payment with this id already exists with a different request'
  static override readonly statusCode = 409
  static override readonly retryable = false
}

export class PaymentNotFoundError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_NOT_FOUND'
  static override readonly defaultMessage = 'payment not found'
  static override readonly statusCode = 404
}

export class IllegalTransitionError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_ILLEGAL_TRANSITION'
  static override readonly defaultMessage = 'illegal payment state transition'
  static override readonly statusCode = 409
  static override readonly retryable = false
}

export class PaymentOperationError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_OPERATION'
  static override readonly defaultMessage = 'the provider did not perform the payment operation'
  static override readonly statusCode = 502
}

export class WebhookSignatureError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_WEBHOOK_SIGNATURE'
  static override readonly defaultMessage = 'webhook signature verification failed'
  static override readonly statusCode = 400
  static override readonly retryable = false
}

export class SandboxListenError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_SANDBOX_LISTEN'
  static override readonly defaultMessage = 'the payments sandbox could not listen on the requested address'
}

// providers

export class WebhookPayloadError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYMENTS_WEBHOOK_PAYLOAD'
  static override readonly defaultMessage = 'webhook payload is signed but not a notification this adapter understands'
  static override readonly statusCode = 400
  static override readonly retryable = false
}

// ---------------------------------------------------------------------------------------------
// orm


// ---------------------------------------------------------------------------------------------
// native


// ---------------------------------------------------------------------------------------------
// generate, deploy, doctor, scale-out

