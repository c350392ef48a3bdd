import { describe, expect, it } from 'vitest'
import { RateLimitStoreError } from '../../../src/errors.js'
import { IpcRateLimitStore, answerRateLimit, type RateLimitRequest } from '../../../src/runtime/edge/rate-limit-ipc.js'
import { MemoryRateLimitStore, type RateLimitStore } from '../../../src/runtime/edge/rate-limit-store.js'

/** Two "workers" whose messages reach one "primary" store, as over cluster IPC (asynchronously). */
function cluster(primary: MemoryRateLimitStore): { workers: IpcRateLimitStore[]; messages: RateLimitRequest[] } {
  const messages: RateLimitRequest[] = []
  const workers: IpcRateLimitStore[] = []
  for (let i = 0; i < 2; i++) {
    const w: IpcRateLimitStore = new IpcRateLimitStore({
      send: (msg) => {
        messages.push(msg)
        setImmediate(() => answerRateLimit(primary, msg, (reply) => w.receive(reply)))
      },
    })
    workers.push(w)
  }
  return { workers, messages }
}

// The conformance suite every RateLimitStore passes (a Redis store will run it too).
function conformance(name: string, make: () => { stores: RateLimitStore[]; close: () => Promise<void> }): void {
  describe(`${name} conforms to RateLimitStore`, () => {
    it('allows exactly `limit` hits per key and window, counted across every client of the store', async () => {
      const { stores, close } = make()
      const results = await Promise.all(Array.from({ length: 25 }, (_, i) => stores[i % stores.length]!.hit('ip-1', 10, 60_000)))
      expect(results.filter((r) => r.allowed)).toHaveLength(10)
      expect(Math.min(...results.map((r) => r.remaining))).toBe(0)
      for (const r of results) expect(r.resetMs).toBeGreaterThan(59_000)
      expect((await stores[0]!.hit('ip-2', 10, 60_000)).allowed).toBe(true)
      await close()
    })

    it('starts a fresh window once the last one has passed', async () => {
      const { stores, close } = make()
      expect((await stores[0]!.hit('k', 1, 50)).allowed).toBe(true)
      expect((await stores[0]!.hit('k', 1, 50)).allowed).toBe(false)
      await new Promise((r) => setTimeout(r, 60))
      const r = await stores[0]!.hit('k', 1, 50)
      expect(r).toMatchObject({ allowed: true, remaining: 0 })
      await close()
    })
  })
}

conformance('MemoryRateLimitStore', () => {
  const s = new MemoryRateLimitStore()
  return { stores: [s], close: () => s.close() }
})

conformance('IpcRateLimitStore (2 workers, one primary)', () => {
  const primary = new MemoryRateLimitStore()
  const { workers } = cluster(primary)
  return { stores: workers, close: async () => { await Promise.all(workers.map((w) => w.close())); await primary.close() } }
})

describe('IpcRateLimitStore', () => {
  it('sends the hits of one tick as one message', async () => {
    const primary = new MemoryRateLimitStore()
    const { workers, messages } = cluster(primary)
    await Promise.all(Array.from({ length: 50 }, () => workers[0]!.hit('a', 100, 1000)))
    expect(messages).toHaveLength(1)
    expect(messages[0]!.hits).toHaveLength(50)
    await primary.close()
  })

  it('fails with a coded error when the primary does not answer', async () => {
    const s = new IpcRateLimitStore({ send: () => {}, timeoutMs: 30 })
    await expect(s.hit('a', 1, 1000)).rejects.toBeInstanceOf(RateLimitStoreError)
  })
})
