import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { ChecksumStream, crc32c, nativeStatus, xxhash64 } from '../../src/public/native.js'
import { rng } from './fixtures/clustered.js'

const backends = nativeStatus().native ? (['native', 'typescript'] as const) : (['typescript'] as const)
if (!nativeStatus().native) console.warn(`native checksum tests skipped: ${nativeStatus().reason}`)

// Published vectors: RFC 3720 appendix B.4 (CRC32C) and the xxHash reference implementation / python-xxhash docs.
const CRC_VECTORS: Array<[Uint8Array, number]> = [
  [Buffer.from('123456789'), 0xe3069283],
  [Buffer.alloc(32, 0x00), 0x8a9136aa],
  [Buffer.alloc(32, 0xff), 0x62a8ab43],
  [Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  [Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  [Buffer.alloc(0), 0],
]
const XXH_VECTORS: Array<[Uint8Array, bigint, bigint]> = [
  [Buffer.alloc(0), 0n, 0xef46db3751d8e999n],
  [Buffer.from('a'), 0n, 0xd24ec4f1a98c6e5bn],
  [Buffer.from('abc'), 0n, 0x44bc2cf5ad770999n],
  [Buffer.from('Nobody inspects the spammish repetition'), 0n, 0xfbcea83c8a378bf1n],
]

describe.each(backends)('checksums (%s)', (backend) => {
  it('CRC32C matches the RFC 3720 test vectors', () => {
    for (const [data, want] of CRC_VECTORS) expect(crc32c(data, 0, backend)).toBe(want)
  })

  it('xxHash64 matches the reference test vectors', () => {
    for (const [data, seed, want] of XXH_VECTORS) expect(xxhash64(data, seed, backend)).toBe(want)
  })

  it('chained and streamed digests equal the one-shot digest for any chunking', async () => {
    const data = randomBytes(300_000)
    const rand = rng(5)
    for (let round = 0; round < 5; round++) {
      const chunks: Buffer[] = []
      for (let at = 0; at < data.length; ) {
        const len = 1 + Math.floor(rand() * 40_000)
        chunks.push(data.subarray(at, at + len))
        at += len
      }
      let chained = 0
      for (const c of chunks) chained = crc32c(c, chained, backend)
      expect(chained).toBe(crc32c(data, 0, backend))
      for (const algorithm of ['crc32c', 'xxhash64'] as const) {
        const sum = new ChecksumStream({ algorithm, backend, seed: 9 })
        let seen: unknown
        sum.on('digest', (d) => (seen = d))
        const out: Buffer[] = []
        await pipeline(Readable.from(chunks), sum, async function* (src) {
          for await (const c of src) out.push(c as Buffer)
        })
        expect(Buffer.concat(out).equals(data)).toBe(true)
        const want = algorithm === 'crc32c' ? crc32c(data, 0, backend) : xxhash64(data, 9, backend)
        expect(sum.digest?.value).toBe(want)
        expect(sum.digest?.bytes).toBe(data.length)
        expect(seen).toEqual(sum.digest)
      }
    }
  })
})

describe.skipIf(!nativeStatus().native)('native checksums agree with the TypeScript ones', () => {
  it('on large buffers (the three-lane hardware CRC path) and odd lengths', () => {
    const data = randomBytes((1 << 20) + 7)
    for (const len of [0, 1, 7, 8, 31, 32, 33, 12_287, 12_288, 12_289, 40_013, data.length]) {
      const slice = data.subarray(3, 3 + len)
      expect(crc32c(slice, 0, 'native')).toBe(crc32c(slice, 0, 'typescript'))
      expect(crc32c(slice, 0xdeadbeef, 'native')).toBe(crc32c(slice, 0xdeadbeef, 'typescript'))
      expect(xxhash64(slice, 123n, 'native')).toBe(xxhash64(slice, 123n, 'typescript'))
    }
  })
})
