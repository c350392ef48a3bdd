// TypeScript CRC32C and xxHash64 with the addon's exact API (state layout aside: it lives in an object).

const CRC_TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = Array.from({ length: 8 }, () => new Uint32Array(256))
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    t[0]![i] = c >>> 0
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) t[s]![i] = (t[s - 1]![i]! >>> 8) ^ t[0]![t[s - 1]![i]! & 0xff]!
  }
  return t
})()

/** CRC32C of `data`, continuing from a previous result (0 to start). */
export function crc32c(data: Uint8Array, previous = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let crc = ~previous >>> 0
  let i = 0
  const n = data.length
  for (; i + 8 <= n; i += 8) {
    const lo = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ crc
    crc =
      t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^
      t3[data[i + 4]!]! ^ t2[data[i + 5]!]! ^ t1[data[i + 6]!]! ^ t0[data[i + 7]!]!
  }
  for (; i < n; i++) crc = (crc >>> 8) ^ t0[(crc ^ data[i]!) & 0xff]!
  return ~crc >>> 0
}

const M64 = (1n << 64n) - 1n
const P1 = 11400714785074694791n
const P2 = 14029467366897019727n
const P3 = 1609587929392839161n
const P4 = 9650029242287828579n
const P5 = 2870177450012600261n

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & M64
const round = (acc: bigint, input: bigint): bigint => (rotl((acc + input * P2) & M64, 31n) * P1) & M64
const merge = (acc: bigint, val: bigint): bigint => (((acc ^ round(0n, val)) * P1) & M64) + P4 & M64

function read64(d: Uint8Array, i: number): bigint {
  const lo = (d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) >>> 0
  const hi = (d[i + 4]! | (d[i + 5]! << 8) | (d[i + 6]! << 16) | (d[i + 7]! << 24)) >>> 0
  return (BigInt(hi) << 32n) | BigInt(lo)
}
function read32(d: Uint8Array, i: number): bigint {
  return BigInt((d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24)) >>> 0)
}

/** Streaming xxHash64 (the reference algorithm), slow but exact: BigInt arithmetic. */
export class Xxh64 {
  private total = 0
  private v: [bigint, bigint, bigint, bigint]
  private readonly mem = new Uint8Array(32)
  private memsize = 0
  private readonly seed: bigint

  constructor(seed: bigint | number = 0n) {
    this.seed = BigInt.asUintN(64, BigInt(seed))
    const s = this.seed
    this.v = [(s + P1 + P2) & M64, (s + P2) & M64, s, (s - P1) & M64]
  }

  update(data: Uint8Array): this {
    let p = 0
    let len = data.length
    this.total += len
    if (this.memsize + len < 32) {
      this.mem.set(data, this.memsize)
      this.memsize += len
      return this
    }
    if (this.memsize > 0) {
      const fill = 32 - this.memsize
      this.mem.set(data.subarray(0, fill), this.memsize)
      for (let i = 0; i < 4; i++) this.v[i] = round(this.v[i]!, read64(this.mem, 8 * i))
      p = fill
      len -= fill
      this.memsize = 0
    }
    let [v0, v1, v2, v3] = this.v
    while (len >= 32) {
      v0 = round(v0, read64(data, p))
      v1 = round(v1, read64(data, p + 8))
      v2 = round(v2, read64(data, p + 16))
      v3 = round(v3, read64(data, p + 24))
      p += 32
      len -= 32
    }
    this.v = [v0, v1, v2, v3]
    if (len > 0) {
      this.mem.set(data.subarray(p, p + len), 0)
      this.memsize = len
    }
    return this
  }

  digest(): bigint {
    let h: bigint
    if (this.total >= 32) {
      const [v0, v1, v2, v3] = this.v
      h = (rotl(v0, 1n) + rotl(v1, 7n) + rotl(v2, 12n) + rotl(v3, 18n)) & M64
      for (const v of this.v) h = merge(h, v)
    } else {
      h = (this.seed + P5) & M64
    }
    h = (h + BigInt(this.total)) & M64
    let p = 0
    let len = this.memsize
    const m = this.mem
    while (len >= 8) {
      h ^= round(0n, read64(m, p))
      h = (rotl(h, 27n) * P1 + P4) & M64
      p += 8
      len -= 8
    }
    if (len >= 4) {
      h ^= (read32(m, p) * P1) & M64
      h = (rotl(h, 23n) * P2 + P3) & M64
      p += 4
      len -= 4
    }
    while (len > 0) {
      h ^= (BigInt(m[p]!) * P5) & M64
      h = (rotl(h, 11n) * P1) & M64
      p++
      len--
    }
    h ^= h >> 33n
    h = (h * P2) & M64
    h ^= h >> 29n
    h = (h * P3) & M64
    h ^= h >> 32n
    return h
  }
}

export function xxhash64(data: Uint8Array, seed: bigint | number = 0n): bigint {
  return new Xxh64(seed).update(data).digest()
}
