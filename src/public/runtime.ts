// The `ecom/runtime` entry. Named exports only, one line per public piece.
export { VERSION } from '../version.js'
// scale-out (issue 7): Redis-backed shared state, PM2 driver, generators, doctor checks
export { RedisRateLimitStore } from '../runtime/redis/rate-limit-store.js'
export type { RedisRateLimitStoreOptions, FailMode } from '../runtime/redis/rate-limit-store.js'
export { RedisPaymentLock } from '../runtime/redis/payment-lock.js'
export type { RedisPaymentLockOptions, PaymentLockHandle } from '../runtime/redis/payment-lock.js'
export { RedisBreakerStore, SharedCircuitBreaker } from '../runtime/redis/breaker-store.js'
export type { RedisBreakerStoreOptions } from '../runtime/redis/breaker-store.js'
export { RedisKeyringNotifier } from '../runtime/redis/keyring-notice.js'
export type { KeyringRotationNotice, RotationListener } from '../runtime/redis/keyring-notice.js'
export type { RedisStoreOptions } from '../runtime/redis/client.js'
export { Pm2Driver } from '../runtime/deploy/pm2-driver.js'
export type { Pm2DriverOptions, Pm2AppStatus } from '../runtime/deploy/pm2-driver.js'
export { buildEcosystem, renderEcosystem, resolveEcosystemOptions } from '../runtime/deploy/ecosystem.js'
export type { EcosystemOptions, EcosystemInput } from '../runtime/deploy/ecosystem.js'
export { generateApp, generateModule } from '../runtime/generate/generator.js'
export type { GenerateOptions, GenerateResult } from '../runtime/generate/generator.js'
export { parseName } from '../runtime/generate/names.js'
export type { NameForms } from '../runtime/generate/names.js'
export { runChecks } from '../runtime/doctor/checks.js'
export type { CheckResult, DoctorOptions, Verdict } from '../runtime/doctor/checks.js'

// ecom start: the clustered runtime and its hardened HTTP edge
export { runStart, type RunResult } from '../runtime/supervisor/run.js'
export {
  resolveStartOptions,
  EDGE_DEFAULTS,
  START_DEFAULTS,
  type StartInput,
  type StartOptions,
  type EdgeOptions,
  type RateLimitHeaders,
  type SandboxStartOptions,
  type DashboardOptions,
} from '../runtime/supervisor/options.js'
export type { AppStatus, WorkerStatus } from '../runtime/supervisor/status.js'
export { resolveEntry } from '../runtime/supervisor/resolve-entry.js'
export type { SandboxStatus } from '../runtime/supervisor/sandbox-sidecar.js'
export type { DashboardState } from '../runtime/dashboard/sample.js'
export { sendControl, selectApp, listApps, controlDir, type ControlCommand, type RunningApp } from '../runtime/supervisor/control-socket.js'
export { backoffDelay, BACKOFF_DEFAULTS, type BackoffPolicy } from '../runtime/supervisor/backoff.js'
export { loadEntry, adaptApp } from '../runtime/worker/load-entry.js'
export { EcomServer, type ServeOptions } from '../runtime/worker/server.js'
export { createEdge, type EdgeContext } from '../runtime/edge/edge.js'
export { EdgeRequest, EdgeResponse } from '../runtime/edge/request.js'
export { MemoryRateLimitStore, isSyncStore, type RateLimitStore, type SyncRateLimitStore, type RateLimitResult } from '../runtime/edge/rate-limit-store.js'
export { IpcRateLimitStore } from '../runtime/edge/rate-limit-ipc.js'
export { getRegistry, mergeMetrics, snapshotMetrics, type MetricsSnapshot } from '../runtime/metrics.js'
export { createLogger, type Logger } from '../runtime/logger.js'
export { keepNextTickFast } from '../runtime/next-tick.js'
// runtime toolkit: worker pool, dns, safe fs, keyring, http client, process manager
export { SafeFs, getSafeFs } from '../runtime/safe-fs.js'
export type { SafeFsOptions, WriteOptions } from '../runtime/safe-fs.js'
export { Keyring, maskPan, randomToken } from '../runtime/keyring.js'
export type { KeyringOptions, KeyInfo } from '../runtime/keyring.js'
export { WorkerPool, defaultThreadCount } from '../runtime/worker-pool.js'
export type { WorkerPoolOptions, RunOptions as PoolRunOptions, Priority } from '../runtime/worker-pool.js'
export { CachingResolver, getResolver } from '../runtime/dns.js'
export type { CachingResolverOptions } from '../runtime/dns.js'
export { HttpClient, getHttpClient } from '../runtime/http-client.js'
export type { HttpClientOptions, RequestOptions as HttpRequestOptions, HttpResponse } from '../runtime/http-client.js'
export type { BreakerOptions, BreakerState } from '../runtime/http-client/breaker.js'
export { ManagedProcess, ProcessManager } from '../runtime/process-manager.js'
export type { ProcessSpec, ProcessState, ExitInfo } from '../runtime/process-manager.js'
