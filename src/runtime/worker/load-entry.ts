import type { RequestListener } from 'node:http'
import { extname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { EntryLoadError, EntryShapeError } from '../../errors.js'

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx'])
let tsxRegistered = false

/** TypeScript entries run without a build step: tsx's ESM loader is registered on first need. */
async function ensureTypeScript(): Promise<void> {
  if (tsxRegistered) return
  // Both hooks: a .ts file outside a `"type": "module"` package is CommonJS to Node, and tsx's ESM hook
  // alone then hands it to require(), which cannot load the ESM syntax TypeScript apps are written in.
  const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')])
  esm.register()
  cjs.register()
  tsxRegistered = true
}

type Anything = Record<string | symbol, unknown> & ((...args: unknown[]) => unknown)

function isFn(v: unknown): v is Anything {
  return typeof v === 'function'
}

function has(v: unknown, key: string): boolean {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && isFn((v as Anything)[key])
}

/**
 * Turn whatever the entry exported into a Node request listener:
 * - a fastify instance (has `routing` and `ready`): awaited ready, then its router;
 * - a koa app (has `callback`): `app.callback()`;
 * - an express/connect app or any `(req, res)` function: used as is;
 * - a function declared without parameters: a factory, called (and awaited), its result adapted again;
 * - a `http.Server` (has `listeners('request')`): its request listener.
 */
export async function adaptApp(value: unknown, depth = 0): Promise<RequestListener> {
  if (depth > 3) throw new EntryShapeError('the entry factory returned another factory too many times')
  if (has(value, 'routing') && has(value, 'ready')) {
    const fastify = value as Anything
    await (fastify.ready as () => Promise<unknown>).call(fastify)
    return fastify.routing as unknown as RequestListener
  }
  if (has(value, 'callback') && has(value, 'use') && !isFn(value)) {
    const koa = value as Anything
    return (koa.callback as () => RequestListener).call(koa)
  }
  if (isFn(value)) {
    if (value.length === 0) return adaptApp(await value(), depth + 1)
    return value as unknown as RequestListener
  }
  if (has(value, 'listeners') && has(value, 'listen')) {
    const [listener] = (value as unknown as { listeners(e: string): RequestListener[] }).listeners('request')
    if (listener) return listener
  }
  throw new EntryShapeError()
}

/** Import the entry and adapt its export. Import failures become EntryLoadError with the cause kept. */
export async function loadEntry(entry: string): Promise<RequestListener> {
  if (TS_EXTENSIONS.has(extname(entry))) await ensureTypeScript()
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>
  } catch (err) {
    throw entryError(entry, 'threw while it was imported', err)
  }
  // CommonJS entries arrive as { default: module.exports }; ESM ones may name their export. A module
  // compiled from ESM to CommonJS (a .ts file outside a "type": "module" package) keeps its exports one
  // level further down, marked __esModule.
  const compiled = mod.default as Record<string, unknown> | undefined
  if (compiled !== null && typeof compiled === 'object' && compiled.__esModule === true) mod = compiled
  const candidate = mod.default ?? mod.app ?? mod.handler ?? mod.createApp ?? mod.createServer
  if (candidate === undefined) {
    throw new EntryShapeError(`${entry} exports nothing to serve: export default a handler, an app, or a factory`)
  }
  try {
    return await adaptApp(candidate)
  } catch (err) {
    if (err instanceof EntryShapeError) throw err
    throw entryError(entry, 'factory threw', err)
  }
}

function entryError(entry: string, what: string, err: unknown): EntryLoadError {
  const cause = err instanceof Error ? err : new Error(String(err))
  const e = new EntryLoadError(`entry ${entry} ${what}: ${cause.message}`, { cause })
  e.stack = `${e.name}: ${e.message}\n${cause.stack ?? ''}`
  return e
}
