// Binary heaps of (distance, id) pairs for the HNSW fallback; `max` orders the farthest first.
export class PairHeap {
  dist: number[] = []
  id: number[] = []
  constructor(private readonly max: boolean) {}

  get size(): number {
    return this.dist.length
  }
  topDist(): number {
    return this.dist[0]!
  }
  topId(): number {
    return this.id[0]!
  }
  clear(): void {
    this.dist.length = 0
    this.id.length = 0
  }
  private before(a: number, b: number): boolean {
    return this.max ? this.dist[a]! > this.dist[b]! : this.dist[a]! < this.dist[b]!
  }
  private swap(a: number, b: number): void {
    const d = this.dist[a]!
    this.dist[a] = this.dist[b]!
    this.dist[b] = d
    const i = this.id[a]!
    this.id[a] = this.id[b]!
    this.id[b] = i
  }
  push(d: number, id: number): void {
    this.dist.push(d)
    this.id.push(id)
    let i = this.dist.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.before(i, p)) break
      this.swap(i, p)
      i = p
    }
  }
  pop(): void {
    const last = this.dist.length - 1
    this.swap(0, last)
    this.dist.pop()
    this.id.pop()
    let i = 0
    const n = this.dist.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.before(l, m)) m = l
      if (r < n && this.before(r, m)) m = r
      if (m === i) break
      this.swap(i, m)
      i = m
    }
  }
}
