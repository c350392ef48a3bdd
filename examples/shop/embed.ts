// A deterministic text embedding by feature hashing: no model, no download, the same vector for the
// same text on every machine. Each token, each pair of neighbouring tokens and each character
// trigram is hashed (FNV-1a) to one of `dimensions` buckets with a hashed sign, and the vector is
// L2-normalised, so cosine distance measures shared words and word pieces.
// Tokenised like KeywordIndex (lower case, accents folded, split on anything not a letter or digit),
// written out here so the task module loads nothing but itself in the pool's threads.
export function tokenize(text: string): string[] {
  return text.normalize('NFD').replace(/\p{M}+/gu, '').toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean)
}

export const EMBEDDING_DIMENSIONS = 256

function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

function add(v: Float32Array, feature: string, weight: number): void {
  const h = fnv1a(feature)
  const sign = fnv1a(feature, 0x9747b28c) & 1 ? 1 : -1
  v[h % v.length]! += sign * weight
}

export function embed(text: string, dimensions = EMBEDDING_DIMENSIONS): Float32Array {
  const v = new Float32Array(dimensions)
  const tokens = tokenize(text)
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    add(v, `w:${t}`, 1)
    if (i + 1 < tokens.length) add(v, `b:${t} ${tokens[i + 1]}`, 0.5)
    const padded = `^${t}$`
    for (let j = 0; j + 3 <= padded.length; j++) add(v, `c:${padded.slice(j, j + 3)}`, 0.25)
  }
  let norm = 0
  for (let i = 0; i < dimensions; i++) norm += v[i]! * v[i]!
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm)
    for (let i = 0; i < dimensions; i++) v[i]! *= inv
  }
  return v
}

/** The text a product is embedded from. */
export function productText(p: { title: string; brand: string; category: string; description: string; tags: string[] }): string {
  return [p.title, p.brand, p.category, p.tags.join(' '), p.description].join(' ')
}
