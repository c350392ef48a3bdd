import { promises as dnsPromises, type LookupAddress } from 'node:dns'
import { isIP } from 'node:net'
import { debuglog } from 'node:util'
import { Counter } from 'prom-client'
import { DnsNotFoundError, DnsResolveError, InvalidOptionError } from '../errors.js'
import { getRegistry } from './metrics.js'
import { HostsFile, type HostsEntry } from './dns/hosts.js'

const debug = debuglog('ecom')
type Family = 4 | 6

export interface CachingResolverOptions {
  /** DNS servers (`ip` or `ip:port`); the system's by default. */
  servers?: string[]
  /** Lower bound on a record's TTL, in seconds. @default 1 */
  minTtl?: number
  /** Upper bound on a record's TTL, in seconds. @default 300 */
  maxTtl?: number
  /** How long NXDOMAIN / no-data answers are cached, in seconds. @default 10 */
  negativeTtl?: number
  /** How long past expiry an answer may still be served when the server fails, in seconds. @default 600 */
  maxStale?: number
  /** Per-attempt query timeout in ms. @default 1000 */
  timeout?: number
  /** Extra attempts after a timeout / SERVFAIL / refused, with exponential backoff and jitter. @default 2 */
  retries?: number
  /** First backoff delay in ms (doubled per attempt, plus up to 100 % jitter). @default 25 */
  backoff?: number
  /** Cached names (per family) before the oldest are dropped. @default 10000 */
  maxEntries?: number
  /** Hosts file, honoured before DNS and re-read when it changes; null to ignore it. @default "/etc/hosts" */
  hostsFile?: string | null
  /** How often the hosts file is checked for changes, in ms. @default 1000 */
  hostsCheckInterval?: number
  /** Which family `lookup` returns first when both are asked for. @default "ipv4first" */
  order?: 'ipv4first' | 'ipv6first'
}

interface Entry {
  addresses: LookupAddress[]
  /** ms timestamp */
  expires: number
  /** negative entry: the error to replay until `expires` */
  error?: DnsNotFoundError
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
interface LookupOptions {
  family?: number | 'IPv4' | 'IPv6'
  all?: boolean
  hints?: number
  verbatim?: boolean
  order?: string
}

const DEFAULTS = {
  minTtl: 1, maxTtl: 300, negativeTtl: 10, maxStale: 600, timeout: 1000, retries: 2, backoff: 25,
  maxEntries: 10_000, hostsFile: '/etc/hosts' as string | null, hostsCheckInterval: 1000, order: 'ipv4first' as const,
}
const RETRYABLE = new Set(['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED', 'EREFUSED', 'ECONNRESET', 'EBADRESP'])
const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'ENONAME', 'NXDOMAIN'])

