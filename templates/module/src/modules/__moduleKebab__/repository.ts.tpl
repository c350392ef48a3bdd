import type { OrmManager, Row } from 'ecom/orm'
import { MODEL, type __modulePascal__Row } from './model.js'
import type { Create__modulePascal__Input, List__modulePascal__Query, Update__modulePascal__Input } from './validation.js'

/** Data access for __moduleTitle__, through the ORM manager (whichever adapter is active). */
export class __modulePascal__Repository {
  constructor(private readonly db: OrmManager) {}

  get #repo() {
    return this.db.repo(MODEL)
  }

  async create(input: Create__modulePascal__Input): Promise<__modulePascal__Row> {
    return (await this.#repo.create(input as Row)) as unknown as __modulePascal__Row
  }

  async findById(id: string): Promise<__modulePascal__Row | null> {
    return (await this.#repo.findById(id)) as unknown as __modulePascal__Row | null
  }

  async list(query: List__modulePascal__Query): Promise<{ items: __modulePascal__Row[]; total: number }> {
    const where = query.q ? { name: { contains: query.q, mode: 'insensitive' } } : {}
    const [items, total] = await Promise.all([
      this.#repo.findMany({ where, orderBy: { createdAt: 'desc' }, limit: query.limit, offset: query.offset }),
      this.#repo.count(where),
    ])
    return { items: items as unknown as __modulePascal__Row[], total }
  }

  async update(id: string, patch: Update__modulePascal__Input): Promise<__modulePascal__Row | null> {
    return (await this.#repo.update(id, patch as Row)) as unknown as __modulePascal__Row | null
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#repo.deleteMany({ id })) > 0
  }
}
