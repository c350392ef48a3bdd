// Finds and loads the native addon once, or says why the TypeScript fallback is in use.
// The addon lives at <package>/native/build/Release/ecom_native.node; this file sits two levels below the
// package root both as src/native/loader.ts (tests, tsx) and as dist/native/loader.js (compiled).
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { debuglog } from 'node:util'
import {
  DuplicateVectorIdError,
  EcomError,
  type EcomErrorOptions,
  InvalidOptionError,
  NativeUnavailableError,
  UnknownVectorIdError,
  VectorIndexBusyError,
  VectorIndexCorruptError,
  VectorIndexFormatError,
} from '../errors.js'

const debug = debuglog('ecom')

/** Raw result arrays of the addon's vector search: ids and distances. */
export type RawHits = [Uint32Array, Float32Array]
/** Raw result of a batch search: ids and distances (n x k, padded), and the hit count per query. */
export type RawBatchHits = [Uint32Array, Float32Array, Uint32Array]

/** The index API both backends implement (the addon's NativeVectorIndex and the TypeScript fallback). */
export interface VectorBackend {
  add(id: number, vector: Float32Array, replaceDeleted: boolean): void
  addBatch(ids: Uint32Array, vectors: Float32Array, replaceDeleted: boolean, threads: number): Promise<void>
  search(query: Float32Array, k: number, ef: number, allowed: Uint32Array | null, exact: boolean): RawHits
  searchBatch(queries: Float32Array, k: number, ef: number, allowed: Uint32Array | null, exact: boolean, threads: number): Promise<RawBatchHits>
  markDeleted(id: number): void
  unmarkDeleted(id: number): void
  has(id: number): boolean
  isDeleted(id: number): boolean
  getVector(id: number): Float32Array | undefined
  /** [size, deleted, dimensions, space, M, efConstruction] */
  stats(): [number, number, number, number, number, number]
  serialize(): Uint8Array
}

export interface VectorBackendClass {
  new (dimensions: number, space: number, M: number, efConstruction: number, seed: number): VectorBackend
  deserialize(bytes: Uint8Array): VectorBackend
}

export interface NativeBm25Scorer {
  score(terms: Uint32Array, fields: Uint32Array, weights: Float64Array, bits: Uint32Array, k1p1: number, delta: number, k: number, allowed: Uint8Array | null): [Uint32Array, Float64Array]
}

export interface NativeAddon {
  NativeBm25Scorer: new (docCount: number, offsets: Uint32Array[], data: Uint32Array[], norms: Float64Array[]) => NativeBm25Scorer
  abiVersion: number
  NativeVectorIndex: VectorBackendClass
  cpuInfo(): { simdLevels: string[]; simd: string; crc32cHardware: boolean; threads: number }
  selectSimd(level: string): boolean
  distance(kind: 'l2' | 'dot', a: Float32Array, b: Float32Array): number
  scanLines(buf: Uint8Array, out: Uint32Array, maxLineLength: number, skipEmpty: boolean): string | undefined
  crc32c(data: Uint8Array, previous?: number): number
  xxhash64(data: Uint8Array, seed?: bigint | number): bigint
  xxh64Reset(state: Uint8Array, seed?: bigint | number): void
  xxh64Update(state: Uint8Array, data: Uint8Array): void
  xxh64Digest(state: Uint8Array): bigint
  xxh64StateSize: number
}

export interface NativeStatus {
  /** true when the C++ addon is loaded and used. */
  native: boolean
  /** Why: "loaded native/build/Release/ecom_native.node (avx512)", "ECOM_NO_NATIVE=1", "not built: ..." */
  reason: string
  /** Where the addon was (or would have been) loaded from. */
  path: string
  /** SIMD kernels in use by the addon ("avx512", "avx2", "scalar"), when loaded. */
  simd?: string
}

const ADDON_ABI = 1
const addonPath = new URL('../../native/build/Release/ecom_native.node', import.meta.url)
const buildRecord = new URL('../../native/build/ecom-build.json', import.meta.url)

let loaded: { addon: NativeAddon | undefined; status: NativeStatus } | undefined

