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

type Handler = (arg: unknown) => unknown
const data = (workerData ?? {}) as { maxHeapBytes?: number; file?: string }
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

/** The pool's own task module, default export: the argument arrives bare (no envelope to clone). */
export default async function runDefault(arg: unknown): Promise<unknown> {
  const fn = defaultHandler ?? (defaultHandler = await load(data.file!, ''))
  try {
    return await fn(arg)
  } finally {
    if (data.maxHeapBytes) checkHeap()
  }
}

/** Any other module or export. */
export async function call(envelope: TaskEnvelope): Promise<unknown> {
  const fn = handlers.get(`${envelope.f}#${envelope.n}`) ?? (await load(envelope.f, envelope.n))
  try {
    return await fn(envelope.a)
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
