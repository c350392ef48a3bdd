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

export class EntryNotFoundError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_ENTRY_NOT_FOUND'
  static override readonly defaultMessage = 'the entry file does not exist'
}

export class EntryIndexNotFoundError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_ENTRY_NO_INDEX'
  static override readonly defaultMessage = 'the entry directory has no package.json "main" and no index file'
}

export class EntryLoadError extends EcomError {
  static override readonly code = 'ECOM_ERR_ENTRY_LOAD'
  static override readonly defaultMessage = 'the entry file threw while it was imported'
}

export class EntryShapeError extends EcomError {
  static override readonly code = 'ECOM_ERR_ENTRY_SHAPE'
  static override readonly defaultMessage =
    'the entry must export a request handler, an express/koa/fastify app, or a factory returning one'
}

export class PortInUseError extends EcomError {
  static override readonly code = 'ECOM_ERR_PORT_IN_USE'
  static override readonly defaultMessage = 'the port is already in use'
}

export class ListenError extends EcomError {
  static override readonly code = 'ECOM_ERR_LISTEN'
  static override readonly defaultMessage = 'the server could not listen'
}

export class CrashLoopError extends EcomError {
  static override readonly code = 'ECOM_ERR_CRASH_LOOP'
  static override readonly defaultMessage = 'a worker slot crashed repeatedly and was given up'
}

export class AppAlreadyRunningError extends EcomError {
  static override readonly code = 'ECOM_ERR_APP_RUNNING'
  static override readonly defaultMessage = 'an app with this name and port is already running'
}

export class AppNotRunningError extends EcomError {
  static override readonly code = 'ECOM_ERR_APP_NOT_RUNNING'
  static override readonly defaultMessage = 'no running ecom app was found'
}

export class AppAmbiguousError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_APP_AMBIGUOUS'
  static override readonly defaultMessage = 'several ecom apps are running; select one with --name or --port'
}

export class ControlError extends EcomError {
  static override readonly code = 'ECOM_ERR_CONTROL'
  static override readonly defaultMessage = 'the control request failed'
}

export class ReloadError extends EcomError {
  static override readonly code = 'ECOM_ERR_RELOAD'
  static override readonly defaultMessage = 'the rolling reload failed'
}

export class DashboardListenError extends EcomError {
  static override readonly code = 'ECOM_ERR_DASHBOARD_LISTEN'
  static override readonly defaultMessage = 'the dashboard could not listen on the requested address'
}

export class DashboardDisabledError extends EcomError {
  static override readonly code = 'ECOM_ERR_DASHBOARD_DISABLED'
  static override readonly defaultMessage = 'the app was started with --no-dashboard'
}

export class PayloadTooLargeError extends EcomError {
  static override readonly code = 'ECOM_ERR_PAYLOAD_TOO_LARGE'
  static override readonly defaultMessage = 'request body too large'
  static override readonly statusCode = 413
}

export class RateLimitedError extends EcomError {
  static override readonly code = 'ECOM_ERR_RATE_LIMITED'
  static override readonly defaultMessage = 'too many requests'
  static override readonly statusCode = 429
  static override readonly retryable = true
}

export class ServerBusyError extends EcomError {
  static override readonly code = 'ECOM_ERR_SERVER_BUSY'
  static override readonly defaultMessage = 'too many open connections'
  static override readonly statusCode = 503
  static override readonly retryable = true
}

export class RateLimitStoreError extends EcomError {
  static override readonly code = 'ECOM_ERR_RATE_LIMIT_STORE'
  static override readonly defaultMessage = 'the rate-limit store did not answer'
  static override readonly retryable = true
}


// ---------------------------------------------------------------------------------------------
// runtime toolkit: worker pool, dns, safe fs, keyring, http client, process manager

export class PoolTaskTimeoutError extends EcomError {
  static override readonly code = 'ECOM_ERR_POOL_TASK_TIMEOUT'
  static override readonly defaultMessage = 'a worker pool task ran past its timeout'
  static override readonly retryable: boolean | undefined = true
}

export class PoolTaskAbortedError extends EcomError {
  static override readonly code = 'ECOM_ERR_POOL_TASK_ABORTED'
  static override readonly defaultMessage = 'a worker pool task was aborted'
}

export class PoolQueueFullError extends EcomError {
  static override readonly code = 'ECOM_ERR_POOL_QUEUE_FULL'
  static override readonly defaultMessage = 'the worker pool queue is full'
  static override readonly statusCode: number | undefined = 503
  static override readonly retryable: boolean | undefined = true
}

export class PoolClosedError extends EcomError {
  static override readonly code = 'ECOM_ERR_POOL_CLOSED'
  static override readonly defaultMessage = 'the worker pool is closed'
}

export class PoolWorkerExitedError extends EcomError {
  static override readonly code = 'ECOM_ERR_POOL_WORKER_EXITED'
  static override readonly defaultMessage = 'a worker thread exited while running a task'
  static override readonly retryable: boolean | undefined = true
}

export class DnsNotFoundError extends EcomError {
  static override readonly code = 'ECOM_ERR_DNS_NOT_FOUND'
  static override readonly defaultMessage = 'the host name has no address'
}

