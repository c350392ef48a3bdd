import type { IncomingMessage, ServerResponse } from 'node:http'
import { openDatabase } from './db.js'
import { createRouter, type Route } from './http.js'
import { modules } from './modules/index.js'

/**
 * The entry `ecom start src/server.ts` serves: a factory that opens the database once per worker and
 * returns a plain Node request handler over every module's routes.
 */
export default async function createApp(): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
  const db = await openDatabase()
  const routes: Route[] = [
    { method: 'GET', path: '/', handler: () => ({ body: { app: '__appKebab__', modules: modules.map((m) => m.name) } }) },
    ...modules.flatMap((m) => m.routes(db)),
  ]
  return createRouter(routes)
}
