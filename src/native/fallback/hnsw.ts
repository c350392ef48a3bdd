// The HNSW index in TypeScript: the same algorithm, options, results and file format as
// native/src/hnsw.cc, for machines without the addon. Single-threaded; batches yield to the event loop.
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import {
  DuplicateVectorIdError,
  UnknownVectorIdError,
  VectorIndexBusyError,
  VectorIndexCorruptError,
  VectorIndexFormatError,
} from '../../errors.js'
import type { RawBatchHits, RawHits, VectorBackend } from '../loader.js'
import { crc32c } from './checksum.js'
import { PairHeap } from './heap.js'

const NONE = 0xffffffff
const FORMAT_VERSION = 1
const HEADER = 48
const MAGIC = Buffer.from('ECOMHNSW', 'latin1')
const M64 = (1n << 64n) - 1n

function splitMix64(x: bigint): bigint {
  x = (x + 0x9e3779b97f4a7c15n) & M64
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64
  return x ^ (x >> 31n)
}

function l2sq(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0
  for (let i = 0; i < n; i++) {
    const d = a[ao + i]! - b[bo + i]!
    s += d * d
  }
  return s
}
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0
  for (let i = 0; i < n; i++) s += a[ao + i]! * b[bo + i]!
  return s
}

export class FallbackVectorIndex implements VectorBackend {
  private readonly dim: number
  private readonly space: number
  private readonly m: number
  private readonly m0: number
  private readonly efc: number
  private readonly seed: bigint
  private readonly ml: number
  private count = 0
  private deletedCount = 0
  private cap = 0
  private data = new Float32Array(0)
  private links0 = new Uint32Array(0)
  private upper: Array<Uint32Array | undefined> = []
  private labels = new Uint32Array(0)
  private levels = new Int32Array(0)
  private deleted = new Uint8Array(0)
  private labelToId = new Map<number, number>()
  private freeIds: number[] = []
  private entry = NONE
  private maxLevel = -1
  private marks = new Uint32Array(0)
  private epoch = 0
  private busy = false
  private qbuf: Float32Array

  constructor(dimensions: number, space: number, M: number, efConstruction: number, seed: number) {
    this.dim = dimensions
    this.space = space
    this.m = M
    this.m0 = 2 * M
    this.efc = efConstruction
    this.seed = BigInt.asUintN(64, BigInt(seed))
    this.ml = 1 / Math.log(Math.max(M, 2))
    this.qbuf = new Float32Array(dimensions)
  }

  private checkIdle(): void {
    if (this.busy) throw new VectorIndexBusyError('the vector index is busy with a batch operation; await it first')
  }

  private reserve(n: number): void {
    const need = this.count + n
    if (need <= this.cap) return
    const cap = Math.max(need, this.cap + (this.cap >> 1))
    const grow = <T extends Float32Array | Uint32Array | Int32Array | Uint8Array>(old: T, size: number, make: (n: number) => T): T => {
      const next = make(size)
      next.set(old)
      return next
    }
    this.data = grow(this.data, cap * this.dim, (k) => new Float32Array(k))
    this.links0 = grow(this.links0, cap * (this.m0 + 1), (k) => new Uint32Array(k))
    this.labels = grow(this.labels, cap, (k) => new Uint32Array(k))
    this.levels = grow(this.levels, cap, (k) => new Int32Array(k))
    this.deleted = grow(this.deleted, cap, (k) => new Uint8Array(k))
    this.upper.length = cap
    this.cap = cap
  }

  private dist(a: Float32Array, ao: number, b: Float32Array, bo: number): number {
    return this.space === 0 ? l2sq(a, ao, b, bo, this.dim) : 1 - dot(a, ao, b, bo, this.dim)
  }
  private distId(q: Float32Array, qo: number, id: number): number {
    return this.dist(q, qo, this.data, id * this.dim)
  }

  private randomLevel(id: number): number {
    const z = splitMix64(this.seed ^ ((BigInt(id) * 0xd1b54a32d192ed03n) & M64))
    const u = (Number(z >> 11n) + 0.5) * (1 / 9007199254740992)
    return Math.min(Math.floor(-Math.log(u) * this.ml), 32)
  }

  // Links of `id` at `level` live in `arr` from `off`: [count, ...ids].
  private linksAt(id: number, level: number): [Uint32Array, number] {
    if (level === 0) return [this.links0, id * (this.m0 + 1)]
    return [this.upper[id]!, (level - 1) * (this.m + 1)]
  }

