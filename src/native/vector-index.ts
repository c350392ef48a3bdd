// The public vector index: options validated once, then every call goes to the addon's NativeVectorIndex
// or to the TypeScript FallbackVectorIndex (same API, same file format).
import { readFile, rename, writeFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { InvalidOptionError } from '../errors.js'
import { FallbackVectorIndex } from './fallback/hnsw.js'
import { type Backend, type VectorBackend, type VectorBackendClass, resolveBackend, toEcomError } from './loader.js'

export type VectorSpace = 'l2' | 'ip' | 'cosine'
const SPACES: VectorSpace[] = ['l2', 'ip', 'cosine']

export interface VectorIndexOptions {
  /** Length of every vector. */
  dimensions: number
  /** `l2` (squared Euclidean), `ip` (1 - dot product) or `cosine` (1 - cosine similarity). @default "l2" */
  space?: VectorSpace
  /** Links per node per layer (layer 0 keeps 2 x M). @default 16 */
  M?: number
  /** Candidate list size while building. @default 200 */
  efConstruction?: number
  /** Candidate list size while searching (raised to k when smaller). @default 64 */
  efSearch?: number
  /** Seed of the level assignment; same seed + same insert order (one thread) = same graph. @default 42 */
  seed?: number
  /** Threads for addBatch / searchBatch on the addon. @default os.availableParallelism() */
  threads?: number
  /** @default "auto" */
  backend?: Backend
}

export interface ResolvedVectorIndexOptions {
  dimensions: number
  space: VectorSpace
  M: number
  efConstruction: number
  efSearch: number
  seed: number
  threads: number
  backend: Backend
}

export const vectorIndexDefaults = { space: 'l2', M: 16, efConstruction: 200, efSearch: 64, seed: 42, backend: 'auto' } as const

export interface VectorHit {
  id: number
  distance: number
}

export interface VectorSearchOptions {
  /** Overrides options.efSearch for this call. */
  ef?: number
  /** Only these ids may be returned. */
  filter?: Iterable<number>
}

export interface VectorBatchSearchOptions extends VectorSearchOptions {
  /** Brute force instead of the graph. @default false */
  exact?: boolean
  threads?: number
}

function intIn(value: unknown, path: string, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new InvalidOptionError(`${path} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(value)}`)
  }
  return value
}

function resolveOptions(o: VectorIndexOptions): ResolvedVectorIndexOptions {
  if (o === null || typeof o !== 'object') throw new InvalidOptionError('options must be an object with at least `dimensions`')
  const space = o.space ?? vectorIndexDefaults.space
  if (!SPACES.includes(space)) throw new InvalidOptionError(`options.space must be "l2", "ip" or "cosine", got ${JSON.stringify(space)}`)
  return {
    dimensions: intIn(o.dimensions, 'options.dimensions', 1, 65536),
    space,
    M: intIn(o.M ?? vectorIndexDefaults.M, 'options.M', 2, 2048),
    efConstruction: intIn(o.efConstruction ?? vectorIndexDefaults.efConstruction, 'options.efConstruction', 1, 1 << 20),
    efSearch: intIn(o.efSearch ?? vectorIndexDefaults.efSearch, 'options.efSearch', 1, 1 << 20),
    seed: intIn(o.seed ?? vectorIndexDefaults.seed, 'options.seed', 0, Number.MAX_SAFE_INTEGER),
    threads: intIn(o.threads ?? availableParallelism(), 'options.threads', 1, 256),
    backend: o.backend ?? vectorIndexDefaults.backend,
  }
}

function checkId(id: unknown, path = 'id'): number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffffffff) {
    throw new InvalidOptionError(`${path} must be an integer from 0 to 4294967295, got ${JSON.stringify(id)}`)
  }
  return id
}

function wrap<T>(fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    throw toEcomError(err)
  }
}

/** HNSW approximate nearest-neighbour index over numeric ids (0 .. 2^32-1). */
export class VectorIndex {
  readonly options: ResolvedVectorIndexOptions
  readonly backend: 'native' | 'typescript'
  private readonly impl: VectorBackend

