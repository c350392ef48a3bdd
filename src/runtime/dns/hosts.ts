import { readFile, stat } from 'node:fs/promises'
import { isIP } from 'node:net'

export interface HostsEntry {
  address: string
  family: 4 | 6
}

/** Parse /etc/hosts: `address name [alias...]`, `#` comments; names are case-insensitive. */
export function parseHosts(text: string): Map<string, HostsEntry[]> {
  const map = new Map<string, HostsEntry[]>()
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') continue
    const [address, ...names] = line.split(/\s+/)
    const family = isIP(address!)
    if (family === 0) continue
    for (const name of names) {
      const key = name.toLowerCase()
      const list = map.get(key) ?? []
      if (!list.some((e) => e.address === address)) list.push({ address: address!, family: family as 4 | 6 })
      map.set(key, list)
    }
  }
  return map
}

/**
 * The hosts file, re-read when its mtime or size changes. The check is a stat at most every
 * `interval` ms, started by a lookup and not awaited by it, so lookups never wait on the disk.
 */
export class HostsFile {
  #map = new Map<string, HostsEntry[]>()
  #sig = ''
  #checkedAt = 0
  #checking: Promise<void> | undefined

  /** False until the first read finished; lookups wait for it so the file is honoured from the start. */
  loaded = false
  readonly ready: Promise<void>

  constructor(readonly path: string, readonly interval: number) {
    this.#check()
    this.ready = this.#checking!.then(() => {
      this.loaded = true
    })
  }

  #check(): void {
    this.#checking = this.load().finally(() => {
      this.#checking = undefined
    })
  }

  async load(): Promise<void> {
    this.#checkedAt = Date.now()
    try {
      const st = await stat(this.path)
      const sig = `${st.mtimeMs}:${st.size}:${st.ino}`
      if (sig === this.#sig) return
      this.#map = parseHosts(await readFile(this.path, 'utf8'))
      this.#sig = sig
    } catch {
      // No hosts file is a valid setup (some containers); keep what we had.
    }
  }

  get(name: string): HostsEntry[] | undefined {
    if (Date.now() - this.#checkedAt >= this.interval && !this.#checking) this.#check()
    return this.#map.get(name)
  }

  /** Wait for a check in progress (tests, and the first lookup after start). */
  settled(): Promise<void> {
    return this.#checking ?? Promise.resolve()
  }
}
