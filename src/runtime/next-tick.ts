import { executionAsyncResource } from 'node:async_hooks'

/**
 * Keeps `process.nextTick` on V8's fast path in a process that goes idle now and then.
 *
 * Node builds each tick's record from an object literal with two computed symbol keys. TurboFan defines
 * those keys quickly only while the literal's feedback is monomorphic, and that feedback holds the
 * record's hidden classes (maps) weakly. When a server idles, V8's memory reducer runs full GCs; after
 * three of them with no tick record alive, the maps die. The next record gets new maps, the feedback
 * sees a map it did not record and goes megamorphic for good, and from then on every nextTick defines
 * its keys through the runtime: about 5x slower (50 to 280 ns on Node 20 here), 10-14% of a node:http
 * hello world's CPU. docs/start.md has the figures.
 *
 * One record kept reachable keeps its maps, and so the feedback, alive. The only public way to reach a
 * record is `executionAsyncResource()` inside a tick. That turns on Node's tracking of the resource of
 * each native callback (as `AsyncLocalStorage` does in Node 20): about 500 instructions per request of a
 * hello world, under 1%. An `async_hooks` init hook would reach it too, but even enabled for one tick it
 * leaves every `await` about 40% slower for good.
 */
let kept: object | null = null
let asked = false

export function keepNextTickFast(): void {
  if (asked) return
  asked = true
  process.nextTick(() => {
    kept = executionAsyncResource()
  })
}

/** The record kept alive, once the first tick after `keepNextTickFast()` has run (for tests). */
export function keptTickRecord(): object | null {
  return kept
}