  constructor(options: VectorIndexOptions, impl?: VectorBackend) {
    this.options = resolveOptions(options)
    const addon = resolveBackend(this.options.backend)
    this.backend = addon ? 'native' : 'typescript'
    const Ctor: VectorBackendClass = addon ? addon.NativeVectorIndex : FallbackVectorIndex
    const { dimensions, space, M, efConstruction, seed } = this.options
    this.impl = impl ?? wrap(() => new Ctor(dimensions, SPACES.indexOf(space), M, efConstruction, seed))
  }

  get dimensions(): number {
    return this.options.dimensions
  }
  /** Live (not deleted) vectors. */
  get size(): number {
    return wrap(() => this.impl.stats()[0])
  }
  get deletedCount(): number {
    return wrap(() => this.impl.stats()[1])
  }

  private vector(v: ArrayLike<number>, path: string): Float32Array {
    const f = v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>)
    if (f.length !== this.options.dimensions) {
      throw new InvalidOptionError(`${path} has ${f.length} values, expected ${this.options.dimensions}`)
    }
    return f
  }

  private matrix(vectors: Float32Array | ArrayLike<ArrayLike<number>>, count: number | undefined, path: string): Float32Array {
    const d = this.options.dimensions
    if (vectors instanceof Float32Array) {
      if (vectors.length % d !== 0 || (count !== undefined && vectors.length !== count * d)) {
        throw new InvalidOptionError(`${path} has ${vectors.length} values, expected ${count ?? 'n'} x ${d}`)
      }
      return vectors
    }
    const out = new Float32Array(vectors.length * d)
    for (let i = 0; i < vectors.length; i++) out.set(this.vector(vectors[i]!, `${path}[${i}]`), i * d)
    if (count !== undefined && vectors.length !== count) throw new InvalidOptionError(`${path} has ${vectors.length} vectors, expected ${count}`)
    return out
  }

  private filter(filter: Iterable<number> | undefined): Uint32Array | null {
    if (filter === undefined) return null
    if (filter instanceof Uint32Array) return filter
    const ids = Array.from(filter)
    ids.forEach((id, i) => checkId(id, `options.filter[${i}]`))
    return Uint32Array.from(ids)
  }

  private hits([ids, dists]: [Uint32Array, Float32Array], offset = 0, count = ids.length): VectorHit[] {
    const out: VectorHit[] = new Array(count)
    for (let i = 0; i < count; i++) out[i] = { id: ids[offset + i]!, distance: dists[offset + i]! }
    return out
  }

  /** Adds one vector. With `replaceDeleted`, reuses the slot of a deleted vector when there is one. */
  add(id: number, vector: ArrayLike<number>, options: { replaceDeleted?: boolean } = {}): void {
    checkId(id)
    const v = this.vector(vector, 'vector')
    wrap(() => this.impl.add(id, v, options.replaceDeleted === true))
  }

  /** Adds many vectors off the event loop (on the addon: with `threads` threads). */
  async addBatch(ids: ArrayLike<number>, vectors: Float32Array | ArrayLike<ArrayLike<number>>, options: { replaceDeleted?: boolean; threads?: number } = {}): Promise<void> {
    const idArr = ids instanceof Uint32Array ? ids : Uint32Array.from(Array.from(ids, (id, i) => checkId(id, `ids[${i}]`)))
    const data = this.matrix(vectors, idArr.length, 'vectors')
    const threads = options.threads === undefined ? this.options.threads : intIn(options.threads, 'options.threads', 1, 256)
    try {
      await this.impl.addBatch(idArr, data, options.replaceDeleted === true, threads)
    } catch (err) {
      throw toEcomError(err)
    }
  }

  /** The k nearest live vectors, nearest first. */
  search(vector: ArrayLike<number>, k = 10, options: VectorSearchOptions = {}): VectorHit[] {
    const q = this.vector(vector, 'vector')
    intIn(k, 'k', 0, 1 << 24)
    const ef = options.ef === undefined ? this.options.efSearch : intIn(options.ef, 'options.ef', 1, 1 << 24)
    const allowed = this.filter(options.filter)
    return this.hits(wrap(() => this.impl.search(q, k, ef, allowed, false)))
  }

  /** Brute-force k nearest: the ground truth the graph search approximates. */
  searchExact(vector: ArrayLike<number>, k = 10, options: Pick<VectorSearchOptions, 'filter'> = {}): VectorHit[] {
    const q = this.vector(vector, 'vector')
    intIn(k, 'k', 0, 1 << 24)
    const allowed = this.filter(options.filter)
    return this.hits(wrap(() => this.impl.search(q, k, 1, allowed, true)))
  }

  /** Searches many queries off the event loop (on the addon: with `threads` threads). */
  async searchBatch(vectors: Float32Array | ArrayLike<ArrayLike<number>>, k = 10, options: VectorBatchSearchOptions = {}): Promise<VectorHit[][]> {
    const q = this.matrix(vectors, undefined, 'vectors')
    intIn(k, 'k', 0, 1 << 16)
    const ef = options.ef === undefined ? this.options.efSearch : intIn(options.ef, 'options.ef', 1, 1 << 24)
    const threads = options.threads === undefined ? this.options.threads : intIn(options.threads, 'options.threads', 1, 256)
    const allowed = this.filter(options.filter)
    let raw: [Uint32Array, Float32Array, Uint32Array]
    try {
      raw = await this.impl.searchBatch(q, k, ef, allowed, options.exact === true, threads)
    } catch (err) {
      throw toEcomError(err)
    }
    const [ids, dists, counts] = raw
    return Array.from(counts, (c, i) => this.hits([ids, dists], i * k, c))
  }

  /** Hides a vector from searches; its slot can be reused by add(..., { replaceDeleted: true }). */
  markDeleted(id: number): void {
    checkId(id)
    wrap(() => this.impl.markDeleted(id))
  }
  unmarkDeleted(id: number): void {
    checkId(id)
    wrap(() => this.impl.unmarkDeleted(id))
  }
  /** true for ids in the index, deleted or not. */
  has(id: number): boolean {
    checkId(id)
    return wrap(() => this.impl.has(id))
  }
  isDeleted(id: number): boolean {
    checkId(id)
    return wrap(() => this.impl.isDeleted(id))
  }
  /** The stored vector (normalised for cosine), or undefined. */
  getVector(id: number): Float32Array | undefined {
    checkId(id)
    return wrap(() => this.impl.getVector(id))
  }

  /** The index in ecom's versioned, CRC32C-checksummed format (the same for both backends). */
  toBuffer(): Buffer {
    const bytes = wrap(() => this.impl.serialize())
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** Reads an index from toBuffer() bytes; dimensions, space, M and efConstruction come from the bytes. */
  static fromBuffer(bytes: Uint8Array, options: Omit<VectorIndexOptions, 'dimensions' | 'space' | 'M' | 'efConstruction'> = {}): VectorIndex {
    const addon = resolveBackend(options.backend ?? 'auto')
    const Ctor: VectorBackendClass = addon ? addon.NativeVectorIndex : FallbackVectorIndex
    const impl = wrap(() => Ctor.deserialize(bytes))
    const [, , dimensions, space, M, efConstruction] = wrap(() => impl.stats())
    return new VectorIndex({ ...options, dimensions, space: SPACES[space]!, M, efConstruction }, impl)
  }

  /** Writes the index to `path` atomically (temp file + rename). */
  async save(path: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`
    await writeFile(tmp, this.toBuffer())
    await rename(tmp, path)
  }

  static async load(path: string, options: Omit<VectorIndexOptions, 'dimensions' | 'space' | 'M' | 'efConstruction'> = {}): Promise<VectorIndex> {
    return VectorIndex.fromBuffer(await readFile(path), options)
  }
}