export class DnsResolveError extends EcomError {
  static override readonly code = 'ECOM_ERR_DNS_RESOLVE'
  static override readonly defaultMessage = 'the DNS server did not answer'
  static override readonly retryable: boolean | undefined = true
}

export class SafeFsWriteError extends EcomError {
  static override readonly code = 'ECOM_ERR_FS_WRITE'
  static override readonly defaultMessage = 'a safe write failed'
}

export class SafeFsReadError extends EcomError {
  static override readonly code = 'ECOM_ERR_FS_READ'
  static override readonly defaultMessage = 'a safe read failed'
}

export class SafeFsValidationError extends EcomError {
  static override readonly code = 'ECOM_ERR_FS_VALIDATION'
  static override readonly defaultMessage = 'the written content failed validation and was rolled back'
}

export class SafeFsLockTimeoutError extends EcomError {
  static override readonly code = 'ECOM_ERR_FS_LOCK_TIMEOUT'
  static override readonly defaultMessage = 'timed out waiting for a file lock'
  static override readonly retryable: boolean | undefined = true
}

export class SafeFsNoBackupError extends EcomError {
  static override readonly code = 'ECOM_ERR_FS_NO_BACKUP'
  static override readonly defaultMessage = 'no such backup generation'
}

export class KeyringDecryptError extends EcomError {
  static override readonly code = 'ECOM_ERR_KEYRING_DECRYPT'
  static override readonly defaultMessage = 'decryption failed: the data or its AAD was altered, or the key is wrong'
}

export class KeyringFormatError extends EcomError {
  static override readonly code = 'ECOM_ERR_KEYRING_FORMAT'
  static override readonly defaultMessage = 'not a keyring ciphertext of a known format'
}

export class KeyringUnknownKeyError extends EcomError {
  static override readonly code = 'ECOM_ERR_KEYRING_UNKNOWN_KEY'
  static override readonly defaultMessage = 'the key id is not in the keyring'
}

export class KeyringMasterKeyError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_KEYRING_MASTER_KEY'
  static override readonly defaultMessage = 'no usable master key'
}

export class KeyringKeyFileModeError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_KEYRING_KEY_FILE_MODE'
  static override readonly defaultMessage = 'the master key file must have mode 0600'
}

export class KeyringStateError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_KEYRING_STATE'
  static override readonly defaultMessage = 'that key operation is not allowed in the current keyring state'
}

export class HttpCircuitOpenError extends EcomError {
  static override readonly code = 'ECOM_ERR_HTTP_CIRCUIT_OPEN'
  static override readonly defaultMessage = 'the circuit breaker for this origin is open'
  static override readonly statusCode: number | undefined = 503
  static override readonly retryable: boolean | undefined = true
}

export class HttpTimeoutError extends EcomError {
  static override readonly code = 'ECOM_ERR_HTTP_TIMEOUT'
  static override readonly defaultMessage = 'the HTTP request timed out'
  static override readonly retryable: boolean | undefined = true
}

export class HttpConnectionError extends EcomError {
  static override readonly code = 'ECOM_ERR_HTTP_CONNECTION'
  static override readonly defaultMessage = 'the HTTP connection failed'
  static override readonly retryable: boolean | undefined = true
}

export class HttpClientClosedError extends EcomError {
  static override readonly code = 'ECOM_ERR_HTTP_CLIENT_CLOSED'
  static override readonly defaultMessage = 'the HTTP client is closed'
}

export class ProcessStartError extends EcomError {
  static override readonly code = 'ECOM_ERR_PROCESS_START'
  static override readonly defaultMessage = 'the child process could not be started'
}

export class ProcessGaveUpError extends EcomError {
  static override readonly code = 'ECOM_ERR_PROCESS_GAVE_UP'
  static override readonly defaultMessage = 'the child process kept crashing and is no longer restarted'
}


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

export class GenerateNameError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_GENERATE_NAME'
  static override readonly defaultMessage = 'invalid name: use lowercase letters, digits and dashes, starting with a letter'
}

export class GenerateFileExistsError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_GENERATE_FILE_EXISTS'
  static override readonly defaultMessage = 'a file to be written already exists (pass --force to overwrite)'
}

export class GenerateAppLayoutError extends EcomUsageError {
  static override readonly code = 'ECOM_ERR_GENERATE_APP_LAYOUT'
  static override readonly defaultMessage = 'not an ecom app: the module registry (src/modules/index.ts with its ecom markers) was not found'
}

export class Pm2DeployError extends EcomError {
  static override readonly code = 'ECOM_ERR_DEPLOY_PM2'
  static override readonly defaultMessage = 'the PM2 action failed'
}

export class RedisUnavailableError extends EcomError {
  static override readonly code = 'ECOM_ERR_REDIS_UNAVAILABLE'
  static override readonly defaultMessage = 'Redis is unreachable'
  static override readonly statusCode = 503
  static override readonly retryable = true
}

export class RedisLockBusyError extends EcomError {
  static override readonly code = 'ECOM_ERR_REDIS_LOCK_BUSY'
  static override readonly defaultMessage = 'the lock is held by another process'
  static override readonly statusCode = 409
  static override readonly retryable = true
}

export class DoctorFailedError extends EcomError {
  static override readonly code = 'ECOM_ERR_DOCTOR_FAILED'
  static override readonly defaultMessage = 'a required check failed'
}
