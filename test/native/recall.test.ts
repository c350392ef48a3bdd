// The recall bar: a seeded, clustered 100k x 128 set, built once (multithreaded, on the addon),
// recall@10 >= 0.95 at the default ef. The TypeScript fallback's agreement is checked on a smaller set
// in vector-index.test.ts (a 100k build in TypeScript takes minutes).
import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { VectorIndex, nativeStatus, vectorIndexDefaults } from '../../src/public/native.js'
import { clustered, groundTruth, recallAt } from './fixtures/clustered.js'

const native = nativeStatus().native
if (!native) console.warn(`100k recall test skipped (it needs the addon): ${nativeStatus().reason}`)

describe.skipIf(!native)('HNSW recall on 100k x 128 (native)', () => {
  it('recall@10 >= 0.95 at the default ef', { timeout: 180_000 }, async () => {
    const set = clustered(100_000, 128, 100, 7)
    const truth = groundTruth(set, 10)
    const index = new VectorIndex({ dimensions: 128, backend: 'native', threads: availableParallelism() })
    await index.addBatch(Uint32Array.from({ length: set.count }, (_, i) => i), set.data)
    expect(index.size).toBe(100_000)
    const found = await index.searchBatch(set.queries, 10)
    const recall = recallAt(found, truth)
    console.log(`recall@10 at ef=${vectorIndexDefaults.efSearch}: ${recall}`)
    expect(recall).toBeGreaterThanOrEqual(0.95)
    // The multithreaded build left a structurally valid graph: loading re-checks every link and count.
    const reloaded = VectorIndex.fromBuffer(index.toBuffer())
    expect(reloaded.size).toBe(100_000)
    // Exact search on the addon agrees with the plain TypeScript ground truth.
    const exact = await index.searchBatch(set.queries.subarray(0, 20 * 128), 10, { exact: true })
    expect(exact.map((r) => r.map((h) => h.id))).toEqual(truth.slice(0, 20))
  })
})
