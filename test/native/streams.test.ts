import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, expect, it } from 'vitest'
import { LineSplitter, LineTooLongError, NdjsonParseError, nativeStatus } from '../../src/public/native.js'
import { rng } from './fixtures/clustered.js'

const backends = nativeStatus().native ? (['native', 'typescript'] as const) : (['typescript'] as const)
if (!nativeStatus().native) console.warn(`native splitter tests skipped: ${nativeStatus().reason}`)

/** The reference split: decode everything, split on \r?\n, drop the empty piece after a final newline. */
function reference(bytes: Buffer, skipEmpty: boolean): string[] {
  const parts = bytes.toString('utf8').split(/\r?\n/)
  if (parts[parts.length - 1] === '') parts.pop()
  return skipEmpty ? parts.filter((p) => p !== '') : parts
}

function chunked(bytes: Buffer, rand: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = []
  for (let at = 0; at < bytes.length; ) {
    const len = 1 + Math.floor(rand() * maxChunk)
    out.push(bytes.subarray(at, at + len))
    at += len
  }
  return out
}

async function collect(chunks: Buffer[], splitter: LineSplitter): Promise<unknown[]> {
  const got: unknown[] = []
  await pipeline(
    Readable.from(chunks, { objectMode: false }),
    splitter,
    new Writable({
      objectMode: true,
      write(batch: unknown, _enc, cb) {
        if (Array.isArray(batch)) got.push(...batch)
        else got.push(batch)
        cb()
      },
    }),
  )
  return got
}

const PIECES = ['a', 'b', 'xyz', ' ', '{', '}', '"', 'é', 'ü', '€', '😀', '中文', 'ß', '\t', '0', '\r'].map((p) => Buffer.from(p))
// Invalid UTF-8 (stray continuation, truncated sequence, surrogate, overlong): decoded with U+FFFD like Buffer#toString.
const BAD = [[0xff], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]].map((b) => Buffer.from(b))

function randomText(rand: () => number, invalid: boolean): Buffer {
  const parts: Buffer[] = []
  const n = Math.floor(rand() * 60)
  for (let i = 0; i < n; i++) {
    const len = rand() < 0.2 ? 0 : Math.floor(rand() * 40)
    for (let j = 0; j < len; j++) parts.push(invalid && rand() < 0.05 ? BAD[Math.floor(rand() * BAD.length)]! : PIECES[Math.floor(rand() * PIECES.length)]!)
    parts.push(Buffer.from(rand() < 0.3 ? '\r\n' : '\n'))
  }
  if (rand() < 0.5) parts.push(Buffer.from('tail-without-newline-ü'))
  return Buffer.concat(parts)
}

