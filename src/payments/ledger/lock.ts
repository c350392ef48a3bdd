/**
 * Serialises work on one payment. The in-process lock is enough for one process; a Redis-backed one
 * with the same interface comes with the scale-out work (see docs/payments.md).
 */
export interface PaymentLock {
  withLock<T>(paymentId: string, fn: () => Promise<T>): Promise<T>
}

export class InProcessLock implements PaymentLock {
  readonly #tails = new Map<string, Promise<unknown>>()

  async withLock<T>(paymentId: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(paymentId)
    let release!: () => void
    const mine = new Promise<void>((r) => (release = r))
    const tail = prev ? prev.then(() => mine) : mine
    this.#tails.set(paymentId, tail)
    if (prev) await prev // uncontended (the usual case): no hop through the microtask queue
    try {
      return await fn()
    } finally {
      release()
      if (this.#tails.get(paymentId) === tail) this.#tails.delete(paymentId)
    }
  }
}
