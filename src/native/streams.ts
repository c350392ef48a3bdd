// Stream hot paths: an NDJSON / line splitter that hands lines over in batches (one native call per
// chunk), and a checksum pass-through (CRC32C or xxHash64). Both work on the addon or on TypeScript.
import { Transform, type TransformCallback } from 'node:stream'
import { InvalidOptionError, LineTooLongError, NdjsonParseError } from '../errors.js'
import { crc32c as crc32cTs, Xxh64, xxhash64 as xxhash64Ts } from './fallback/checksum.js'
import { scanLines as scanLinesTs } from './fallback/split.js'
import { type Backend, type NativeAddon, resolveBackend } from './loader.js'

export interface LineSplitterOptions {
  /** Longest line accepted, in bytes without the line break; longer gives LineTooLongError. @default 16777216 */
  maxLineLength?: number
  /** JSON.parse every line (NDJSON). @default false */
  parse?: boolean
  /** Drop empty lines. @default true with `parse`, false without */
  skipEmpty?: boolean
  /** Push one array per input chunk (true) or one value per line (false, like split2). @default true */
  batch?: boolean
  /** @default "auto" */
  backend?: Backend
  /** Readable side high-water mark, in pushed items. @default 16 */
  highWaterMark?: number
}

const DEFAULT_MAX_LINE = 16 * 1024 * 1024

function positiveInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(`${path} must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * Splits a byte stream into lines ("\n" or "\r\n"); a last line without a newline is emitted at the end.
 * Lines are found natively, one call per chunk, and pushed as one array per chunk unless `batch: false`.
 */
export class LineSplitter extends Transform {
  readonly backend: 'native' | 'typescript'
  private readonly scan: NativeAddon['scanLines']
  private readonly maxLineLength: number
  private readonly parse: boolean
  private readonly skipEmpty: boolean
  private readonly batch: boolean
  private carry: Buffer | undefined
  private pending: Buffer[] = []
  private pendingBytes = 0
  private out = new Uint32Array(4 + 2 * 65536)
  private records = 0

  constructor(options: LineSplitterOptions = {}) {
    super({ readableObjectMode: true, readableHighWaterMark: options.highWaterMark ?? 16 })
    const addon = resolveBackend(options.backend)
    this.backend = addon ? 'native' : 'typescript'
    this.scan = addon ? addon.scanLines : scanLinesTs
    this.maxLineLength = options.maxLineLength === undefined ? DEFAULT_MAX_LINE : positiveInt(options.maxLineLength, 'options.maxLineLength')
    this.parse = options.parse ?? false
    this.skipEmpty = options.skipEmpty ?? this.parse
    this.batch = options.batch ?? true
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk
    if (this.carry !== undefined) {
      // A long line spanning many chunks is gathered as a list and joined once its newline arrives,
      // so it costs one copy, not one per chunk.
      if (buf.indexOf(10) < 0) {
        this.pending.push(buf)
        this.pendingBytes += buf.length
        if (this.carry.length + this.pendingBytes > this.maxLineLength + 1) {
          this.carry = undefined
          this.pending = []
          callback(new LineTooLongError(`a line is longer than maxLineLength (${this.maxLineLength} bytes)`, { details: { maxLineLength: this.maxLineLength } }))
        } else {
          callback()
        }
        return
      }
      buf = Buffer.concat([this.carry, ...this.pending, buf])
      this.pending = []
      this.pendingBytes = 0
    }
    // Room for every line's (start, end). Up to 1 MiB assume the worst (all newlines); a bigger buffer
    // (a long line gathered over many chunks) gets its newlines counted instead of a huge array.
    let need = 4 + 2 * buf.length
    if (buf.length > 1 << 20) {
      let lines = 1
      for (let p = buf.indexOf(10); p >= 0; p = buf.indexOf(10, p + 1)) lines++
      need = 4 + 2 * lines
    }
    if (this.out.length < need) this.out = new Uint32Array(Math.max(need, Math.min(2 * this.out.length, 4 + 2 * (1 << 20))))
    const out = this.out
    const text = this.scan(buf, out, this.maxLineLength, this.skipEmpty)
    if (out[2] !== 0) {
      this.carry = undefined
      callback(new LineTooLongError(`a line is longer than maxLineLength (${this.maxLineLength} bytes)`, { details: { maxLineLength: this.maxLineLength } }))
      return
    }
    const consumed = out[1]!
    this.carry = consumed < buf.length ? buf.subarray(consumed) : undefined
    const n = out[0]!
    if (n === 0) {
      callback()
      return
    }
    if (this.parse && text !== undefined && out[3] === 1) {
      // Hot path for ASCII NDJSON: parse each slice straight away.
      const values: unknown[] = new Array(n)
      let i = 0
      try {
        for (; i < n; i++) values[i] = JSON.parse(text.slice(out[4 + 2 * i], out[5 + 2 * i]))
      } catch (err) {
        const record = this.records + i + 1
        callback(new NdjsonParseError(`record ${record} is not valid JSON: ${(err as Error).message}`, { cause: err, details: { record } }))
        return
      }
      this.records += n
      this.pushItems(values)
      callback()
      return
    }
    this.emitItems(this.lines(buf, text, n), callback)
  }

  private lines(buf: Buffer, text: string | undefined, n: number): unknown[] {
    const out = this.out
    const items: unknown[] = new Array(n)
    if (text !== undefined && out[3] === 1) {
      for (let i = 0; i < n; i++) items[i] = text.slice(out[4 + 2 * i], out[5 + 2 * i])
    } else {
      for (let i = 0; i < n; i++) items[i] = buf.toString('utf8', out[4 + 2 * i], out[5 + 2 * i])
    }
    return items
  }

  private pushItems(items: unknown[]): void {
    if (this.batch) this.push(items)
    else for (const item of items) this.push(item)
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.carry === undefined ? undefined : Buffer.concat([this.carry, ...this.pending])
    this.carry = undefined
    this.pending = []
    if (rest === undefined || rest.length === 0) {
      callback()
      return
    }
    if (rest.length > this.maxLineLength) {
      callback(new LineTooLongError(`a line is longer than maxLineLength (${this.maxLineLength} bytes)`, { details: { maxLineLength: this.maxLineLength } }))
      return
    }
    const line = rest.toString('utf8')
    this.emitItems([line], callback)
  }

  private emitItems(items: unknown[], callback: TransformCallback): void {
    if (this.parse) {
      for (let i = 0; i < items.length; i++) {
        try {
          items[i] = JSON.parse(items[i] as string)
        } catch (err) {
          const record = this.records + i + 1
          callback(new NdjsonParseError(`record ${record} is not valid JSON: ${(err as Error).message}`, { cause: err, details: { record } }))
          return
        }
      }
    }
    this.records += items.length
    this.pushItems(items)
    callback()
  }
}

export type ChecksumAlgorithm = 'crc32c' | 'xxhash64'

export interface ChecksumStreamOptions {
  /** @default "crc32c" */
  algorithm?: ChecksumAlgorithm
  /** xxHash64 seed. @default 0 */
  seed?: bigint | number
  /** @default "auto" */
  backend?: Backend
}

export interface ChecksumDigest {
  algorithm: ChecksumAlgorithm
  /** CRC32C as an unsigned 32-bit number; xxHash64 as an unsigned 64-bit bigint. */
  value: number | bigint
  /** Big-endian hex, 8 (crc32c) or 16 (xxhash64) digits. */
  hex: string
  bytes: number
}

function hexOf(algorithm: ChecksumAlgorithm, value: number | bigint): string {
  return algorithm === 'crc32c' ? value.toString(16).padStart(8, '0') : value.toString(16).padStart(16, '0')
}

/** A pass-through that checksums everything written; emits 'digest' (a ChecksumDigest) before 'end'. */
export class ChecksumStream extends Transform {
  readonly backend: 'native' | 'typescript'
  readonly algorithm: ChecksumAlgorithm
  /** Set once the stream has finished. */
  digest: ChecksumDigest | undefined
  private readonly addon: NativeAddon | undefined
  private crc = 0
  private bytes = 0
  private readonly state: Uint8Array | undefined
  private readonly ts: Xxh64 | undefined

  constructor(options: ChecksumStreamOptions = {}) {
    super()
    this.addon = resolveBackend(options.backend)
    this.backend = this.addon ? 'native' : 'typescript'
    const algorithm = options.algorithm ?? 'crc32c'
    if (algorithm !== 'crc32c' && algorithm !== 'xxhash64') {
      throw new InvalidOptionError(`options.algorithm must be "crc32c" or "xxhash64", got ${JSON.stringify(algorithm)}`)
    }
    this.algorithm = algorithm
    if (algorithm === 'xxhash64') {
      const seed = BigInt.asUintN(64, BigInt(options.seed ?? 0))
      if (this.addon) {
        this.state = new Uint8Array(this.addon.xxh64StateSize)
        this.addon.xxh64Reset(this.state, seed)
      } else {
        this.ts = new Xxh64(seed)
      }
    }
  }

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk
    this.bytes += buf.length
    if (this.algorithm === 'crc32c') this.crc = this.addon ? this.addon.crc32c(buf, this.crc) : crc32cTs(buf, this.crc)
    else if (this.state) this.addon!.xxh64Update(this.state, buf)
    else this.ts!.update(buf)
    callback(null, buf)
  }

  override _flush(callback: TransformCallback): void {
    const value = this.algorithm === 'crc32c' ? this.crc : this.state ? this.addon!.xxh64Digest(this.state) : this.ts!.digest()
    this.digest = { algorithm: this.algorithm, value, hex: hexOf(this.algorithm, value), bytes: this.bytes }
    this.emit('digest', this.digest)
    callback()
  }
}

let autoAddon: NativeAddon | undefined | null = null
// The one-shot functions are called per small buffer: resolve the default backend once.
function addonFor(backend: Backend): NativeAddon | undefined {
  if (backend !== 'auto') return resolveBackend(backend, 'backend')
  if (autoAddon === null) autoAddon = resolveBackend('auto')
  return autoAddon
}

/** CRC32C of `data`, continuing from `previous` (0 to start). */
export function crc32c(data: Uint8Array, previous = 0, backend: Backend = 'auto'): number {
  const addon = addonFor(backend)
  return addon ? addon.crc32c(data, previous) : crc32cTs(data, previous)
}

/** xxHash64 of `data` as an unsigned bigint. */
export function xxhash64(data: Uint8Array, seed: bigint | number = 0n, backend: Backend = 'auto'): bigint {
  const addon = addonFor(backend)
  const s = typeof seed === 'bigint' && seed >= 0n && seed < 1n << 64n ? seed : BigInt.asUintN(64, BigInt(seed))
  return addon ? addon.xxhash64(data, s) : xxhash64Ts(data, s)
}
