import MiniSearch from 'minisearch'
import { describe, expect, it } from 'vitest'
import { KeywordIndex, VectorIndex, foldText, hybridSearch, nativeStatus, tokenize } from '../../src/public/native.js'
import { InvalidOptionError } from '../../src/errors.js'
import { QUERIES, type Product, products } from './fixtures/products.js'

const backends = nativeStatus().native ? (['native', 'typescript'] as const) : (['typescript'] as const)
if (!nativeStatus().native) console.warn(`native BM25 scorer tests skipped: ${nativeStatus().reason}`)
const FIELDS = ['title', 'brand', 'description', 'tags']
const BOOST = { title: 3, brand: 2, description: 1, tags: 1.5 }

describe('tokenizer', () => {
  it('folds case and accents and splits on non-word characters', () => {
    expect(foldText('Crème BRÛLÉE')).toBe('creme brulee')
    expect(tokenize('Crème-Brûlée, Jalapeño & Smörgåsbord! 2x Über')).toEqual(['creme', 'brulee', 'jalapeno', 'smorgasbord', '2x', 'uber'])
    expect(tokenize('   ')).toEqual([])
  })
})

describe.each(backends)('KeywordIndex (BM25, %s scoring)', (backend) => {
  const docs = products(5000)

  it('returns the same top-10 as MiniSearch for the same k1, b and tokenizer on a fixed corpus', () => {
    for (const params of [{ k1: 1.2, b: 0.7, delta: 0.5 }, { k1: 1.5, b: 0.75, delta: 0 }]) {
      const ms = new MiniSearch<Product>({
        fields: FIELDS,
        tokenize,
        processTerm: (t) => t,
        extractField: (d, f) => {
          const v = (d as unknown as Record<string, unknown>)[f]
          return Array.isArray(v) ? v.join(' ') : (v as string)
        },
        searchOptions: { boost: BOOST, bm25: { k: params.k1, b: params.b, d: params.delta } },
      })
      ms.addAll(docs)
      const ki = new KeywordIndex({ fields: FIELDS, boosts: BOOST, ...params, backend })
      expect(ki.backend).toBe(backend)
      ki.addAll(docs)
      for (const q of QUERIES) {
        const want = ms.search(q).slice(0, 10)
        const got = ki.search(q, { k: 10 })
        expect(got.map((h) => h.id), q).toEqual(want.map((h) => h.id))
        got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 6))
      }
    }
  })

  it('applies per-field boosts, filters, and validates options', () => {
    const ki = new KeywordIndex({ fields: ['title', 'body'], backend })
    ki.add({ id: 1, title: 'red shoe', body: 'comfortable' })
    ki.add({ id: 2, title: 'comfortable chair', body: 'red fabric' })
    ki.add({ id: 3, title: 'blue lamp', body: 'bright' })
    expect(ki.search('red', { boosts: { title: 5, body: 1 } })[0]!.id).toBe(1)
    expect(ki.search('red', { boosts: { title: 1, body: 5 } })[0]!.id).toBe(2)
    expect(ki.search('red', { filter: [2] }).map((h) => h.id)).toEqual([2])
    expect(ki.search('nothing here')).toEqual([])
    expect(() => new KeywordIndex({ fields: [] })).toThrow(InvalidOptionError)
    expect(() => new KeywordIndex({ fields: ['a'], boosts: { b: 2 } })).toThrow(/options.boosts.b/)
    expect(() => ki.add({ id: 1, title: 'dup' })).toThrow(InvalidOptionError)
  })
})

describe.skipIf(!nativeStatus().native)('KeywordIndex: native and TypeScript scoring agree', () => {
  it('returns identical hits and scores, also after more documents are added', () => {
    const docs = products(3000, 5)
    const a = new KeywordIndex({ fields: FIELDS, boosts: BOOST, backend: 'native' })
    const b = new KeywordIndex({ fields: FIELDS, boosts: BOOST, backend: 'typescript' })
    a.addAll(docs.slice(0, 2000))
    b.addAll(docs.slice(0, 2000))
    for (const q of QUERIES) expect(a.search(q, { k: 20 }), q).toEqual(b.search(q, { k: 20 }))
    a.addAll(docs.slice(2000))
    b.addAll(docs.slice(2000))
    for (const q of QUERIES) {
      expect(a.search(q, { k: 20 }), q).toEqual(b.search(q, { k: 20 }))
      expect(a.search(q, { k: 5, filter: [1, 2, 3, 100, 2500] }), q).toEqual(b.search(q, { k: 5, filter: [1, 2, 3, 100, 2500] }))
    }
  })
})

describe('hybridSearch', () => {
  it('mixes normalised vector and keyword scores by weight', async () => {
    const docs = [
      { id: 1, title: 'red running shoe', v: [1, 0, 0] },
      { id: 2, title: 'blue running shoe', v: [0.9, 0.1, 0] },
      { id: 3, title: 'red wool scarf', v: [0, 1, 0] },
      { id: 4, title: 'green lamp', v: [0, 0, 1] },
    ]
    const vectors = new VectorIndex({ dimensions: 3, space: 'cosine' })
    const keywords = new KeywordIndex({ fields: ['title'] })
    for (const d of docs) {
      vectors.add(d.id, d.v)
      keywords.add(d)
    }
    const onlyVector = hybridSearch(vectors, keywords, { vector: [0, 1, 0], text: 'red', weights: { vector: 1, keyword: 0 }, k: 2 })
    expect(onlyVector[0]!.id).toBe(3)
    const onlyText = hybridSearch(vectors, keywords, { vector: [0, 0, 1], text: 'running', weights: { vector: 0, keyword: 1 }, k: 2 })
    expect(onlyText.map((h) => h.id).sort()).toEqual([1, 2])
    // "red" matches 1 and 3; the vector prefers 1: the mix puts 1 first.
    const mixed = hybridSearch(vectors, keywords, { vector: [1, 0, 0], text: 'red', k: 3 })
    expect(mixed[0]!.id).toBe(1)
    expect(mixed[0]!.vectorScore).toBe(1)
    expect(mixed[0]!.keywordScore).toBeGreaterThan(0)
    expect(mixed[0]!.score).toBeCloseTo(0.5 * mixed[0]!.vectorScore + 0.5 * mixed[0]!.keywordScore)
    expect(hybridSearch(vectors, keywords, { vector: [1, 0, 0], text: 'red', filter: [3] }).map((h) => h.id)).toEqual([3])
  })
})
