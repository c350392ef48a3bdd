/** One measured row. `peerOf` names the row of ours this peer is compared against. */
export interface BenchRow {
  /** The comparison this row belongs to, e.g. "throughput, 2 workers". */
  group: string
  /** Who was measured: "ecom", "pm2 -i 2", "raw piscina" ... */
  name: string
  value: number
  unit: string
  /** true for ops/s and the like; false for latency, time to ready, failures. */
  higherIsBetter: boolean
  /** Set on ecom's own rows; peers leave it unset. */
  ours?: boolean
  /** The target stated in the issue, e.g. ">= 0.95x raw piscina", printed beside the ratio. */
  target?: string
  note?: string
}

export interface BenchSuite {
  area: string
  run(): Promise<BenchRow[]>
}

/** Run fn repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
export async function opsPerSecond(fn: () => unknown, ms = 1000, warmupMs = 200): Promise<number> {
  const end0 = performance.now() + warmupMs
  while (performance.now() < end0) await fn()
  let n = 0
  const start = performance.now()
  const end = start + ms
  while (performance.now() < end) {
    await fn()
    n++
  }
  return (n * 1000) / (performance.now() - start)
}

/** Median of a list of numbers (the mean of the middle two for an even count); the list is not changed. */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Percentile (0-100) of a list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[idx]!
}
