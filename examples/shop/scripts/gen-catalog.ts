// Writes catalog.ndjson, the sample catalog the shop seeds on first start: 200 products from a fixed
// seed, so the file (and every search result in docs/shop.md) is the same on every run.
// Run: node --import tsx examples/shop/scripts/gen-catalog.ts
import { writeFileSync } from 'node:fs'

const CATEGORIES: Record<string, { nouns: string[]; words: string[] }> = {
  shoes: { nouns: ['running shoe', 'trail shoe', 'sneaker', 'hiking boot', 'sandal'], words: ['cushioned sole', 'breathable mesh', 'grippy outsole', 'waterproof'] },
  kitchen: { nouns: ['chef knife', 'frying pan', 'coffee grinder', 'teapot', 'cutting board'], words: ['stainless steel', 'cast iron', 'dishwasher safe', 'ceramic'] },
  outdoor: { nouns: ['tent', 'sleeping bag', 'backpack', 'headlamp', 'water bottle'], words: ['lightweight', 'weatherproof', 'ultralight nylon', 'insulated'] },
  audio: { nouns: ['headphones', 'earbuds', 'speaker', 'turntable', 'microphone'], words: ['noise cancelling', 'bluetooth', 'studio quality', 'deep bass'] },
  home: { nouns: ['desk lamp', 'throw blanket', 'armchair', 'bookshelf', 'rug'], words: ['linen', 'oak wood', 'soft wool', 'minimalist'] },
}
const COLORS = ['red', 'blue', 'black', 'white', 'green', 'grey', 'orange', 'navy']
const BRANDS = ['Northwind', 'Acme', 'Bergström', 'Crème Co', 'Halcyon', 'Kestrel', 'Lumen', 'Orbit']

// mulberry32: a tiny seeded PRNG, enough for sample data.
let state = 0x5eed
function rand(): number {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!

const lines: string[] = []
const cats = Object.keys(CATEGORIES)
for (let i = 1; i <= 200; i++) {
  const category = cats[i % cats.length]!
  const { nouns, words } = CATEGORIES[category]!
  const noun = pick(nouns)
  const color = pick(COLORS)
  const brand = pick(BRANDS)
  const a = pick(words)
  let b = pick(words)
  if (b === a) b = words[(words.indexOf(a) + 1) % words.length]!
  const title = `${brand} ${color} ${noun}`
  lines.push(
    JSON.stringify({
      sku: `SKU-${String(i).padStart(4, '0')}`,
      title,
      brand,
      category,
      description: `A ${a}, ${b} ${noun} in ${color} by ${brand}.`,
      priceCents: 500 + Math.floor(rand() * 400) * 25,
      currency: 'USD',
      tags: [category, color, ...a.split(' ')],
    }),
  )
}
writeFileSync(new URL('../catalog.ndjson', import.meta.url), lines.join('\n') + '\n')
console.log(`wrote ${lines.length} products`)