describe.each(backends)('LineSplitter (%s)', (backend) => {
  it('equals the reference split for random texts and random chunkings (CRLF, empty lines, UTF-8 across chunks, invalid UTF-8)', async () => {
    const rand = rng(42)
    for (let round = 0; round < 150; round++) {
      const bytes = randomText(rand, round % 3 === 2)
      const skipEmpty = rand() < 0.5
      const batch = rand() < 0.7
      const got = await collect(chunked(bytes, rand, 1 + Math.floor(rand() * 64)), new LineSplitter({ backend, skipEmpty, batch }))
      expect(got).toEqual(reference(bytes, skipEmpty))
    }
  })

  it('splits a large feed in few batches (one per chunk) and parses NDJSON', async () => {
    const records = Array.from({ length: 5000 }, (_, i) => ({ id: i, name: `product ${i} ü`, price: i * 1.5, tags: ['a', 'b'] }))
    const text = Buffer.from(`${records.map((r) => JSON.stringify(r)).join('\n')}\n\n`)
    const splitter = new LineSplitter({ backend, parse: true })
    let batches = 0
    const got: unknown[] = []
    const chunks = chunked(text, rng(3), 65536)
    await pipeline(Readable.from(chunks), splitter, async function* (src) {
      for await (const b of src) {
        batches++
        got.push(...(b as unknown[]))
      }
    })
    expect(got).toEqual(records)
    // Lines are handed over per chunk, never one push per line.
    expect(batches).toBeLessThanOrEqual(chunks.length + 1)
    expect(splitter.backend).toBe(backend)
  })

  it('destroys the stream with LineTooLongError instead of buffering a long line', async () => {
    const long = Buffer.from(`ok\n${'x'.repeat(5000)}`)
    const splitter = new LineSplitter({ backend, maxLineLength: 1000 })
    const err = await collect(chunked(long, rng(1), 300), splitter).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LineTooLongError)
    expect((err as LineTooLongError).code).toBe('ECOM_ERR_NATIVE_LINE_TOO_LONG')
    expect(splitter.destroyed).toBe(true)
    // A long terminated line inside one chunk is caught too.
    const err2 = await collect([Buffer.from(`${'y'.repeat(2000)}\nshort\n`)], new LineSplitter({ backend, maxLineLength: 1000 })).catch((e: unknown) => e)
    expect(err2).toBeInstanceOf(LineTooLongError)
    // Exactly maxLineLength is fine (the limit excludes the line break).
    const ok = await collect([Buffer.from(`${'z'.repeat(1000)}\r\n`)], new LineSplitter({ backend, maxLineLength: 1000 }))
    expect(ok).toEqual(['z'.repeat(1000)])
    // ... also when the "\r\n" is cut by a chunk boundary, and for a long line spread over many chunks.
    const cut = Buffer.from(`${'z'.repeat(1000)}\r\nnext`)
    expect(await collect([cut.subarray(0, 1001), cut.subarray(1001)], new LineSplitter({ backend, maxLineLength: 1000 }))).toEqual(['z'.repeat(1000), 'next'])
    const spread = Buffer.from(`a\n${'w'.repeat(900)}\nb`)
    expect(await collect(chunked(spread, rng(2), 10), new LineSplitter({ backend, maxLineLength: 1000 }))).toEqual(['a', 'w'.repeat(900), 'b'])
    const tooLongAtEnd = await collect(chunked(Buffer.from(`a\n${'v'.repeat(1001)}`), rng(2), 10), new LineSplitter({ backend, maxLineLength: 1000 })).catch((e: unknown) => e)
    expect(tooLongAtEnd).toBeInstanceOf(LineTooLongError)
  })

  it('parses random NDJSON exactly like JSON.parse per line, and never accepts lines that only parse joined', async () => {
    const rand = rng(77)
    const atoms = ['1', '-2.5e3', 'true', 'null', '"a,b"', '"[{"', '"\\\\"', '"q\\"x"', '"é😀"', '{}', '[]']
    const value = (depth: number): string => {
      const r = rand()
      if (depth > 2 || r < 0.4) return atoms[Math.floor(rand() * atoms.length)]!
      if (r < 0.7) return `[${Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1)).join(',')}]`
      return `{${Array.from({ length: Math.floor(rand() * 4) }, (_, i) => `"k${i},]":${value(depth + 1)}`).join(',')}}`
    }
    for (let round = 0; round < 60; round++) {
      const lines = Array.from({ length: Math.floor(rand() * 40) }, () => (rand() < 0.1 ? '' : value(0)))
      const bytes = Buffer.from(lines.map((l) => l + (rand() < 0.3 ? '\r\n' : '\n')).join(''))
      const got = await collect(chunked(bytes, rand, 1 + Math.floor(rand() * 200)), new LineSplitter({ backend, parse: true }))
      expect(got).toEqual(lines.filter((l) => l !== '').map((l) => JSON.parse(l)))
    }
    // Each of these texts is invalid NDJSON although "[" + lines.join(",") + "]" would parse.
    for (const text of ['1,2\n3\n', '[1\n2]\n', '{"a":1\n}\n', '"x\n"\n', ' \n1\n']) {
      const err = await collect([Buffer.from(text)], new LineSplitter({ backend, parse: true })).catch((e: unknown) => e)
      expect(err, text).toBeInstanceOf(NdjsonParseError)
    }
  })

  it('handles a multi-megabyte line gathered over many chunks', async () => {
    const big = 'q'.repeat(3 * 1024 * 1024)
    const bytes = Buffer.from(`first\n${big}\r\nlast\n`)
    const got = await collect(chunked(bytes, rng(8), 65536), new LineSplitter({ backend, maxLineLength: 4 * 1024 * 1024 }))
    expect(got).toEqual(['first', big, 'last'])
  })

  it('reports the record number of a line that is not JSON', async () => {
    const err = await collect([Buffer.from('{"a":1}\n{"b":2}\n{oops\n{"c":3}\n')], new LineSplitter({ backend, parse: true })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NdjsonParseError)
    expect((err as NdjsonParseError).details).toEqual({ record: 3 })
  })
})
