import type { Worker } from 'node:cluster'
import { RateLimitStoreError } from '../../errors.js'
import type { MemoryRateLimitStore, RateLimitResult, RateLimitStore } from './rate-limit-store.js'

/** A batch of hits from one worker: [id, key, limit, windowMs] per hit. */
export interface RateLimitRequest {
  ecom: 'rl'
  hits: Array<[number, string, number, number]>
}

/** The answers, in the same order: [id, allowed 0|1, remaining, resetMs]. */
export interface RateLimitReply {
  ecom: 'rl-res'
  results: Array<[number, 0 | 1, number, number]>
}

interface Pending {
  resolve: (r: RateLimitResult) => void
  reject: (e: Error) => void
  timer: NodeJS.Timeout
}

type Send = (msg: RateLimitRequest) => void

/**
 * A cluster worker's store: counters live in the primary, so every worker of the cluster shares one
 * quota. Hits made in the same tick travel as one message, which keeps the IPC cost per request low
 * under load.
 */
export class IpcRateLimitStore implements RateLimitStore {
  readonly #pending = new Map<number, Pending>()
  readonly #send: Send
  readonly #timeoutMs: number
  #queue: RateLimitRequest['hits'] = []
  #nextId = 1
  #onMessage = (msg: unknown): void => {
    if (isReply(msg)) this.receive(msg)
  }

  constructor(options: { send?: Send; timeoutMs?: number } = {}) {
    this.#send = options.send ?? ((m) => process.send!(m))
    this.#timeoutMs = options.timeoutMs ?? 1000
    if (!options.send) process.on('message', this.#onMessage)
  }

  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    return new Promise((resolve, reject) => {
      const id = this.#nextId++
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new RateLimitStoreError(`the primary did not answer a rate-limit hit within ${this.#timeoutMs}ms`))
      }, this.#timeoutMs)
      this.#pending.set(id, { resolve, reject, timer })
      if (this.#queue.length === 0) queueMicrotask(() => this.#flush())
      this.#queue.push([id, key, limit, windowMs])
    })
  }

  #flush(): void {
    const hits = this.#queue
    this.#queue = []
    if (hits.length > 0) this.#send({ ecom: 'rl', hits })
  }

  receive(msg: RateLimitReply): void {
    for (const [id, allowed, remaining, resetMs] of msg.results) {
      const p = this.#pending.get(id)
      if (!p) continue
      this.#pending.delete(id)
      clearTimeout(p.timer)
      p.resolve({ allowed: allowed === 1, remaining, resetMs })
    }
  }

  close(): Promise<void> {
    process.off('message', this.#onMessage)
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(new RateLimitStoreError('the rate-limit store was closed'))
    }
    this.#pending.clear()
    return Promise.resolve()
  }
}

function isReply(msg: unknown): msg is RateLimitReply {
  return typeof msg === 'object' && msg !== null && (msg as { ecom?: unknown }).ecom === 'rl-res'
}

export function isRateLimitRequest(msg: unknown): msg is RateLimitRequest {
  return typeof msg === 'object' && msg !== null && (msg as { ecom?: unknown }).ecom === 'rl'
}

/** Primary side: answer a worker's batch from the shared memory store. */
export function answerRateLimit(store: MemoryRateLimitStore, msg: RateLimitRequest, reply: (r: RateLimitReply) => void): void {
  const now = Date.now()
  const results: RateLimitReply['results'] = msg.hits.map(([id, key, limit, windowMs]) => {
    const r = store.hitSync(key, limit, windowMs, now)
    return [id, r.allowed ? 1 : 0, r.remaining, r.resetMs]
  })
  reply({ ecom: 'rl-res', results })
}

/** Wire a forked worker to the primary's store. */
export function serveRateLimit(worker: Worker, store: MemoryRateLimitStore): void {
  worker.on('message', (msg: unknown) => {
    if (isRateLimitRequest(msg) && worker.isConnected()) answerRateLimit(store, msg, (r) => worker.send(r))
  })
}