  private beginVisit(): void {
    if (this.marks.length < this.cap) this.marks = new Uint32Array(this.cap + 64)
    this.epoch = (this.epoch + 1) >>> 0
    if (this.epoch === 0) {
      this.marks.fill(0)
      this.epoch = 1
    }
  }

  private normalizeInto(src: Float32Array, dst: Float32Array, off: number): void {
    dst.set(src, off)
    if (this.space !== 2) return
    const norm = Math.sqrt(dot(dst, off, dst, off, this.dim))
    if (norm > 0) for (let i = 0; i < this.dim; i++) dst[off + i] = dst[off + i]! / norm
  }

  private descend(q: Float32Array, qo: number, ep: number, from: number, to: number): number {
    let best = this.distId(q, qo, ep)
    for (let level = from; level >= to; level--) {
      let changed = true
      while (changed) {
        changed = false
        const [arr, off] = this.linksAt(ep, level)
        const n = arr[off]!
        for (let i = 1; i <= n; i++) {
          const c = arr[off + i]!
          const d = this.distId(q, qo, c)
          if (d < best) {
            best = d
            ep = c
            changed = true
          }
        }
      }
    }
    return ep
  }

  private searchLayer(ep: number, q: Float32Array, qo: number, level: number, ef: number): PairHeap {
    this.beginVisit()
    const top = new PairHeap(true)
    const cand = new PairHeap(false)
    const d0 = this.distId(q, qo, ep)
    top.push(d0, ep)
    cand.push(d0, ep)
    this.marks[ep] = this.epoch
    let bound = d0
    while (cand.size > 0) {
      const cd = cand.topDist()
      const c = cand.topId()
      cand.pop()
      if (cd > bound && top.size >= ef) break
      const [arr, off] = this.linksAt(c, level)
      const n = arr[off]!
      for (let i = 1; i <= n; i++) {
        const nb = arr[off + i]!
        if (this.marks[nb] === this.epoch) continue
        this.marks[nb] = this.epoch
        const d = this.distId(q, qo, nb)
        if (top.size < ef || d < bound) {
          cand.push(d, nb)
          top.push(d, nb)
          if (top.size > ef) top.pop()
          bound = top.topDist()
        }
      }
    }
    return top
  }

  private selectHeuristic(ds: number[], ids: number[], m: number): [number[], number[]] {
    const order = ids.map((_, i) => i).sort((a, b) => ds[a]! - ds[b]! || ids[a]! - ids[b]!)
    const sd = order.map((i) => ds[i]!)
    const si = order.map((i) => ids[i]!)
    if (si.length <= m) return [sd, si]
    const kd: number[] = []
    const ki: number[] = []
    for (let j = 0; j < si.length && ki.length < m; j++) {
      const c = si[j]!
      let good = true
      for (const r of ki) {
        if (this.dist(this.data, c * this.dim, this.data, r * this.dim) < sd[j]!) {
          good = false
          break
        }
      }
      if (good) {
        kd.push(sd[j]!)
        ki.push(c)
      }
    }
    return [kd, ki]
  }

  private connect(id: number, heap: PairHeap, level: number): number {
    const ds: number[] = []
    const ids: number[] = []
    for (let i = 0; i < heap.size; i++) {
      if (heap.id[i] === id) continue
      ds.push(heap.dist[i]!)
      ids.push(heap.id[i]!)
    }
    const [sd, si] = this.selectHeuristic(ds, ids, this.m)
    if (si.length === 0) return this.entry
    const [arr, off] = this.linksAt(id, level)
    arr[off] = si.length
    for (let i = 0; i < si.length; i++) arr[off + 1 + i] = si[i]!
    const cap = level === 0 ? this.m0 : this.m
    for (let j = 0; j < si.length; j++) {
      const c = si[j]!
      const [la, lo] = this.linksAt(c, level)
      const n = la[lo]!
      let present = false
      for (let i = 1; i <= n; i++) if (la[lo + i] === id) present = true
      if (present) continue
      if (n < cap) {
        la[lo + 1 + n] = id
        la[lo] = n + 1
        continue
      }
      const od: number[] = [sd[j]!]
      const oi: number[] = [id]
      for (let i = 1; i <= n; i++) {
        const x = la[lo + i]!
        od.push(this.dist(this.data, c * this.dim, this.data, x * this.dim))
        oi.push(x)
      }
      const [, keep] = this.selectHeuristic(od, oi, cap)
      la[lo] = keep.length
      for (let i = 0; i < keep.length; i++) la[lo + 1 + i] = keep[i]!
    }
    return si[0]!
  }