let counter: Counter<'result'> | undefined
function metric(): Counter<'result'> {
  const registry = getRegistry()
  counter ??= (registry.getSingleMetric('ecom_dns_lookups_total') as Counter<'result'> | undefined) ??
    new Counter({ name: 'ecom_dns_lookups_total', help: 'DNS answers by source: hit, miss, stale, negative, hosts, error', labelNames: ['result'], registers: [registry] })
  return counter
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * A caching resolver with real TTLs and a `lookup` that drops into `http.Agent`, `net.connect` and
 * undici's `connect` option. Each family is cached and fails on its own.
 */
export class CachingResolver {
  readonly options: Readonly<typeof DEFAULTS>
  readonly #resolver: dnsPromises.Resolver
  readonly #cache = new Map<string, Entry>()
  readonly #inflight = new Map<string, Promise<LookupAddress[]>>()
  readonly #merged = new Map<string, { a: Entry; b: Entry; list: LookupAddress[] }>()
  readonly #hosts: HostsFile | undefined
  readonly #counter = metric()
  readonly #hit = this.#counter.labels('hit')

  constructor(options: CachingResolverOptions = {}) {
    const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS & { servers?: string[] }
    for (const k of ['minTtl', 'maxTtl', 'negativeTtl', 'maxStale', 'timeout', 'retries', 'backoff', 'maxEntries', 'hostsCheckInterval'] as const) {
      if (typeof o[k] !== 'number' || !Number.isInteger(o[k]) || o[k] < 0) {
        throw new InvalidOptionError(`options.${k} must be a non-negative integer, got ${JSON.stringify(o[k])}`)
      }
    }
    if (o.minTtl > o.maxTtl) throw new InvalidOptionError(`options.minTtl (${o.minTtl}) must not exceed options.maxTtl (${o.maxTtl})`)
    if (o.order !== 'ipv4first' && o.order !== 'ipv6first') throw new InvalidOptionError(`options.order must be "ipv4first" or "ipv6first", got ${JSON.stringify(o.order)}`)
    this.options = Object.freeze({ ...DEFAULTS, ...o })
    this.#resolver = new dnsPromises.Resolver({ timeout: o.timeout, tries: 1 })
    if (o.servers) this.#resolver.setServers(o.servers)
    if (o.hostsFile !== null) {
      this.#hosts = new HostsFile(o.hostsFile, o.hostsCheckInterval)
    }
    this.lookup = this.lookup.bind(this)
  }

  /** Addresses of one family, from the cache when fresh. Throws DnsNotFoundError / DnsResolveError. */
  async resolve(hostname: string, family: Family): Promise<LookupAddress[]> {
    const name = hostname.toLowerCase()
    const key = `${family}:${name}`
    const entry = this.#cache.get(key)
    const now = Date.now()
    if (entry && entry.expires > now) {
      if (entry.error) {
        this.#counter.inc({ result: 'negative' })
        throw entry.error
      }
      this.#hit.inc()
      return entry.addresses
    }
    let pending = this.#inflight.get(key)
    if (!pending) {
      pending = this.#query(name, family, key, entry).finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, pending)
    }
    return pending
  }

  /** Node's `dns.lookup` signature. */
  lookup(hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
    let cb = callback
    let opts: LookupOptions = {}
    if (typeof options === 'function') cb = options
    else if (typeof options === 'number') opts = { family: options }
    else if (options) opts = options
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : (opts.family ?? 0)
    // Fast path: a fresh cached answer is delivered without promises (still asynchronously).
    const cached = this.#fresh(hostname, family as 0 | 4 | 6)
    if (cached !== undefined) {
      if (opts.all) process.nextTick(cb!, null, cached)
      else process.nextTick(cb!, null, cached[0]!.address, cached[0]!.family)
      return
    }
    this.lookupAsync(hostname, { family: family as 0 | 4 | 6, all: opts.all === true }).then(
      (list) => {
        if (opts.all) cb!(null, list)
        else cb!(null, list[0]!.address, list[0]!.family)
      },
      (err: NodeJS.ErrnoException) => cb!(err, opts.all ? [] : '', undefined)
    )
  }

  /** Promise form of `lookup`: all addresses, ordered by `options.order`. */
  async lookupAsync(hostname: string, opts: { family?: 0 | 4 | 6; all?: boolean } = {}): Promise<LookupAddress[]> {
    const family = opts.family ?? 0
    const ip = isIP(hostname)
    if (ip !== 0) return [{ address: hostname, family: ip }]
    const name = hostname.toLowerCase()
    if (this.#hosts && !this.#hosts.loaded) await this.#hosts.ready
    const fromHosts = this.#hosts?.get(name)
    if (fromHosts) {
      const list = fromHosts.filter((e: HostsEntry) => family === 0 || e.family === family)
      if (list.length > 0) {
        this.#counter.inc({ result: 'hosts' })
        return this.#order(list)
      }
    }
    if (family !== 0) return this.resolve(name, family)
    // Both families at once; one failing never fails the other.
    const [a, b] = await Promise.allSettled([this.resolve(name, 4), this.resolve(name, 6)])
    if (a.status === 'fulfilled' && b.status === 'fulfilled') return this.#order([...a.value, ...b.value])
    if (a.status === 'fulfilled') return a.value
    if (b.status === 'fulfilled') return b.value
    // Prefer the "server is failing" error over "no such name": it is the one worth retrying.
    const errs = [a.reason as Error, b.reason as Error]
    throw errs.find((e) => e instanceof DnsResolveError) ?? errs[0]
  }

  /** Fresh positive answer from the cache (or hosts file) without any I/O, else undefined. */
  #fresh(hostname: string, family: 0 | 4 | 6): LookupAddress[] | undefined {
    if (this.#hosts && !this.#hosts.loaded) return undefined
    const name = hostname.toLowerCase()
    const fromHosts = this.#hosts?.get(name)
    if (fromHosts) return undefined // rare; the slow path filters and counts it
    const now = Date.now()
    if (family !== 0) {
      const e = this.#cache.get(`${family}:${name}`)
      if (e === undefined || e.error || e.expires <= now) return undefined
      this.#hit.inc()
      return e.addresses
    }
    const a = this.#cache.get(`4:${name}`)
    const b = this.#cache.get(`6:${name}`)
    if (a === undefined || b === undefined || a.expires <= now || b.expires <= now) return undefined
    if (a.error && b.error) return undefined
    this.#hit.inc()
    if (b.error) return a.addresses
    if (a.error) return b.addresses
    // The merged list is kept until either family's entry is replaced.
    const m = this.#merged.get(name)
    if (m && m.a === a && m.b === b) return m.list
    const list = this.#order([...a.addresses, ...b.addresses])
    this.#merged.set(name, { a, b, list })
    if (this.#merged.size > this.options.maxEntries) this.#merged.delete(this.#merged.keys().next().value!)
    return list
  }

  /** Wait for the hosts file check in progress (if any). */
  async hostsSettled(): Promise<void> {
    await this.#hosts?.settled()
  }

  clear(): void {
    this.#cache.clear()
    this.#merged.clear()
  }

  #order(list: LookupAddress[]): LookupAddress[] {
    const first = this.options.order === 'ipv4first' ? 4 : 6
    return list.length < 2 ? list : [...list.filter((x) => x.family === first), ...list.filter((x) => x.family !== first)]
  }

  async #query(name: string, family: Family, key: string, previous: Entry | undefined): Promise<LookupAddress[]> {
    const o = this.options
    let lastErr: NodeJS.ErrnoException | undefined
    for (let attempt = 0; attempt <= o.retries; attempt++) {
      if (attempt > 0) await sleep(o.backoff * 2 ** (attempt - 1) * (1 + Math.random()))
      try {
        const records = family === 4
          ? await this.#resolver.resolve4(name, { ttl: true })
          : await this.#resolver.resolve6(name, { ttl: true })
        if (records.length === 0) throw Object.assign(new Error('no data'), { code: 'ENODATA' })
        const ttl = Math.min(o.maxTtl, Math.max(o.minTtl, Math.min(...records.map((r) => r.ttl))))
        const addresses = records.map((r) => ({ address: r.address, family }))
        this.#store(key, { addresses, expires: Date.now() + ttl * 1000 })
        this.#counter.inc({ result: 'miss' })
        return addresses
      } catch (err) {
        lastErr = err as NodeJS.ErrnoException
        if (NOT_FOUND.has(lastErr.code ?? '')) {
          const error = notFound(name, family, lastErr)
          this.#store(key, { addresses: [], expires: Date.now() + o.negativeTtl * 1000, error })
          this.#counter.inc({ result: 'negative' })
          throw error
        }
        if (!RETRYABLE.has(lastErr.code ?? '')) break
        debug('dns: %s (IPv%d) attempt %d failed: %s', name, family, attempt + 1, lastErr.code)
      }
    }
    if (previous && !previous.error && Date.now() - previous.expires <= o.maxStale * 1000) {
      this.#counter.inc({ result: 'stale' })
      debug('dns: serving stale %s (IPv%d)', name, family)
      return previous.addresses
    }
    this.#counter.inc({ result: 'error' })
    throw Object.assign(
      new DnsResolveError(`cannot resolve ${name} (IPv${family}): ${lastErr?.code ?? 'unknown error'}`, {
        cause: lastErr,
        details: { hostname: name, family, dnsCode: lastErr?.code },
      }),
      { hostname: name, syscall: 'queryA' }
    )
  }

  #store(key: string, entry: Entry): void {
    this.#cache.delete(key)
    this.#cache.set(key, entry)
    if (this.#cache.size > this.options.maxEntries) this.#cache.delete(this.#cache.keys().next().value!)
  }
}

function notFound(name: string, family: Family, cause: NodeJS.ErrnoException): DnsNotFoundError {
  return Object.assign(
    new DnsNotFoundError(`${name} has no IPv${family} address (${cause.code})`, {
      cause,
      details: { hostname: name, family, dnsCode: cause.code },
    }),
    { hostname: name, syscall: 'queryA' }
  )
}

let shared: CachingResolver | undefined
/** The process-wide resolver with default options (what the HTTP client uses unless given one). */
export function getResolver(): CachingResolver {
  shared ??= new CachingResolver()
  return shared
}
