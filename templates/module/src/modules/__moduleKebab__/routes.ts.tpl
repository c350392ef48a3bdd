import type { Route } from '../../http.js'
import type { __modulePascal__Service } from './service.js'

/** HTTP routes for __moduleTitle__, served by `ecom start` under /__moduleKebab__. */
export function __moduleCamel__Routes(service: __modulePascal__Service): Route[] {
  return [
    { method: 'GET', path: '/__moduleKebab__', handler: async ({ query }) => ({ body: await service.list(Object.fromEntries(query)) }) },
    { method: 'POST', path: '/__moduleKebab__', handler: async ({ body }) => ({ status: 201, body: await service.create(body) }) },
    { method: 'GET', path: '/__moduleKebab__/:id', handler: async ({ params }) => ({ body: await service.get(params.id!) }) },
    { method: 'PATCH', path: '/__moduleKebab__/:id', handler: async ({ params, body }) => ({ body: await service.update(params.id!, body) }) },
    { method: 'DELETE', path: '/__moduleKebab__/:id', handler: async ({ params }) => (await service.remove(params.id!), { status: 204 }) },
  ]
}