  private insert(id: number, level: number): void {
    const q = this.data
    const qo = id * this.dim
    let ep = this.entry
    if (ep === NONE) {
      this.entry = id
      this.maxLevel = level
      return
    }
    const maxLevel = this.maxLevel
    if (level < maxLevel) ep = this.descend(q, qo, ep, maxLevel, level + 1)
    for (let l = Math.min(level, maxLevel); l >= 0; l--) {
      const heap = this.searchLayer(ep, q, qo, l, this.efc)
      ep = this.connect(id, heap, l)
    }
    if (level > maxLevel) {
      this.entry = id
      this.maxLevel = level
    }
  }

  private addOne(label: number, vector: Float32Array, replaceDeleted: boolean): void {
    if (this.labelToId.has(label)) throw new DuplicateVectorIdError(`id ${label} is already in the index`)
    let id: number
    let replacing = false
    if (replaceDeleted && this.freeIds.length > 0) {
      id = this.freeIds.pop()!
      this.labelToId.delete(this.labels[id]!)
      replacing = true
    } else {
      this.reserve(1)
      id = this.count++
    }
    this.labelToId.set(label, id)
    this.labels[id] = label
    this.normalizeInto(vector, this.data, id * this.dim)
    if (replacing) {
      this.insert(id, this.levels[id]!)
      this.deleted[id] = 0
      this.deletedCount--
    } else {
      const level = this.randomLevel(id)
      this.levels[id] = level
      this.upper[id] = level > 0 ? new Uint32Array(level * (this.m + 1)) : undefined
      this.insert(id, level)
    }
  }

  add(id: number, vector: Float32Array, replaceDeleted: boolean): void {
    this.checkIdle()
    this.addOne(id, vector, replaceDeleted)
  }

  async addBatch(ids: Uint32Array, vectors: Float32Array, replaceDeleted: boolean): Promise<void> {
    this.checkIdle()
    const seen = new Set<number>()
    for (const id of ids) {
      if (seen.has(id) || this.labelToId.has(id)) throw new DuplicateVectorIdError(`id ${id} is already in the index (or twice in the batch)`)
      seen.add(id)
    }
    const ownIds = ids.slice()
    const own = vectors.slice()
    this.busy = true
    try {
      this.reserve(ownIds.length)
      for (let i = 0; i < ownIds.length; i++) {
        this.addOne(ownIds[i]!, own.subarray(i * this.dim, (i + 1) * this.dim), replaceDeleted)
        if ((i & 255) === 255) await yieldToLoop()
      }
    } finally {
      this.busy = false
    }
  }

  private maskFor(allowed: Uint32Array | null): Uint8Array | null {
    if (allowed === null) return null
    const mask = new Uint8Array(this.count)
    for (const label of allowed) {
      const id = this.labelToId.get(label)
      if (id !== undefined) mask[id] = 1
    }
    return mask
  }

  private prepareQuery(query: Float32Array): Float32Array {
    if (this.space !== 2) return query
    this.normalizeInto(query, this.qbuf, 0)
    return this.qbuf
  }

  private searchOne(query: Float32Array, k: number, ef: number, mask: Uint8Array | null, exact: boolean): RawHits {
    const q = this.prepareQuery(query)
    const hits = exact ? this.exact(q, k, mask) : this.approx(q, k, ef, mask)
    const ids = new Uint32Array(hits.length)
    const dists = new Float32Array(hits.length)
    hits.forEach(([d, id], i) => {
      ids[i] = this.labels[id]!
      dists[i] = d
    })
    return [ids, dists]
  }

  private approx(q: Float32Array, k: number, ef: number, mask: Uint8Array | null): Array<[number, number]> {
    if (this.entry === NONE || k === 0) return []
    const ep = this.descend(q, 0, this.entry, this.maxLevel, 1)
    ef = Math.max(ef, k)
    const filtered = mask !== null || this.deletedCount > 0
    const ok = (id: number): boolean => this.deleted[id] === 0 && (mask === null || mask[id] === 1)
    this.beginVisit()
    const top = new PairHeap(true)
    const cand = new PairHeap(false)
    const d0 = this.distId(q, 0, ep)
    let bound = Infinity
    if (ok(ep)) {
      top.push(d0, ep)
      bound = d0
    }
    cand.push(d0, ep)
    this.marks[ep] = this.epoch
    while (cand.size > 0) {
      const cd = cand.topDist()
      const c = cand.topId()
      cand.pop()
      if (cd > bound && (top.size >= ef || !filtered)) break
      const off = c * (this.m0 + 1)
      const n = this.links0[off]!
      for (let i = 1; i <= n; i++) {
        const nb = this.links0[off + i]!
        if (this.marks[nb] === this.epoch) continue
        this.marks[nb] = this.epoch
        const d = this.distId(q, 0, nb)
        if (top.size < ef || d < bound) {
          cand.push(d, nb)
          if (ok(nb)) {
            top.push(d, nb)
            if (top.size > ef) top.pop()
          }
          if (top.size > 0) bound = top.topDist()
        }
      }
    }
    const out: Array<[number, number]> = top.dist.map((d, i) => [d, top.id[i]!])
    out.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    return out.slice(0, k)
  }

