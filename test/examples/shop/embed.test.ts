// The shop's feature-hashing embedding: deterministic, normalised, and close for related texts.
import { describe, expect, it } from 'vitest'
import embedBatch from '../../../examples/shop/embed-task.js'
import { EMBEDDING_DIMENSIONS, embed, tokenize } from '../../../examples/shop/embed.js'
import { tokenize as keywordTokenize } from '../../../src/native/tokenizer.js'

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0)

describe('examples/shop embed', () => {
  it('gives the same vector for the same text, every time', () => {
    const a = embed('Halcyon red running shoe, breathable mesh')
    const b = embed('Halcyon red running shoe, breathable mesh')
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true)
    expect(a.length).toBe(EMBEDDING_DIMENSIONS)
  })

  it('is unit length, and zero for text without tokens', () => {
    expect(Math.sqrt(cosine(embed('cast iron frying pan'), embed('cast iron frying pan')))).toBeCloseTo(1, 5)
    expect(Array.from(embed('  ... ')).every((x) => x === 0)).toBe(true)
  })

  it('puts related products closer than unrelated ones', () => {
    const shoe = embed('red running shoe with cushioned sole')
    expect(cosine(shoe, embed('blue running shoe, grippy outsole'))).toBeGreaterThan(cosine(shoe, embed('stainless steel chef knife')))
  })

  it('folds case and accents like the keyword index', () => {
    for (const t of ['Crème Brûlée', 'Bergström WHITE turntable', 'a-b_c 42']) expect(tokenize(t)).toEqual(keywordTokenize(t))
    expect(Array.from(embed('CRÈME'))).toEqual(Array.from(embed('creme')))
  })

  it('the pool task returns the same vectors, flattened', () => {
    const texts = ['tent', 'sleeping bag', 'headlamp']
    const flat = embedBatch(texts)
    texts.forEach((t, i) => expect(Array.from(flat.subarray(i * EMBEDDING_DIMENSIONS, (i + 1) * EMBEDDING_DIMENSIONS))).toEqual(Array.from(embed(t))))
  })
})
