/** Restart policy for one worker slot. */
export interface BackoffPolicy {
  /** First delay. @default 100 */
  initialMs: number
  /** Growth per consecutive crash. @default 1.5 */
  factor: number
  /** Ceiling. @default 15000 */
  maxMs: number
  /** A worker that stayed up this long resets the count. @default 30000 */
  stableMs: number
  /** Consecutive crashes after which the slot is given up. @default 10 */
  crashLimit: number
}

export const BACKOFF_DEFAULTS: BackoffPolicy = { initialMs: 100, factor: 1.5, maxMs: 15_000, stableMs: 30_000, crashLimit: 10 }

/** Delay before respawn number `crashes` (1 = the first crash in a row). */
export function backoffDelay(crashes: number, policy: BackoffPolicy = BACKOFF_DEFAULTS): number {
  return Math.min(policy.maxMs, Math.round(policy.initialMs * policy.factor ** Math.max(0, crashes - 1)))
}

/**
 * Consecutive-crash bookkeeping of one slot: a crash after a stable run starts the count again;
 * `crashed` returns the delay before the next respawn, or null once the slot crash-loops.
 */
export class CrashCounter {
  consecutive = 0
  readonly #policy: BackoffPolicy

  constructor(policy: BackoffPolicy = BACKOFF_DEFAULTS) {
    this.#policy = policy
  }

  crashed(upMs: number): number | null {
    if (upMs >= this.#policy.stableMs) this.consecutive = 0
    this.consecutive++
    if (this.consecutive >= this.#policy.crashLimit) return null
    return backoffDelay(this.consecutive, this.#policy)
  }
}