  private exact(q: Float32Array, k: number, mask: Uint8Array | null): Array<[number, number]> {
    if (k === 0) return []
    const top = new PairHeap(true)
    for (let id = 0; id < this.count; id++) {
      if (this.deleted[id] !== 0 || (mask !== null && mask[id] !== 1)) continue
      const d = this.distId(q, 0, id)
      if (top.size < k) top.push(d, id)
      else if (d < top.topDist()) {
        top.pop()
        top.push(d, id)
      }
    }
    const out: Array<[number, number]> = top.dist.map((d, i) => [d, top.id[i]!])
    out.sort((a, b) => a[0] - b[0] || this.labels[a[1]]! - this.labels[b[1]]!)
    return out
  }

  search(query: Float32Array, k: number, ef: number, allowed: Uint32Array | null, exact: boolean): RawHits {
    this.checkIdle()
    return this.searchOne(query, k, ef, this.maskFor(allowed), exact)
  }

  async searchBatch(queries: Float32Array, k: number, ef: number, allowed: Uint32Array | null, exact: boolean): Promise<RawBatchHits> {
    this.checkIdle()
    const nq = queries.length / this.dim
    const ids = new Uint32Array(nq * k).fill(NONE)
    const dists = new Float32Array(nq * k).fill(Infinity)
    const counts = new Uint32Array(nq)
    const mask = this.maskFor(allowed)
    const own = queries.slice()
    this.busy = true
    try {
      for (let i = 0; i < nq; i++) {
        const [hi, hd] = this.searchOne(own.subarray(i * this.dim, (i + 1) * this.dim), k, ef, mask, exact)
        ids.set(hi, i * k)
        dists.set(hd, i * k)
        counts[i] = hi.length
        if ((i & 63) === 63) await yieldToLoop()
      }
    } finally {
      this.busy = false
    }
    return [ids, dists, counts]
  }

  markDeleted(label: number): void {
    this.checkIdle()
    const id = this.labelToId.get(label)
    if (id === undefined) throw new UnknownVectorIdError(`id ${label} is not in the index`)
    if (this.deleted[id] === 0) {
      this.deleted[id] = 1
      this.deletedCount++
      this.freeIds.push(id)
    }
  }

  unmarkDeleted(label: number): void {
    this.checkIdle()
    const id = this.labelToId.get(label)
    if (id === undefined) throw new UnknownVectorIdError(`id ${label} is not in the index`)
    if (this.deleted[id] === 1) {
      this.deleted[id] = 0
      this.deletedCount--
      this.freeIds = this.freeIds.filter((x) => x !== id)
    }
  }

  has(label: number): boolean {
    this.checkIdle()
    return this.labelToId.has(label)
  }

  isDeleted(label: number): boolean {
    this.checkIdle()
    const id = this.labelToId.get(label)
    return id !== undefined && this.deleted[id] === 1
  }

  getVector(label: number): Float32Array | undefined {
    this.checkIdle()
    const id = this.labelToId.get(label)
    return id === undefined ? undefined : this.data.slice(id * this.dim, (id + 1) * this.dim)
  }

  stats(): [number, number, number, number, number, number] {
    this.checkIdle()
    return [this.count - this.deletedCount, this.deletedCount, this.dim, this.space, this.m, this.efc]
  }

