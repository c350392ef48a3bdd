// Product search on every worker: a BM25 KeywordIndex and an HNSW VectorIndex over feature-hashing
// embeddings (computed in the WorkerPool), both built from the database at start. Each search first
// compares the shared catalog version with the one the indexes were built from and rebuilds after
// an import by any worker (one rebuild at a time; searches meanwhile use the previous indexes).
import { KeywordIndex, VectorIndex, hybridSearch } from 'ecom/native'
import type { OrmManager } from 'ecom/orm'
import type { WorkerPool } from 'ecom/runtime'
import { catalogVersion } from './catalog.js'
import type { ProductRow } from './db/schema.js'
import { EMBEDDING_DIMENSIONS, productText } from './embed.js'
import { ShopBadRequestError, ShopNotFoundError } from './errors.js'

export type ProductSummary = Pick<ProductRow, 'id' | 'sku' | 'title' | 'brand' | 'category' | 'priceCents' | 'currency'>

interface Built {
  version: number
  keywords: KeywordIndex
  vectors: VectorIndex
  products: Map<number, ProductSummary>
}

const EMBED_BATCH = 256

export class ProductSearch {
  #built: Built | undefined
  #building: Promise<Built> | undefined

  constructor(
    readonly orm: OrmManager,
    readonly pool: WorkerPool,
  ) {}

  get version(): number | undefined {
    return this.#built?.version
  }

  /** Builds (or rebuilds) from the database; concurrent callers share one build. */
  rebuild(): Promise<Built> {
    this.#building ??= this.#build().finally(() => (this.#building = undefined))
    return this.#building
  }

  async #build(): Promise<Built> {
    // The version is read before the rows: an import committing in between makes the next search
    // rebuild again, never leaves new rows unindexed under a version that claims them.
    const version = await catalogVersion(this.orm)
    const rows = (await this.orm.repo('Product').findMany({ orderBy: { id: 'asc' }, limit: 100_000 })) as unknown as ProductRow[]
    const keywords = new KeywordIndex({ fields: ['title', 'brand', 'category', 'tags', 'description'], boosts: { title: 3, brand: 2, category: 1.5 } })
    keywords.addAll(rows)
    const vectors = new VectorIndex({ dimensions: EMBEDDING_DIMENSIONS, space: 'cosine', threads: 1 })
    for (let i = 0; i < rows.length; i += EMBED_BATCH) {
      const part = rows.slice(i, i + EMBED_BATCH)
      const flat = (await this.pool.run(part.map(productText))) as Float32Array
      await vectors.addBatch(Uint32Array.from(part, (r) => r.id), flat)
    }
    const products = new Map(rows.map((r) => [r.id, summary(r)]))
    const built = { version, keywords, vectors, products }
    if (!this.#built || this.#built.version <= version) this.#built = built
    return this.#built
  }

  /** The current indexes, rebuilt first when another worker (or this one) changed the catalog. */
  async fresh(): Promise<Built> {
    const current = this.#built
    if (!current) return this.rebuild()
    if ((await catalogVersion(this.orm)) !== current.version) return this.rebuild()
    return current
  }

  async search(q: string, opts: { k: number; mode: 'keyword' | 'hybrid' }): Promise<Array<ProductSummary & { score: number }>> {
    if (!q.trim()) throw new ShopBadRequestError('q: expected a search text, e.g. /search?q=red+shoe')
    const b = await this.fresh()
    const hits =
      opts.mode === 'hybrid'
        ? hybridSearch(b.vectors, b.keywords, { text: q, vector: ((await this.pool.run([q])) as Float32Array), k: opts.k, weights: { vector: 0.4, keyword: 0.6 } })
        : b.keywords.search(q, { k: opts.k })
    return hits.flatMap((h) => {
      const p = b.products.get(h.id)
      return p ? [{ ...p, score: round(h.score) }] : []
    })
  }

  /** Products nearest to one product's embedding (cosine), itself excluded. */
  async similar(id: number, k: number): Promise<Array<ProductSummary & { distance: number }>> {
    const b = await this.fresh()
    const v = b.products.has(id) ? b.vectors.getVector(id) : undefined
    if (!v) throw new ShopNotFoundError(`no product ${id}`)
    return b.vectors
      .search(v, k + 1)
      .filter((h) => h.id !== id)
      .slice(0, k)
      .map((h) => ({ ...b.products.get(h.id)!, distance: round(h.distance) }))
  }

  async product(id: number): Promise<ProductSummary | undefined> {
    return (await this.fresh()).products.get(id)
  }
}

function summary(r: ProductRow): ProductSummary {
  return { id: r.id, sku: r.sku, title: r.title, brand: r.brand, category: r.category, priceCents: r.priceCents, currency: r.currency }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4
