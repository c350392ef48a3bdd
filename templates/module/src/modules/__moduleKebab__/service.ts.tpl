import { HttpError } from '../../http.js'
import type { __modulePascal__Row } from './model.js'
import type { __modulePascal__Repository } from './repository.js'
import {
  __moduleCamel__Id,
  create__modulePascal__Input,
  list__modulePascal__Query,
  update__modulePascal__Input,
} from './validation.js'

/** Business rules for __moduleTitle__: validates input, then calls the repository. */
export class __modulePascal__Service {
  constructor(private readonly repo: __modulePascal__Repository) {}

  create(input: unknown): Promise<__modulePascal__Row> {
    return this.repo.create(create__modulePascal__Input.parse(input))
  }

  async get(id: string): Promise<__modulePascal__Row> {
    const row = await this.repo.findById(__moduleCamel__Id.parse(id))
    if (!row) throw new HttpError(404, `__moduleKebab__ ${id} not found`)
    return row
  }

  list(query: Record<string, string>) {
    return this.repo.list(list__modulePascal__Query.parse(query))
  }

  async update(id: string, patch: unknown): Promise<__modulePascal__Row> {
    const row = await this.repo.update(__moduleCamel__Id.parse(id), update__modulePascal__Input.parse(patch ?? {}))
    if (!row) throw new HttpError(404, `__moduleKebab__ ${id} not found`)
    return row
  }

  async remove(id: string): Promise<void> {
    if (!(await this.repo.delete(__moduleCamel__Id.parse(id)))) throw new HttpError(404, `__moduleKebab__ ${id} not found`)
  }
}