  serialize(): Uint8Array {
    this.checkIdle()
    const n = this.count
    let upperWords = 0
    for (let i = 0; i < n; i++) upperWords += this.upper[i]?.length ?? 0
    const size = HEADER + 12 * n + 4 * n * this.dim + 4 * n * (this.m0 + 1) + 4 * upperWords + 4
    const buf = Buffer.alloc(size)
    MAGIC.copy(buf, 0)
    buf.writeUInt32LE(FORMAT_VERSION, 8)
    buf.writeUInt32LE(this.space, 12)
    buf.writeUInt32LE(this.dim, 16)
    buf.writeUInt32LE(this.m, 20)
    buf.writeUInt32LE(this.efc, 24)
    buf.writeUInt32LE(n, 28)
    buf.writeUInt32LE(this.entry, 32)
    buf.writeInt32LE(this.maxLevel, 36)
    buf.writeBigUInt64LE(this.seed, 40)
    let o = HEADER
    for (let i = 0; i < n; i++, o += 12) {
      buf.writeUInt32LE(this.labels[i]!, o)
      buf.writeUInt32LE(this.deleted[i]!, o + 4)
      buf.writeUInt32LE(this.levels[i]!, o + 8)
    }
    const put = (a: Float32Array | Uint32Array): void => {
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, o)
      o += a.byteLength
    }
    put(this.data.subarray(0, n * this.dim))
    put(this.links0.subarray(0, n * (this.m0 + 1)))
    for (let i = 0; i < n; i++) {
      const u = this.upper[i]
      if (u) put(u)
    }
    buf.writeUInt32LE(crc32c(buf.subarray(0, size - 4)), size - 4)
    return buf
  }

  static deserialize(bytes: Uint8Array): FallbackVectorIndex {
    const p = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const len = p.length
    const corrupt = (msg: string): never => {
      throw new VectorIndexCorruptError(msg)
    }
    if (len < 8 || !p.subarray(0, 8).equals(MAGIC)) throw new VectorIndexFormatError('not an ecom vector index file (bad magic)')
    if (len < HEADER + 4) corrupt('index file is truncated')
    const version = p.readUInt32LE(8)
    if (version !== FORMAT_VERSION) throw new VectorIndexFormatError(`unsupported index format version ${version}`)
    if (crc32c(p.subarray(0, len - 4)) !== p.readUInt32LE(len - 4)) corrupt('index file checksum mismatch')
    const space = p.readUInt32LE(12)
    const dim = p.readUInt32LE(16)
    const m = p.readUInt32LE(20)
    const efc = p.readUInt32LE(24)
    const n = p.readUInt32LE(28)
    const entry = p.readUInt32LE(32)
    const maxLevel = p.readInt32LE(36)
    const seed = p.readBigUInt64LE(40)
    if (space > 2 || dim === 0 || dim > 65536 || m < 2 || m > 2048 || efc === 0) corrupt('index header is invalid')
    const m0 = 2 * m
    const need = HEADER + 12 * n + 4 * n * dim + 4 * n * (m0 + 1) + 4
    if (need > len) corrupt('index file is truncated')
    const idx = new FallbackVectorIndex(dim, space, m, efc, 0)
    ;(idx as unknown as { seed: bigint }).seed = seed
    idx.reserve(n)
    let o = HEADER
    let upperWords = 0
    for (let i = 0; i < n; i++, o += 12) {
      const label = p.readUInt32LE(o)
      const del = p.readUInt32LE(o + 4)
      const level = p.readUInt32LE(o + 8)
      if (del > 1 || level > 32) corrupt('index node record is invalid')
      if (idx.labelToId.has(label)) corrupt('index holds a duplicate id')
      idx.labelToId.set(label, i)
      idx.labels[i] = label
      idx.levels[i] = level
      idx.deleted[i] = del
      if (del) {
        idx.freeIds.push(i)
        idx.deletedCount++
      }
      upperWords += level * (m + 1)
    }
    if (need + 4 * upperWords !== len) corrupt('index file has the wrong length')
    // Copy through a fresh ArrayBuffer: the source may not be 4-byte aligned.
    const copy = (words: number): ArrayBuffer => {
      const ab = p.buffer.slice(p.byteOffset + o, p.byteOffset + o + 4 * words) as ArrayBuffer
      o += 4 * words
      return ab
    }
    idx.data.set(new Float32Array(copy(n * dim)))
    idx.links0.set(new Uint32Array(copy(n * (m0 + 1))))
    for (let i = 0; i < n; i++) {
      const words = idx.levels[i]! * (m + 1)
      idx.upper[i] = words > 0 ? new Uint32Array(copy(words)) : undefined
    }
    for (let i = 0; i < n; i++) {
      for (let level = 0; level <= idx.levels[i]!; level++) {
        const [arr, off] = idx.linksAt(i, level)
        const cnt = arr[off]!
        if (cnt > (level === 0 ? m0 : m)) corrupt('index link list is too long')
        for (let j = 1; j <= cnt; j++) {
          const t = arr[off + j]!
          if (t >= n || idx.levels[t]! < level) corrupt('index link points outside the graph')
        }
      }
    }
    if (n === 0 ? entry !== NONE || maxLevel !== -1 : entry >= n || idx.levels[entry] !== maxLevel) corrupt('index entry point is invalid')
    idx.count = n
    idx.entry = entry
    idx.maxLevel = maxLevel
    return idx
  }
}