function load(): { addon: NativeAddon | undefined; status: NativeStatus } {
  const path = addonPath.pathname
  if (process.env.ECOM_NO_NATIVE === '1') {
    return { addon: undefined, status: { native: false, reason: 'ECOM_NO_NATIVE=1 forces the TypeScript fallback', path } }
  }
  if (!existsSync(addonPath)) {
    // npm 11 skips a dependency's install script unless the app lists it in allowScripts.
    let why = 'the addon was not built: its install script did not run (allow it in package.json#allowScripts, then `npm rebuild ecom`; in this repository `npm run build:native`)'
    try {
      const rec = JSON.parse(readFileSync(buildRecord, 'utf8')) as { ok?: boolean; reason?: string }
      if (rec.ok === false && rec.reason) why = `the addon was not built: ${rec.reason}`
    } catch {
      // no build record: the install script never ran here
    }
    return { addon: undefined, status: { native: false, reason: why, path } }
  }
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon
    if (addon.abiVersion !== ADDON_ABI) {
      return { addon: undefined, status: { native: false, reason: `the built addon is stale (abi ${addon.abiVersion}, want ${ADDON_ABI}); run \`npm run build:native\``, path } }
    }
    const simd = addon.cpuInfo().simd
    return { addon, status: { native: true, reason: `loaded ${path} (${simd} kernels)`, path, simd } }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    return { addon: undefined, status: { native: false, reason: `the addon failed to load: ${msg}`, path } }
  }
}

/** The addon, or undefined when the TypeScript fallback is in use. */
export function nativeAddon(): NativeAddon | undefined {
  if (loaded === undefined) {
    loaded = load()
    debug('native: %s', loaded.status.reason)
  }
  return loaded.addon
}

/** Which implementation ecom uses and why (printed by `ecom doctor`). */
export function nativeStatus(): NativeStatus {
  nativeAddon()
  return { ...loaded!.status }
}

const BACKEND_METRIC = 'ecom_native_backend'

/**
 * Put `ecom_native_backend{backend="native"|"typescript",simd}` into a prom-client registry (once): 1
 * for the implementation this process uses, summed across workers by the primary. It has no series
 * until the process first asked for the addon, so an app that never searches shows none. A plain
 * registry entry rather than a prom-client Gauge, so this file never loads prom-client itself.
 */
export function registerNativeMetric(registry: { registerMetric(m: never): void; getSingleMetric(name: string): unknown }): void {
  if (registry.getSingleMetric(BACKEND_METRIC)) return
  const metric = {
    name: BACKEND_METRIC,
    help: 'The search backend in use: 1 for native (the C++ addon) or typescript (the fallback); no series until first use',
    type: 'gauge',
    aggregator: 'sum',
    reset: () => {},
    get: async () => {
      const values = loaded === undefined ? [] : [{ labels: { backend: loaded.status.native ? 'native' : 'typescript', simd: loaded.status.simd ?? 'none' }, value: 1 }]
      return { name: metric.name, help: metric.help, type: metric.type, aggregator: metric.aggregator, values }
    },
  }
  registry.registerMetric(metric as never)
}

/** Which implementation to use: `auto` (the addon when loaded), `native` (required) or `typescript`. */
export type Backend = 'auto' | 'native' | 'typescript'

/** The addon for `backend`, undefined for the TypeScript fallback; throws when `native` is unavailable. */
export function resolveBackend(backend: Backend = 'auto', option = 'options.backend'): NativeAddon | undefined {
  if (backend === 'typescript') return undefined
  if (backend !== 'auto' && backend !== 'native') {
    throw new InvalidOptionError(`${option} must be "auto", "native" or "typescript", got ${JSON.stringify(backend)}`)
  }
  const addon = nativeAddon()
  if (backend === 'native' && addon === undefined) {
    throw new NativeUnavailableError(`the native addon is not available: ${nativeStatus().reason}`)
  }
  return addon
}

const CODES: Record<string, new (message?: string, options?: EcomErrorOptions) => EcomError> = {
  ECOM_ERR_NATIVE_INDEX_CORRUPT: VectorIndexCorruptError,
  ECOM_ERR_NATIVE_INDEX_FORMAT: VectorIndexFormatError,
  ECOM_ERR_NATIVE_INDEX_BUSY: VectorIndexBusyError,
  ECOM_ERR_NATIVE_DUPLICATE_ID: DuplicateVectorIdError,
  ECOM_ERR_NATIVE_UNKNOWN_ID: UnknownVectorIdError,
  ECOM_ERR_INVALID_OPTION: InvalidOptionError,
}

/** Turns an addon error (a plain Error with a `code`) into the matching EcomError class. */
export function toEcomError(err: unknown): unknown {
  if (err instanceof EcomError || !(err instanceof Error)) return err
  const code = (err as Error & { code?: unknown }).code
  const Ctor = typeof code === 'string' ? CODES[code] : undefined
  return Ctor ? new Ctor(err.message, { cause: err }) : new EcomError(err.message, { cause: err })
}
