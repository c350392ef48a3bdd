import { debuglog } from 'node:util'
import type { PaymentRouter, SweepReport } from './router.js'

const log = debuglog('ecom')

export interface SweeperOptions {
  /** @default 5000 */
  intervalMs?: number
  /** Rows looked at per pass. @default 500 */
  limit?: number
  /** How old a `pending` attempt must be before it counts as abandoned by a crash. @default 60000 */
  pendingGraceMs?: number
  onReport?: (report: SweepReport) => void
}

/**
 * Runs `router.sweep()` on an interval (never overlapping) to settle `processing` payments, reconcile
 * late successes and confirm unconfirmed captures, voids and refunds.
 */
export class Sweeper {
  #timer: NodeJS.Timeout | undefined
  #running: Promise<SweepReport> | undefined

  constructor(readonly router: PaymentRouter, readonly options: SweeperOptions = {}) {}

  start(): this {
    if (this.#timer) return this
    this.#timer = setInterval(() => {
      if (!this.#running) {
        this.runOnce().catch((err: unknown) => log('sweeper pass failed: %s', (err as Error).message))
      }
    }, this.options.intervalMs ?? 5000)
    this.#timer.unref()
    return this
  }

  async runOnce(final = false): Promise<SweepReport> {
    this.#running = this.router.sweep({ limit: this.options.limit, pendingGraceMs: this.options.pendingGraceMs, final })
    try {
      const r = await this.#running
      this.options.onReport?.(r)
      return r
    } finally {
      this.#running = undefined
    }
  }

  /** Sweep until nothing is left open or `maxPasses` is reached. */
  async drain(options: { final?: boolean; maxPasses?: number; pauseMs?: number } = {}): Promise<SweepReport> {
    let last: SweepReport = { resolved: 0, stillProcessing: 0, reconciled: 0, closed: 0, operations: 0 }
    for (let i = 0; i < (options.maxPasses ?? 20); i++) {
      last = await this.runOnce(options.final ?? false)
      const open = await this.router.ledger.store.paymentsInState(['processing'], 1)
      const watched = await this.router.ledger.store.attemptsInState(['abandoned', 'ambiguous', 'pending'], 1)
      if (open.length === 0 && watched.length === 0) break
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 50))
    }
    return last
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }
}
