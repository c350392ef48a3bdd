// Hybrid product search: a vector query and a keyword query over the same ids, each normalised to
// [0, 1] within its candidate list, then mixed by weight.
import { InvalidOptionError } from '../errors.js'
import type { KeywordIndex } from './keyword-index.js'
import type { VectorIndex } from './vector-index.js'

export interface HybridQuery {
  /** Keyword part (BM25). */
  text?: string
  /** Vector part (embedding of the query). */
  vector?: ArrayLike<number>
  /** @default 10 */
  k?: number
  /** Mix of the two normalised scores. @default { vector: 0.5, keyword: 0.5 } */
  weights?: { vector?: number; keyword?: number }
  /** Candidates taken from each side before mixing. @default 5 * k */
  candidates?: number
  /** Only these ids may be returned. */
  filter?: Iterable<number>
  /** efSearch for the vector side. */
  ef?: number
}

export interface HybridHit {
  id: number
  score: number
  /** Normalised vector similarity in [0, 1] (0 when the id was not a vector candidate). */
  vectorScore: number
  /** Normalised BM25 in [0, 1] (0 when the id was not a keyword candidate). */
  keywordScore: number
}

function weight(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidOptionError(`${path} must be a number >= 0, got ${JSON.stringify(v)}`)
  return v
}

/** Weighted hybrid of vector similarity and BM25 over ids shared by both indexes. */
export function hybridSearch(vectors: VectorIndex | undefined, keywords: KeywordIndex | undefined, query: HybridQuery): HybridHit[] {
  const k = query.k ?? 10
  if (!Number.isInteger(k) || k < 0) throw new InvalidOptionError(`query.k must be a non-negative integer, got ${JSON.stringify(k)}`)
  const wv = weight(query.weights?.vector ?? 0.5, 'query.weights.vector')
  const wk = weight(query.weights?.keyword ?? 0.5, 'query.weights.keyword')
  const candidates = query.candidates ?? Math.max(5 * k, 10)
  const filter = query.filter === undefined ? undefined : Array.from(query.filter)
  const merged = new Map<number, HybridHit>()
  const entry = (id: number): HybridHit => {
    let h = merged.get(id)
    if (!h) merged.set(id, (h = { id, score: 0, vectorScore: 0, keywordScore: 0 }))
    return h
  }
  if (query.vector !== undefined && wv > 0) {
    if (!vectors) throw new InvalidOptionError('query.vector needs a VectorIndex')
    const hits = vectors.search(query.vector, candidates, { ...(query.ef ? { ef: query.ef } : {}), ...(filter ? { filter } : {}) })
    if (hits.length > 0) {
      const dmin = hits[0]!.distance
      const dmax = hits[hits.length - 1]!.distance
      const span = dmax - dmin
      for (const h of hits) entry(h.id).vectorScore = span > 0 ? (dmax - h.distance) / span : 1
    }
  }
  if (query.text !== undefined && wk > 0) {
    if (!keywords) throw new InvalidOptionError('query.text needs a KeywordIndex')
    const hits = keywords.search(query.text, { k: candidates, ...(filter ? { filter } : {}) })
    const max = hits[0]?.score ?? 0
    for (const h of hits) entry(h.id).keywordScore = max > 0 ? h.score / max : 0
  }
  for (const h of merged.values()) h.score = wv * h.vectorScore + wk * h.keywordScore
  return [...merged.values()].sort((a, b) => b.score - a.score || a.id - b.id).slice(0, k)
}
