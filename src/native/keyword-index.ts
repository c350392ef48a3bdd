// BM25 keyword search over product fields, in TypeScript. It was measured against a native scoring loop
// design and kept in TypeScript: see docs/native.md ("Why BM25 is TypeScript").
// Scoring is BM25+ the way MiniSearch computes it, so results are comparable with it:
//   score(d) = coord(d) * sum over query terms t, fields f: boost_f * idf_f(t) * (delta + tf (k1+1) / (tf + k1 (1 - b + b len_f(d) / avglen_f)))
//   idf_f(t) = ln(1 + (N - df_f(t) + 0.5) / (df_f(t) + 0.5)), len_f(d) = distinct tokens of field f,
//   coord(d) = number of distinct query terms that matched d.
import { InvalidOptionError } from '../errors.js'
import { type Backend, type NativeBm25Scorer, resolveBackend } from './loader.js'
import { tokenize as defaultTokenize } from './tokenizer.js'

export interface KeywordIndexOptions {
  /** Document fields to index (string values; arrays are joined with spaces). */
  fields: string[]
  /** Per-field score multipliers. @default 1 for every field */
  boosts?: Record<string, number>
  /** BM25 term-frequency saturation. @default 1.2 */
  k1?: number
  /** BM25 length normalisation. @default 0.7 */
  b?: number
  /** BM25+ lower bound for a matching term (0 = classic BM25). @default 0.5 */
  delta?: number
  /** Text to terms. @default tokenize (case and accent folding) */
  tokenize?: (text: string) => string[]
  /** Where the scoring loop runs; tokenizing and the index itself are always TypeScript. @default "auto" */
  backend?: Backend
}

/** Any object with a numeric id; the indexed fields are read by name. */
export interface KeywordDocument {
  id: number
}

export interface KeywordHit {
  id: number
  score: number
}

export interface KeywordSearchOptions {
  /** @default 10 */
  k?: number
  /** Overrides the index boosts for this query. */
  boosts?: Record<string, number>
  /** Only these ids may be returned. */
  filter?: Iterable<number>
}

export const keywordIndexDefaults = { k1: 1.2, b: 0.7, delta: 0.5 } as const

function finiteAtLeast(v: unknown, path: string, lo: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo) throw new InvalidOptionError(`${path} must be a number >= ${lo}, got ${JSON.stringify(v)}`)
  return v
}

export class KeywordIndex {
  readonly fields: readonly string[]
  readonly k1: number
  readonly b: number
  readonly delta: number
  private readonly boosts: Float64Array
  private readonly tokenizeFn: (text: string) => string[]
  private readonly termIds = new Map<string, number>()
  /** postings[field][term] = flat [doc, tf, doc, tf, ...] */
  private readonly postings: number[][][]
  private readonly lengths: number[][]
  private readonly totals: number[]
  private readonly ids: number[] = []
  private readonly idSet = new Set<number>()
  private norms: Float64Array[] | undefined
  private acc = new Float64Array(0)
  private bits = new Uint32Array(0)
  private readonly addon: ReturnType<typeof resolveBackend>
  private scorer: NativeBm25Scorer | undefined
  /** 'native' when the scoring loop runs in the addon. */
  readonly backend: 'native' | 'typescript'

  constructor(options: KeywordIndexOptions) {
    if (!options || !Array.isArray(options.fields) || options.fields.length === 0 || !options.fields.every((f) => typeof f === 'string')) {
      throw new InvalidOptionError('options.fields must be a non-empty array of field names')
    }
    this.fields = [...options.fields]
    this.k1 = finiteAtLeast(options.k1 ?? keywordIndexDefaults.k1, 'options.k1', 0)
    this.b = finiteAtLeast(options.b ?? keywordIndexDefaults.b, 'options.b', 0)
    if (this.b > 1) throw new InvalidOptionError(`options.b must be between 0 and 1, got ${this.b}`)
    this.delta = finiteAtLeast(options.delta ?? keywordIndexDefaults.delta, 'options.delta', 0)
    this.boosts = this.boostArray(options.boosts, 'options.boosts')
    if (options.tokenize !== undefined && typeof options.tokenize !== 'function') throw new InvalidOptionError('options.tokenize must be a function')
    this.tokenizeFn = options.tokenize ?? defaultTokenize
    this.addon = resolveBackend(options.backend)
    this.backend = this.addon ? 'native' : 'typescript'
    this.postings = this.fields.map(() => [])
    this.lengths = this.fields.map(() => [])
    this.totals = this.fields.map(() => 0)
  }

