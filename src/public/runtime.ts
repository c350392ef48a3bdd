// The `ecom/runtime` entry. Named exports only, one line per public piece.
export { VERSION } from '../version.js'

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
