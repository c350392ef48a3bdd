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

/** A model definition is malformed: duplicate names, no primary key, a relation to nothing. */
export class OrmSchemaError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_ORM_SCHEMA'
  static override readonly defaultMessage = 'invalid model definition'
}

/** A repository call names an unknown model or field, passes a value of the wrong type or a malformed where; no SQL ran. */
export class OrmValidationError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_ORM_VALIDATION'
  static override readonly defaultMessage = 'invalid repository call'
  static override readonly statusCode = 400
}

export class OrmUniqueViolationError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_UNIQUE_VIOLATION'
  static override readonly defaultMessage = 'unique constraint violated'
  static override readonly statusCode = 409
}

export class OrmForeignKeyViolationError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_FOREIGN_KEY_VIOLATION'
  static override readonly defaultMessage = 'foreign key constraint violated'
  static override readonly statusCode = 409
}

export class OrmNotNullViolationError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_NOT_NULL_VIOLATION'
  static override readonly defaultMessage = 'not-null constraint violated'
  static override readonly statusCode = 400
}

/** The database cannot be reached; the message names host and port (or the SQLite file). */
export class OrmConnectionError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_CONNECTION'
  static override readonly defaultMessage = 'cannot reach the database'
  static override readonly retryable = true
  static override readonly statusCode = 503
}

/** The ORM or its driver failed for a reason other than a constraint (lost connection, closed pool, SQL error). */
export class OrmDriverError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_DRIVER'
  static override readonly defaultMessage = 'database driver error'
  static override readonly retryable = true
  static override readonly statusCode = 503
}

export class OrmNoHealthyAdapterError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_NO_HEALTHY_ADAPTER'
  static override readonly defaultMessage = 'no healthy ORM adapter is available'
  static override readonly retryable = true
  static override readonly statusCode = 503
}

/** An applied migration's file changed since it ran (checksum mismatch); nothing was applied. */
export class OrmMigrationChecksumError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_MIGRATION_CHECKSUM'
  static override readonly defaultMessage = 'an applied migration was changed'
}

export class OrmMigrationError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_MIGRATION'
  static override readonly defaultMessage = 'migration failed'
}

export class OrmPrismaGenerateError extends EcomError {
  static override readonly code = 'ECOM_ERR_ORM_PRISMA_GENERATE'
  static override readonly defaultMessage = 'prisma generate failed'
}


// ---------------------------------------------------------------------------------------------
// native


// ---------------------------------------------------------------------------------------------
// generate, deploy, doctor, scale-out

