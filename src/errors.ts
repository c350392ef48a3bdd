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


// ---------------------------------------------------------------------------------------------
// orm


// ---------------------------------------------------------------------------------------------
// native

export class NativeUnavailableError extends EcomError {
  static override readonly code = 'ECOM_ERR_NATIVE_UNAVAILABLE'
  static override readonly defaultMessage = 'the native addon is not available'
}

export class VectorIndexCorruptError extends EcomError {
  static override readonly code = 'ECOM_ERR_NATIVE_INDEX_CORRUPT'
  static override readonly defaultMessage = 'the vector index file is corrupted'
}

export class VectorIndexFormatError extends EcomError {
  static override readonly code = 'ECOM_ERR_NATIVE_INDEX_FORMAT'
  static override readonly defaultMessage = 'not an ecom vector index file, or an unsupported format version'
}

export class VectorIndexBusyError extends EcomError {
  static override readonly code = 'ECOM_ERR_NATIVE_INDEX_BUSY'
  static override readonly defaultMessage = 'the vector index is busy with a batch operation'
  static override readonly retryable = true
}

export class DuplicateVectorIdError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_NATIVE_DUPLICATE_ID'
  static override readonly defaultMessage = 'the id is already in the index'
}

export class UnknownVectorIdError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_NATIVE_UNKNOWN_ID'
  static override readonly defaultMessage = 'the id is not in the index'
}

export class LineTooLongError extends EcomError {
  static override readonly code = 'ECOM_ERR_NATIVE_LINE_TOO_LONG'
  static override readonly defaultMessage = 'a line is longer than maxLineLength'
}

export class NdjsonParseError extends EcomError {
  static override readonly code = 'ECOM_ERR_NATIVE_NDJSON_PARSE'
  static override readonly defaultMessage = 'a line is not valid JSON'
}


// ---------------------------------------------------------------------------------------------
// generate, deploy, doctor, scale-out

