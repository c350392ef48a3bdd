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

/**
 * One priority level: a FIFO of tasks with their options in a parallel array, so neither a lookup
 * table nor an entry object is needed per task (a Map keyed by task cost a young-generation GC share
 * per task, enough to show against raw piscina).
 */
class Level {
  #tasks: Array<Task | undefined> = []
  #opts: Array<QueueOptions | undefined> = []
  #head = 0
  get size(): number {
    return this.#tasks.length - this.#head
  }
  push(task: Task, o: QueueOptions): void {
    this.#tasks.push(task)
    this.#opts.push(o)
  }
  unshift(task: Task, o: QueueOptions): void {
    if (this.#head > 0) {
      this.#head--
      this.#tasks[this.#head] = task
      this.#opts[this.#head] = o
    } else {
      this.#tasks.unshift(task)
      this.#opts.unshift(o)
    }
  }
  /** The head's options; read before shift(). */
  peekOptions(): QueueOptions {
    return this.#opts[this.#head]!
  }
  shift(): Task {
    const h = this.#head
    const task = this.#tasks[h]!
    this.#tasks[h] = undefined
    this.#opts[h] = undefined
    this.#head = h + 1
    // Compact now and then so a long-lived queue does not keep a growing dead prefix.
    if (this.#head > 1024 && this.#head * 2 > this.#tasks.length) {
      this.#tasks = this.#tasks.slice(this.#head)
      this.#opts = this.#opts.slice(this.#head)
      this.#head = 0
    }
    return task
  }
  remove(task: Task): boolean {
    const i = this.#tasks.indexOf(task, this.#head)
    if (i === -1) return false
    this.#tasks.splice(i, 1)
    this.#opts.splice(i, 1)
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
  readonly #levels = [new Level(), new Level(), new Level()]
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

  // The options of the task shift() returned last, for placing() and a put-back by unshift().
  #lastOptions: QueueOptions | undefined

  #resolve(task: Task): QueueOptions {
    const o = this.pending ?? (task as unknown as Record<symbol, QueueOptions | undefined>)[queueOptionsSymbol] ?? NORMAL
    if (o !== NORMAL) o.task = task
    return o
  }

  push(task: Task): void {
    const o = this.#resolve(task)
    this.#levels[LEVEL[o.priority]]!.push(task, o)
    this.#size++
  }

  // piscina (with stricterFIFO) puts back a task it shifted but could not place: it goes back to the
  // front of its level, and the shift did not happen as far as starvation accounting is concerned.
  unshift(task: Task): void {
    const o = task === this.#last && this.#lastOptions !== undefined ? this.#lastOptions : this.#resolve(task)
    this.#levels[LEVEL[o.priority]]!.unshift(task, o)
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
    // Only timeouts and aborts come here: a scan of the levels, not a lookup table kept per task.
    for (const level of this.#levels) {
      if (level.remove(task as Task)) {
        this.#size--
        return true
      }
    }
    return false
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
    const level = this.#levels[pick]!
    const opts = level.peekOptions()
    const task = level.shift()
    this.#size--
    this.#last = task
    this.#lastOptions = opts
    if (opts !== NORMAL) opts.dequeuedAt = performance.now()
    return task
  }
}
