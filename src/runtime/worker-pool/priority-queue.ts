import type { TaskQueue } from 'piscina'
import { queueOptionsSymbol } from 'piscina'

type Task = Parameters<TaskQueue['push']>[0]

export type Priority = 'high' | 'normal' | 'low'
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low']
const LEVEL: Record<Priority, number> = { high: 0, normal: 1, low: 2 }

/** The pool's bookkeeping for one task, shared with the queue and the balancer. */
export interface QueueOptions {
  priority: Priority
  /** Set when the task leaves the queue (performance.now()), for the wait-time metric. */
  dequeuedAt?: number
  /** piscina's task object, once it has been queued (to remove it on timeout / abort). */
  task?: unknown
  /** The thread the balancer gave it to. */
  threadId?: number
}

class Fifo<T> {
  #items: T[] = []
  #head = 0
  get size(): number {
    return this.#items.length - this.#head
  }
  push(v: T): void {
    this.#items.push(v)
  }
  unshift(v: T): void {
    if (this.#head > 0) this.#items[--this.#head] = v
    else this.#items.unshift(v)
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const v = this.#items[this.#head]
    this.#items[this.#head++] = undefined as T
    // Compact now and then so a long-lived queue does not keep a growing dead prefix.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return v
  }
  remove(v: T): boolean {
    const i = this.#items.indexOf(v, this.#head)
    if (i === -1) return false
    this.#items.splice(i, 1)
    return true
  }
}

const NORMAL: QueueOptions = { priority: 'normal' }

/**
 * piscina `taskQueue`: strict priority, FIFO within a priority, and a starvation guard: a non-empty
 * lower level that has been passed over `starvationLimit` times in a row is served next, so low
 * priority work keeps moving (at a rate of at least 1 in starvationLimit + 1) under sustained high load.
 */
export class PriorityTaskQueue implements TaskQueue {
  readonly #levels = [new Fifo<Task>(), new Fifo<Task>(), new Fifo<Task>()]
  readonly #passed = [0, 0, 0]
  readonly #limit: number
  /**
   * Set by the pool around its synchronous `piscina.run()` call: piscina places the new task (push,
   * or unshift after a failed direct dispatch) inside that call, so this is how a task whose payload
   * is a bare value (no room for piscina's queue-options symbol) gets its priority.
   */
  pending: QueueOptions | undefined
  #last: Task | undefined
  readonly #lastPassed = [0, 0, 0]

  constructor(starvationLimit = 8) {
    this.#limit = starvationLimit
  }

  // piscina reads the size several times per task (on submit, on every placement round, to drain):
  // a counter, not a sum over the levels.
  #size = 0
  get size(): number {
    return this.#size
  }

  sizeOf(priority: Priority): number {
    return this.#levels[LEVEL[priority]]!.size
  }

  // A Map, not a property on piscina's task objects: adding one would change their hidden class and
  // slow piscina's own code that handles every task. Not a WeakMap either: its entries are ephemerons,
  // which every young-generation GC has to process, one per task since the last GC (a main-thread GC
  // cost per task that raw piscina does not pay). A task is in the map exactly while it is in the
  // queue: shift and removal delete it.
  readonly #ctx = new Map<Task, QueueOptions>()
  // The options of the task shift() returned last, for placing() and a put-back by unshift().
  #lastOptions: QueueOptions | undefined

  #resolve(task: Task): QueueOptions {
    const o = this.pending ?? (task as unknown as Record<symbol, QueueOptions | undefined>)[queueOptionsSymbol] ?? NORMAL
    if (o !== NORMAL) o.task = task
    return o
  }

  push(task: Task): void {
    const o = this.#resolve(task)
    this.#ctx.set(task, o)
    this.#levels[LEVEL[o.priority]]!.push(task)
    this.#size++
  }

  // piscina (with stricterFIFO) puts back a task it shifted but could not place: it goes back to the
  // front of its level, and the shift did not happen as far as starvation accounting is concerned.
  unshift(task: Task): void {
    const o = task === this.#last && this.#lastOptions !== undefined ? this.#lastOptions : this.#resolve(task)
    this.#ctx.set(task, o)
    this.#levels[LEVEL[o.priority]]!.unshift(task)
    this.#size++
    if (task === this.#last) {
      for (let l = 0; l < 3; l++) this.#passed[l] = this.#lastPassed[l]!
      this.#last = undefined
      this.#lastOptions = undefined
    }
  }

  remove(task: Task): void {
    this.removeTask(task)
  }

  /** Remove a waiting task; false when it is no longer in the queue. */
  removeTask(task: unknown): boolean {
    const o = this.#ctx.get(task as Task)
    if (o === undefined) return false
    this.#ctx.delete(task as Task)
    const removed = this.#levels[LEVEL[o.priority]]!.remove(task as Task)
    if (removed) this.#size--
    return removed
  }

  /**
   * The task piscina is placing right now: the one `run()` is submitting, else the one just shifted.
   * The balancer records the chosen thread on it.
   */
  placing(): QueueOptions | undefined {
    if (this.pending) return this.pending
    const o = this.#lastOptions
    return o === NORMAL ? undefined : o
  }

  shift(): Task | null {
    let pick = -1
    // Lowest level first, so the longest-starved work wins when both lower levels are due.
    for (let l = 2; l >= 1; l--) {
      if (this.#levels[l]!.size > 0 && this.#passed[l]! >= this.#limit) {
        pick = l
        break
      }
    }
    // Plain loops and a reused snapshot: shift runs once per task, and allocates nothing.
    for (let l = 0; pick === -1 && l < 3; l++) if (this.#levels[l]!.size > 0) pick = l
    if (pick === -1) return null
    for (let l = 0; l < 3; l++) this.#lastPassed[l] = this.#passed[l]!
    for (let l = pick + 1; l < 3; l++) if (this.#levels[l]!.size > 0) this.#passed[l]!++
    this.#passed[pick] = 0
    const task = this.#levels[pick]!.shift()!
    this.#size--
    const opts = this.#ctx.get(task) ?? NORMAL
    this.#ctx.delete(task)
    this.#last = task
    this.#lastOptions = opts
    if (opts !== NORMAL) opts.dequeuedAt = performance.now()
    return task
  }
}