  private boostArray(boosts: Record<string, number> | undefined, path: string): Float64Array {
    const out = new Float64Array(this.fields.length).fill(1)
    if (boosts === undefined) return out
    for (const [field, v] of Object.entries(boosts)) {
      const i = this.fields.indexOf(field)
      if (i < 0) throw new InvalidOptionError(`${path}.${field} names a field that is not indexed (fields: ${this.fields.join(', ')})`)
      out[i] = finiteAtLeast(v, `${path}.${field}`, 0)
    }
    return out
  }

  get size(): number {
    return this.ids.length
  }

  add<T extends KeywordDocument>(doc: T): void {
    const id = doc?.id
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw new InvalidOptionError(`document.id must be a non-negative integer, got ${JSON.stringify(id)}`)
    if (this.idSet.has(id)) throw new InvalidOptionError(`document id ${id} is already in the keyword index`)
    const d = this.ids.length
    this.ids.push(id)
    this.idSet.add(id)
    for (let f = 0; f < this.fields.length; f++) {
      const raw = (doc as unknown as Record<string, unknown>)[this.fields[f]!]
      const text = raw == null ? '' : Array.isArray(raw) ? raw.join(' ') : String(raw)
      const tokens = text === '' ? [] : this.tokenizeFn(text)
      const tf = new Map<string, number>()
      for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1)
      this.lengths[f]!.push(tf.size)
      this.totals[f]! += tf.size
      const fp = this.postings[f]!
      for (const [term, count] of tf) {
        let tid = this.termIds.get(term)
        if (tid === undefined) {
          tid = this.termIds.size
          this.termIds.set(term, tid)
        }
        ;(fp[tid] ??= []).push(d, count)
      }
    }
    this.norms = undefined
    this.scorer = undefined
  }

  addAll<T extends KeywordDocument>(docs: Iterable<T>): void {
    for (const doc of docs) this.add(doc)
  }

  // k1 * (1 - b + b * len / avglen) per field and document; rebuilt after adds.
  private normsFor(): Float64Array[] {
    if (this.norms) return this.norms
    const n = this.ids.length
    this.norms = this.fields.map((_, f) => {
      const avg = n === 0 ? 0 : this.totals[f]! / n
      const lens = this.lengths[f]!
      const out = new Float64Array(n)
      for (let d = 0; d < n; d++) out[d] = this.k1 * (1 - this.b + (avg > 0 ? (this.b * lens[d]!) / avg : 0))
      return out
    })
    if (this.acc.length < n) {
      this.acc = new Float64Array(n)
      this.bits = new Uint32Array(n)
    }
    return this.norms
  }

  // The postings in CSR form, handed to the addon once after adds.
  private nativeScorer(norms: Float64Array[]): NativeBm25Scorer {
    if (this.scorer) return this.scorer
    const terms = this.termIds.size
    const offsets: Uint32Array[] = []
    const data: Uint32Array[] = []
    for (let f = 0; f < this.fields.length; f++) {
      const fp = this.postings[f]!
      const off = new Uint32Array(terms + 1)
      for (let t = 0; t < terms; t++) off[t + 1] = off[t]! + ((fp[t]?.length ?? 0) >> 1)
      const flat = new Uint32Array(2 * off[terms]!)
      for (let t = 0; t < terms; t++) {
        const list = fp[t]
        if (list) flat.set(list, 2 * off[t]!)
      }
      offsets.push(off)
      data.push(flat)
    }
    this.scorer = new this.addon!.NativeBm25Scorer(this.ids.length, offsets, data, norms)
    return this.scorer
  }

  search(query: string, options: KeywordSearchOptions = {}): KeywordHit[] {
    if (typeof query !== 'string') throw new InvalidOptionError('query must be a string')
    const k = options.k ?? 10
    if (!Number.isInteger(k) || k < 0) throw new InvalidOptionError(`options.k must be a non-negative integer, got ${JSON.stringify(k)}`)
    const boosts = options.boosts ? this.boostArray(options.boosts, 'options.boosts') : this.boosts
    const norms = this.normsFor()
    if (this.addon) return this.searchNative(query, k, boosts, norms, options.filter)
    const acc = this.acc
    const bits = this.bits
    const touched: number[] = []
    const k1p1 = this.k1 + 1
    const delta = this.delta
    for (const { field, weight, bit, list } of this.planQuery(query, boosts)) {
      const norm = norms[field]!
      for (let j = 0; j < list.length; j += 2) {
        const d = list[j]!
        const tf = list[j + 1]!
        if (acc[d] === 0) touched.push(d)
        acc[d] += weight * (delta + (tf * k1p1) / (tf + norm[d]!))
        bits[d] |= bit
      }
    }
    const allowed = options.filter === undefined ? undefined : new Set(options.filter)
    // Top-k by a min-heap of size k over the touched documents.
    const hd: number[] = []
    const hs: number[] = []
    const sift = (i: number): void => {
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < hs.length && (hs[l]! < hs[m]! || (hs[l] === hs[m] && hd[l]! > hd[m]!))) m = l
        if (r < hs.length && (hs[r]! < hs[m]! || (hs[r] === hs[m] && hd[r]! > hd[m]!))) m = r
        if (m === i) return
        ;[hs[i], hs[m]] = [hs[m]!, hs[i]!]
        ;[hd[i], hd[m]] = [hd[m]!, hd[i]!]
        i = m
      }
    }
    for (const d of touched) {
      let b = bits[d]!
      let coord = 0
      while (b) {
        b &= b - 1
        coord++
      }
      const score = acc[d]! * Math.max(coord, 1)
      acc[d] = 0
      bits[d] = 0
      if (k === 0 || (allowed && !allowed.has(this.ids[d]!))) continue
      if (hs.length < k) {
        hs.push(score)
        hd.push(d)
        for (let i = hs.length - 1; i > 0; ) {
          const p = (i - 1) >> 1
          if (hs[p]! < hs[i]! || (hs[p] === hs[i] && hd[p]! > hd[i]!)) break
          ;[hs[i], hs[p]] = [hs[p]!, hs[i]!]
          ;[hd[i], hd[p]] = [hd[p]!, hd[i]!]
          i = p
        }
      } else if (score > hs[0]! || (score === hs[0] && d < hd[0]!)) {
        hs[0] = score
        hd[0] = d
        sift(0)
      }
    }
    const order = hs.map((_, i) => i).sort((a, b) => hs[b]! - hs[a]! || hd[a]! - hd[b]!)
    return order.map((i) => ({ id: this.ids[hd[i]!]!, score: hs[i]! }))
  }

  /**
   * The postings a query walks, one per (distinct-or-repeated term, field) with a non-zero boost: the
   * term's idf times the field boost as weight, and the bit that counts the term for the coordination
   * factor (the first 32 distinct terms get one). Both scorers (TypeScript and native) walk this plan.
   */
  private planQuery(query: string, boosts: Float64Array): { tid: number; field: number; weight: number; bit: number; list: number[] }[] {
    const n = this.ids.length
    const plan: { tid: number; field: number; weight: number; bit: number; list: number[] }[] = []
    const distinct = new Map<string, number>()
    for (const term of this.tokenizeFn(query)) {
      const tid = this.termIds.get(term)
      if (tid === undefined) continue
      let bit = distinct.get(term)
      if (bit === undefined) {
        bit = distinct.size < 32 ? 1 << distinct.size : 0
        distinct.set(term, bit)
      }
      for (let field = 0; field < this.fields.length; field++) {
        const boost = boosts[field]!
        const list = this.postings[field]![tid]
        if (list === undefined || boost === 0) continue
        const df = list.length >> 1
        plan.push({ tid, field, weight: Math.log(1 + (n - df + 0.5) / (df + 0.5)) * boost, bit, list })
      }
    }
    return plan
  }

  private searchNative(query: string, k: number, boosts: Float64Array, norms: Float64Array[], filter: Iterable<number> | undefined): KeywordHit[] {
    const scorer = this.nativeScorer(norms)
    const n = this.ids.length
    const qt: number[] = []
    const qf: number[] = []
    const qw: number[] = []
    const qb: number[] = []
    for (const t of this.planQuery(query, boosts)) {
      qt.push(t.tid)
      qf.push(t.field)
      qw.push(t.weight)
      qb.push(t.bit)
    }
    let allowed: Uint8Array | null = null
    if (filter !== undefined) {
      allowed = new Uint8Array(n)
      const wanted = new Set(filter)
      for (let d = 0; d < n; d++) if (wanted.has(this.ids[d]!)) allowed[d] = 1
    }
    const [docs, scores] = scorer.score(Uint32Array.from(qt), Uint32Array.from(qf), Float64Array.from(qw), Uint32Array.from(qb), this.k1 + 1, this.delta, k, allowed)
    const out: KeywordHit[] = new Array(docs.length)
    for (let i = 0; i < docs.length; i++) out[i] = { id: this.ids[docs[i]!]!, score: scores[i]! }
    return out
  }
}
