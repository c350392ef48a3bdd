// The piscina worker entry: loads the task file (registering tsx first for TypeScript files, since
// piscina alone cannot load .ts), calls the wanted export, and asks to be recycled when its heap has
// grown past the pool's limit.
import { parentPort, threadId, workerData } from 'node:worker_threads'
import { getHeapStatistics } from 'node:v8'

export interface TaskEnvelope {
  /** file: URL of the task module */
  f: string
  /** export name; the default export when empty */
  n: string
  /** the caller's argument */
  a: unknown
}

export interface RecycleMessage {
  ecomRecycle: number
  heapUsed: number
}

/** The second argument of every task function. */
export interface TaskContext {
  /** Aborts when the task timed out or its caller aborted: stop early and the thread is kept. */
  signal: AbortSignal
}

type Handler = (arg: unknown, ctx: TaskContext) => unknown
const data = (workerData ?? {}) as { maxHeapBytes?: number; file?: string; channel?: string }

// One task at a time per thread, so one context serves every task until it is aborted.
let ctx: TaskContext & { controller: AbortController } = fresh()
function fresh() {
  const controller = new AbortController()
  return { controller, signal: controller.signal }
}
if (data.channel) {
  // The pool asks a thread to cancel its running task by thread id. Unref'd: it must not keep an
  // idle thread alive, and while a task runs the thread's event loop is alive anyway.
  const bc = new BroadcastChannel(data.channel)
  bc.onmessage = (e: MessageEvent) => {
    if (e.data === threadId) ctx.controller.abort(new Error('task cancelled by the pool'))
  }
  ;(bc as unknown as { unref(): void }).unref()
}
function context(): TaskContext {
  if (ctx.signal.aborted) ctx = fresh()
  return ctx
}
const handlers = new Map<string, Handler>()
let tsx: Promise<void> | undefined
let recycleAsked = false

async function load(file: string, name: string): Promise<Handler> {
  if (/\.[cm]?tsx?$/.test(file)) {
    tsx ??= import('tsx/esm/api').then(({ register }) => {
      register()
    })
    await tsx
  }
  const mod = (await import(file)) as Record<string, unknown>
  let fn = mod[name || 'default']
  // A CommonJS module seen through import(): its exports object is the default.
  if (typeof fn !== 'function' && name && typeof mod.default === 'object' && mod.default !== null) {
    fn = (mod.default as Record<string, unknown>)[name]
  }
  if (typeof fn !== 'function') throw new TypeError(`${file} has no function export "${name || 'default'}"`)
  handlers.set(`${file}#${name}`, fn as Handler)
  return fn as Handler
}

let defaultHandler: Handler | undefined

/**
 * The pool's own task module, default export: the argument arrives bare (no envelope to clone). Not an
 * async function: once loaded, without a heap limit, the handler's own result goes back to piscina
 * as it is (piscina awaits a promise), with no extra promise and async frame per task.
 */
export default function runDefault(arg: unknown): unknown {
  const fn = defaultHandler
  if (fn === undefined || data.maxHeapBytes) return runDefaultSlow(arg)
  return fn(arg, context())
}

async function runDefaultSlow(arg: unknown): Promise<unknown> {
  const fn = defaultHandler ?? (defaultHandler = await load(data.file!, ''))
  try {
    return await fn(arg, context())
  } finally {
    if (data.maxHeapBytes) checkHeap()
  }
}

/** Any other module or export. */
export async function call(envelope: TaskEnvelope): Promise<unknown> {
  const fn = handlers.get(`${envelope.f}#${envelope.n}`) ?? (await load(envelope.f, envelope.n))
  try {
    return await fn(envelope.a, context())
  } finally {
    if (data.maxHeapBytes) checkHeap()
  }
}

function checkHeap(): void {
  if (recycleAsked) return
  const heapUsed = getHeapStatistics().used_heap_size
  if (heapUsed > data.maxHeapBytes!) {
    recycleAsked = true
    parentPort?.postMessage({ ecomRecycle: threadId, heapUsed } satisfies RecycleMessage)
  }
}
