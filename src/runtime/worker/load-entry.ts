import type { RequestListener } from 'node:http'
import { extname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { EntryLoadError, EntryShapeError } from '../../errors.js'
import type { Logger } from '../logger.js'

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

/** What the entry serves, and how it lets go of what it holds (pools, connections) at shutdown. */
export interface LoadedApp {
  handler: RequestListener
  /** Calls the app's `close()` and the entry module's `close` export, whichever exist, in that order. */
  close: (() => Promise<void>) | undefined
}

type Close = () => unknown

/** What `adapt` makes of an export: the listener, and the app's own close() if it has one. */
interface Adapted {
  handler: RequestListener
  close: Close | undefined
}

function closeOf(v: unknown): Close | undefined {
  return has(v, 'close') ? () => ((v as Anything).close as Close).call(v) : undefined
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
  return (await adapt(value, depth)).handler
}

/** `adaptApp`, plus the adapted app's own `close()` (a fastify instance's, or one on the handler). */
async function adapt(value: unknown, depth = 0): Promise<Adapted> {
  if (depth > 3) throw new EntryShapeError('the entry factory returned another factory too many times')
  if (has(value, 'routing') && has(value, 'ready')) {
    const fastify = value as Anything
    await (fastify.ready as () => Promise<unknown>).call(fastify)
    return { handler: fastify.routing as unknown as RequestListener, close: closeOf(fastify) }
  }
  if (has(value, 'callback') && has(value, 'use') && !isFn(value)) {
    const koa = value as Anything
    return { handler: (koa.callback as () => RequestListener).call(koa), close: closeOf(koa) }
  }
  if (isFn(value)) {
    if (value.length === 0) return adapt(await value(), depth + 1)
    return { handler: value as unknown as RequestListener, close: closeOf(value) }
  }
  if (has(value, 'listeners') && has(value, 'listen')) {
    // A server handed over for its listener: ecom listens, so there is nothing of it to close.
    const [listener] = (value as unknown as { listeners(e: string): RequestListener[] }).listeners('request')
    if (listener) return { handler: listener, close: undefined }
  }
  throw new EntryShapeError()
}

/** Import the entry and adapt its export (see `loadApp`). */
export async function loadEntry(entry: string): Promise<RequestListener> {
  return (await loadApp(entry)).handler
}

/**
 * Import the entry and adapt its export. Import failures become EntryLoadError with the cause kept. The
 * result's `close` is the app's `close()` (a fastify instance's, or one set on the handler a factory
 * returns) followed by the module's own `close` export: ecom calls it once the server has drained.
 */
export async function loadApp(entry: string): Promise<LoadedApp> {
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
  let adapted: Adapted
  try {
    adapted = await adapt(candidate)
  } catch (err) {
    if (err instanceof EntryShapeError) throw err
    throw entryError(entry, 'factory threw', err)
  }
  // The module's own `close` export, unless it is the very function already found on the app.
  const exported = isFn(mod.close) && mod.close !== candidate ? (mod.close as Close) : undefined
  const closers = [adapted.close, exported].filter((c): c is Close => c !== undefined)
  const close =
    closers.length === 0
      ? undefined
      : async (): Promise<void> => {
          // Each runs even if one before it failed; the first failure is reported.
          let failure: unknown
          for (const c of closers) await Promise.resolve().then(c).catch((err: unknown) => (failure ??= err))
          if (failure !== undefined) throw failure
        }
  return { handler: adapted.handler, close }
}

/**
 * Run an app's `close` after its server has drained, for at most `ms` (at least one second): a close
 * that fails or hangs is logged, and shutdown goes on without it.
 */
export async function closeApp(close: (() => Promise<void>) | undefined, ms: number, logger: Logger): Promise<void> {
  if (!close) return
  let timer: NodeJS.Timeout | undefined
  const limit = Math.max(1000, ms)
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), limit)))
  try {
    const r = await Promise.race([close().then(() => 'closed' as const), timedOut])
    if (r === 'timeout') logger.warn({ ms: limit }, 'the app\'s close() did not finish within the grace period; exiting without it')
  } catch (err) {
    logger.error({ err }, 'the app\'s close() failed')
  } finally {
    clearTimeout(timer)
  }
}

function entryError(entry: string, what: string, err: unknown): EntryLoadError {
  const cause = err instanceof Error ? err : new Error(String(err))
  const e = new EntryLoadError(`entry ${entry} ${what}: ${cause.message}`, { cause })
  e.stack = `${e.name}: ${e.message}\n${cause.stack ?? ''}`
  return e
}
