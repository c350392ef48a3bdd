// One conformance suite run against both backends (addon and TypeScript), then native-vs-fallback checks.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DuplicateVectorIdError,
  UnknownVectorIdError,
  VectorIndex,
  VectorIndexBusyError,
  VectorIndexCorruptError,
  VectorIndexFormatError,
  nativeStatus,
} from '../../src/public/native.js'
import { InvalidOptionError } from '../../src/errors.js'
import { nativeAddon } from '../../src/native/loader.js'
import { type ClusteredSet, clustered, groundTruth, recallAt, rng } from './fixtures/clustered.js'

const native = nativeStatus().native
const backends = native ? (['native', 'typescript'] as const) : (['typescript'] as const)
if (!native) console.warn(`native vector index tests skipped: ${nativeStatus().reason}`)

const N = 3000
const DIM = 24
let set: ClusteredSet
let truth: number[][]
let ids: Uint32Array
let dir: string

beforeAll(() => {
  set = clustered(N, DIM, 60, 3, 30)
  truth = groundTruth(set, 10)
  ids = Uint32Array.from({ length: N }, (_, i) => i * 3 + 1)
  truth = truth.map((t) => t.map((i) => i * 3 + 1))
  dir = mkdtempSync(join(tmpdir(), 'ecom-native-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function row(data: Float32Array, i: number): Float32Array {
  return data.subarray(i * DIM, (i + 1) * DIM)
}

function bruteForce(space: 'l2' | 'ip' | 'cosine', q: Float32Array, k: number, skip: Set<number> = new Set()): number[] {
  const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1
  const qn = norm(q)
  const scored: Array<[number, number]> = []
  for (let i = 0; i < N; i++) {
    if (skip.has(ids[i]!)) continue
    const v = row(set.data, i)
    let d = 0
    if (space === 'l2') for (let j = 0; j < DIM; j++) d += (v[j]! - q[j]!) ** 2
    else {
      let dot = 0
      for (let j = 0; j < DIM; j++) dot += v[j]! * q[j]!
      d = space === 'ip' ? 1 - dot : 1 - dot / (norm(v) * qn)
    }
    scored.push([d, ids[i]!])
  }
  return scored.sort((a, b) => a[0] - b[0]).slice(0, k).map((s) => s[1])
}

describe.each(backends)('VectorIndex conformance (%s)', (backend) => {
  let index: VectorIndex

  beforeAll(async () => {
    index = new VectorIndex({ dimensions: DIM, backend, threads: 2 })
    await index.addBatch(ids, set.data)
  })

  it('builds, reports its backend and size, and reaches high recall at the default ef', async () => {
    expect(index.backend).toBe(backend)
    expect(index.size).toBe(N)
    const found = await index.searchBatch(set.queries, 10)
    expect(recallAt(found, truth)).toBeGreaterThanOrEqual(0.95)
    const single = Array.from({ length: set.queryCount }, (_, q) => index.search(row(set.queries, q), 10))
    expect(single.map((h) => h.map((x) => x.id))).toEqual(found.map((h) => h.map((x) => x.id)))
  })

  it('exact search equals a plain brute force in every space', async () => {
    for (const space of ['l2', 'ip', 'cosine'] as const) {
      const idx = new VectorIndex({ dimensions: DIM, space, backend })
      await idx.addBatch(ids, set.data)
      for (let q = 0; q < 10; q++) {
        const query = row(set.queries, q)
        expect(idx.searchExact(query, 10).map((h) => h.id), `${space} query ${q}`).toEqual(bruteForce(space, query, 10))
      }
      const approx = await idx.searchBatch(set.queries.subarray(0, 20 * DIM), 10, { ef: 100 })
      const want = Array.from({ length: 20 }, (_, q) => bruteForce(space, row(set.queries, q), 10))
      expect(recallAt(approx, want), space).toBeGreaterThanOrEqual(0.95)
    }
  })

  it('filters by allowed ids', async () => {
    const allowed = Array.from(ids).filter((_, i) => i % 7 === 0)
    const allowedSet = new Set(allowed)
    const q = row(set.queries, 0)
    const hits = index.search(q, 10, { filter: allowed, ef: 200 })
    expect(hits).toHaveLength(10)
    for (const h of hits) expect(allowedSet.has(h.id)).toBe(true)
    const exact = index.searchExact(q, 10, { filter: allowed }).map((h) => h.id)
    expect(exact.every((id) => allowedSet.has(id))).toBe(true)
    expect(hits.map((h) => h.id).filter((id) => exact.includes(id)).length).toBeGreaterThanOrEqual(8)
    const batch = await index.searchBatch(set.queries.subarray(0, 5 * DIM), 5, { filter: new Uint32Array(allowed) })
    for (const r of batch) for (const h of r) expect(allowedSet.has(h.id)).toBe(true)
  })

  it('marks deleted, unmarks, and replaces deleted slots', async () => {
    const idx = new VectorIndex({ dimensions: DIM, backend })
    await idx.addBatch(ids.subarray(0, 500), set.data.subarray(0, 500 * DIM))
    const q = row(set.data, 10)
    expect(idx.search(q, 1)[0]!.id).toBe(ids[10])
    idx.markDeleted(ids[10]!)
    expect(idx.isDeleted(ids[10]!)).toBe(true)
    expect(idx.size).toBe(499)
    expect(idx.search(q, 10).map((h) => h.id)).not.toContain(ids[10])
    expect(idx.searchExact(q, 10).map((h) => h.id)).not.toContain(ids[10])
    idx.unmarkDeleted(ids[10]!)
    expect(idx.search(q, 1)[0]!.id).toBe(ids[10])
    for (let i = 0; i < 50; i++) idx.markDeleted(ids[i]!)
    // Replace: new ids take the deleted slots, so the slot count does not grow.
    const before = idx.toBuffer().length
    for (let i = 0; i < 50; i++) idx.add(100_000 + i, row(set.data, 1000 + i), { replaceDeleted: true })
    expect(idx.toBuffer().length).toBe(before)
    expect(idx.size).toBe(500)
    expect(idx.has(ids[0]!)).toBe(false)
    for (let i = 0; i < 50; i += 7) expect(idx.search(row(set.data, 1000 + i), 1)[0]!.id).toBe(100_000 + i)
    for (let i = 60; i < 500; i += 37) expect(idx.search(row(set.data, i), 1)[0]!.id).toBe(ids[i])
    expect(() => idx.markDeleted(999_999)).toThrow(UnknownVectorIdError)
  })

  it('rejects bad input with coded errors', async () => {
    expect(() => new VectorIndex({ dimensions: 0, backend })).toThrow(InvalidOptionError)
    expect(() => new VectorIndex({ dimensions: 4, space: 'manhattan' as never, backend })).toThrow(/options.space/)
    const idx = new VectorIndex({ dimensions: 4, backend })
    idx.add(1, [1, 2, 3, 4])
    expect(() => idx.add(1, [1, 2, 3, 4])).toThrow(DuplicateVectorIdError)
    expect(() => idx.add(2, [1, 2, 3])).toThrow(InvalidOptionError)
    expect(() => idx.add(-1, [1, 2, 3, 4])).toThrow(InvalidOptionError)
    expect(() => idx.search([1, 2, 3, 4, 5], 1)).toThrow(InvalidOptionError)
    await expect(idx.addBatch([5, 5], new Float32Array(8))).rejects.toBeInstanceOf(DuplicateVectorIdError)
    await expect(idx.addBatch([6, 7], new Float32Array(7))).rejects.toBeInstanceOf(InvalidOptionError)
    expect(idx.size).toBe(1)
  })

  it('refuses synchronous calls while a batch runs instead of blocking', async () => {
    const idx = new VectorIndex({ dimensions: DIM, backend })
    const pending = idx.addBatch(ids, set.data)
    let done = false
    void pending.then(() => (done = true))
    // The addon runs the batch on a worker thread; the fallback yields between slices. Poll until it ends.
    let sawBusy = false
    while (!done && !sawBusy) {
      try {
        idx.search(row(set.queries, 0), 1)
      } catch (err) {
        expect(err).toBeInstanceOf(VectorIndexBusyError)
        sawBusy = true
      }
      await new Promise((r) => setTimeout(r, 1))
    }
    await pending
    expect(sawBusy).toBe(true)
    expect(idx.size).toBe(N)
  })

  it('saves and loads (round trip, either backend reads the file)', async () => {
    const file = join(dir, `index-${backend}.ecomvec`)
    await index.save(file)
    for (const other of backends) {
      const loaded = await VectorIndex.load(file, { backend: other })
      expect(loaded.backend).toBe(other)
      expect(loaded.size).toBe(N)
      expect(loaded.dimensions).toBe(DIM)
      const a = await index.searchBatch(set.queries, 10)
      const b = await loaded.searchBatch(set.queries, 10)
      expect(b.map((r) => r.map((h) => h.id))).toEqual(a.map((r) => r.map((h) => h.id)))
      expect(loaded.toBuffer().equals(readFileSync(file))).toBe(true)
    }
  })

  it('gives a coded error, never a crash, for corrupted, truncated and foreign files', async () => {
    const good = index.toBuffer()
    const rand = rng(9)
    for (let i = 0; i < 20; i++) {
      const bad = Buffer.from(good)
      const at = 8 + Math.floor(rand() * (bad.length - 8))
      bad[at] = bad[at]! ^ (1 + Math.floor(rand() * 255))
      expect(() => VectorIndex.fromBuffer(bad, { backend })).toThrow(VectorIndexCorruptError)
    }
    expect(() => VectorIndex.fromBuffer(good.subarray(0, good.length - 100), { backend })).toThrow(VectorIndexCorruptError)
    expect(() => VectorIndex.fromBuffer(good.subarray(0, 20), { backend })).toThrow(VectorIndexCorruptError)
    expect(() => VectorIndex.fromBuffer(Buffer.from('{"not":"an index"}'), { backend })).toThrow(VectorIndexFormatError)
    const future = Buffer.from(good)
    future.writeUInt32LE(99, 8)
    expect(() => VectorIndex.fromBuffer(future, { backend })).toThrow(VectorIndexFormatError)
    const file = join(dir, 'garbage.bin')
    writeFileSync(file, Buffer.alloc(4096, 7))
    await expect(VectorIndex.load(file, { backend })).rejects.toMatchObject({ code: 'ECOM_ERR_NATIVE_INDEX_FORMAT' })
  })
})

describe.skipIf(!native)('native and TypeScript backends agree', () => {
  it('build the same graph from the same seed and insert order, and return the same results', async () => {
    const a = new VectorIndex({ dimensions: DIM, backend: 'native', threads: 1 })
    const b = new VectorIndex({ dimensions: DIM, backend: 'typescript' })
    await a.addBatch(ids, set.data)
    await b.addBatch(ids, set.data)
    const ra = await a.searchBatch(set.queries, 10)
    const rb = await b.searchBatch(set.queries, 10)
    const same = ra.filter((r, q) => r.map((h) => h.id).join() === rb[q]!.map((h) => h.id).join()).length
    expect(same / ra.length).toBeGreaterThanOrEqual(0.95)
    for (let q = 0; q < set.queryCount; q++) {
      const ea = a.searchExact(row(set.queries, q), 10)
      const eb = b.searchExact(row(set.queries, q), 10)
      expect(ea.map((h) => h.id)).toEqual(eb.map((h) => h.id))
      ea.forEach((h, i) => expect(h.distance).toBeCloseTo(eb[i]!.distance, 3))
    }
  })

  it('every SIMD kernel this CPU supports gives the scalar result', () => {
    const addon = nativeAddon()!
    const info = addon.cpuInfo()
    expect(info.simdLevels).toContain('scalar')
    const rand = rng(4)
    try {
      for (const level of info.simdLevels) {
        expect(addon.selectSimd(level)).toBe(true)
        for (const n of [1, 3, 8, 15, 16, 17, 31, 32, 33, 100, 128, 1000]) {
          const x = Float32Array.from({ length: n }, () => rand() * 2 - 1)
          const y = Float32Array.from({ length: n }, () => rand() * 2 - 1)
          let l2 = 0
          let dot = 0
          for (let i = 0; i < n; i++) {
            l2 += (x[i]! - y[i]!) ** 2
            dot += x[i]! * y[i]!
          }
          expect(addon.distance('l2', x, y)).toBeCloseTo(l2, 3)
          expect(addon.distance('dot', x, y)).toBeCloseTo(dot, 3)
        }
      }
      expect(addon.selectSimd('avx9000')).toBe(false)
    } finally {
      addon.selectSimd(info.simd)
    }
  })
})
