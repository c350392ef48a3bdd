import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { resolve } from 'node:path'
import { inspect } from 'node:util'
import {
  InvalidOptionError,
  KeyringDecryptError,
  KeyringFormatError,
  KeyringMasterKeyError,
  KeyringStateError,
  KeyringUnknownKeyError,
  isEcomError,
} from '../errors.js'
import type { Logger } from './logger.js'
import { SafeFs, getSafeFs } from './safe-fs.js'
import { freshKey, loadMasterKey, open, readHeader, seal, toBuffer, type MasterKeySource } from './keyring/format.js'

export interface KeyringOptions extends MasterKeySource {
  /** The keyring file (encrypted under the master key); created with one primary key if missing. */
  path: string
  /** Rotate automatically: add a key every `rotationInterval`, promote it after `propagationDelay`. @default true */
  autoRotate?: boolean
  /** @default 86400000 (24 h) */
  rotationInterval?: number
  /** How long a new key is decrypt-only before it becomes primary, so every worker has loaded it. @default 3600000 (1 h) */
  propagationDelay?: number
  /** How often the file is checked for changes made by other processes, in ms. @default 1000 */
  reloadInterval?: number
  /** @default the process-wide SafeFs */
  safeFs?: SafeFs
  /** Rotation events are logged here (key ids only). */
  logger?: Logger
}

export interface KeyInfo {
  id: number
  status: 'primary' | 'enabled'
  createdAt: number
}

interface StoredKey extends KeyInfo {
  key: string
}
interface State {
  keys: StoredKey[]
  retired: number[]
  rotatedAt: number
}

const FILE_AAD = Buffer.from('ecom-keyring-file-v1')
const DEFAULTS = { autoRotate: true, rotationInterval: 86_400_000, propagationDelay: 3_600_000, reloadInterval: 1000 }

/**
 * AES-256-GCM keyring with Tink-style rotation. Every process of a cluster opens the same file; the
 * file is the single source of truth, changed only under the safe-FS lock, and reloaded on change.
 */
export class Keyring {
  readonly path: string
  readonly #master: Buffer
  readonly #fs: SafeFs
  readonly #opts: typeof DEFAULTS
  readonly #logger: Logger | undefined
  #keys = new Map<number, Buffer>()
  #hmac = new Map<number, Buffer>()
  #state: State = { keys: [], retired: [], rotatedAt: 0 }
  #primary = 0
  #lastRaw: Buffer | undefined
  #timer: NodeJS.Timeout | undefined
  #ticking = false

  private constructor(options: KeyringOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new InvalidOptionError('options.path must be the keyring file path')
    }
    const o = { ...DEFAULTS, ...stripUndefined(options) }
    for (const k of ['rotationInterval', 'propagationDelay', 'reloadInterval'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) throw new InvalidOptionError(`options.${k} must be a positive integer (ms), got ${String(o[k])}`)
    }
    this.path = resolve(options.path)
    this.#master = loadMasterKey(options)
    this.#fs = options.safeFs ?? getSafeFs()
    this.#opts = { autoRotate: o.autoRotate, rotationInterval: o.rotationInterval, propagationDelay: o.propagationDelay, reloadInterval: o.reloadInterval }
    this.#logger = options.logger
  }

  static async open(options: KeyringOptions): Promise<Keyring> {
    const kr = new Keyring(options)
    // Creating under the lock means two workers starting together end up with one keyring.
    await kr.#mutate((s) => {
      if (s.keys.length > 0) return false
      s.keys.push({ id: 1, key: freshKey().toString('base64'), status: 'primary', createdAt: Date.now() })
      s.rotatedAt = Date.now()
      return true
    })
    kr.#timer = setInterval(() => void kr.#tick(), kr.#opts.reloadInterval)
    kr.#timer.unref()
    return kr
  }

  get primaryId(): number {
    return this.#primary
  }

  keys(): KeyInfo[] {
    return this.#state.keys.map(({ id, status, createdAt }) => ({ id, status, createdAt }))
  }

  encrypt(plaintext: string | Uint8Array, aad?: string | Uint8Array): Buffer {
    return seal(this.#keys.get(this.#primary)!, this.#primary, toBuffer(plaintext), toBuffer(aad))
  }

  decrypt(ciphertext: Uint8Array, aad?: string | Uint8Array): Buffer {
    const data = toBuffer(ciphertext)
    const { keyId } = readHeader(data)
    return open(this.#key(keyId), data, toBuffer(aad))
  }

  /** Re-encrypt data written under an older key with the primary; data already under it is returned as is. */
  reencrypt(ciphertext: Uint8Array, aad?: string | Uint8Array): Buffer {
    const data = toBuffer(ciphertext)
    if (readHeader(data).keyId === this.#primary) {
      this.decrypt(data, aad) // still authenticate
      return data
    }
    return this.encrypt(this.decrypt(data, aad), aad)
  }

  /** HMAC-SHA256 under the primary's derived MAC key: `<key id>.<base64url mac>`. */
  sign(data: string | Uint8Array): string {
    const mac = createHmac('sha256', this.#hmac.get(this.#primary)!).update(toBuffer(data)).digest('base64url')
    return `${this.#primary}.${mac}`
  }

  /** Constant-time check of a `sign()` signature under any non-retired key. */
  verify(data: string | Uint8Array, signature: string): boolean {
    const dot = signature.indexOf('.')
    const id = Number(signature.slice(0, dot))
    const key = this.#hmac.get(id)
    if (dot <= 0 || key === undefined) return false
    const given = Buffer.from(signature.slice(dot + 1), 'base64url')
    const want = createHmac('sha256', key).update(toBuffer(data)).digest()
    return given.length === want.length && timingSafeEqual(given, want)
  }

  /** Encrypt a card/payment token bound to an order: decrypting under another order id fails. */
  encryptCardToken(token: string, orderId: string): string {
    return this.encrypt(token, `ecom-card:${orderId}`).toString('base64url')
  }

  decryptCardToken(sealed: string, orderId: string): string {
    return this.decrypt(Buffer.from(sealed, 'base64url'), `ecom-card:${orderId}`).toString('utf8')
  }

  /** Add a decrypt-only key; it encrypts nothing until promoted. Returns its id. */
  async addKey(): Promise<number> {
    let id = 0
    await this.#mutate((s) => {
      id = nextId(s)
      s.keys.push({ id, key: freshKey().toString('base64'), status: 'enabled', createdAt: Date.now() })
      return true
    })
    this.#logger?.info({ keyId: id }, 'keyring: key added')
    return id
  }

  async promote(id: number): Promise<void> {
    await this.#mutate((s) => {
      const k = s.keys.find((x) => x.id === id)
      if (!k) throw new KeyringStateError(`cannot promote key ${id}: it is not in the keyring`)
      for (const x of s.keys) x.status = x === k ? 'primary' : 'enabled'
      s.rotatedAt = Date.now()
      return true
    })
    this.#logger?.info({ keyId: id }, 'keyring: key promoted to primary')
  }

  /** Remove a key: data under it no longer decrypts (re-encrypt it first). The primary cannot be retired. */
  async retire(id: number): Promise<void> {
    await this.#mutate((s) => {
      const k = s.keys.find((x) => x.id === id)
      if (!k) throw new KeyringStateError(`cannot retire key ${id}: it is not in the keyring`)
      if (k.status === 'primary') throw new KeyringStateError(`cannot retire key ${id}: it is the primary`)
      s.keys = s.keys.filter((x) => x !== k)
      s.retired.push(id)
      return true
    })
    this.#logger?.info({ keyId: id }, 'keyring: key retired')
  }

  /** One step of the automatic schedule, applied by whichever process gets the lock first. */
  async rotateIfDue(now = Date.now()): Promise<void> {
    await this.#mutate((s) => rotationStep(s, now, this.#opts))
  }

  /** Re-read the file if another process changed it. */
  async reload(): Promise<void> {
    const raw = await this.#fs.readFile(this.path)
    if (this.#lastRaw === undefined || (raw !== this.#lastRaw && !raw.equals(this.#lastRaw))) this.#load(raw)
    else this.#lastRaw = raw
  }

  close(): void {
    clearInterval(this.#timer)
  }

  toJSON(): object {
    return { path: this.path, primaryId: this.#primary, keys: this.keys() }
  }

  [inspect.custom](): string {
    return `Keyring { path: ${this.path}, primaryId: ${this.#primary}, keys: [${this.keys().map((k) => k.id).join(', ')}] }`
  }

  async #tick(): Promise<void> {
    if (this.#ticking) return
    this.#ticking = true
    try {
      await this.reload()
      if (this.#opts.autoRotate && rotationStep(structuredClone(this.#state), Date.now(), this.#opts)) {
        const before = this.#primary
        await this.rotateIfDue()
        if (this.#primary !== before) this.#logger?.info({ keyId: this.#primary }, 'keyring: rotated')
      }
    } catch (err) {
      this.#logger?.error({ code: (err as { code?: string }).code }, 'keyring: reload or rotation failed')
    } finally {
      this.#ticking = false
    }
  }

  #key(id: number): Buffer {
    const key = this.#keys.get(id)
    if (key) return key
    const retired = this.#state.retired.includes(id)
    throw new KeyringUnknownKeyError(`key ${id} is ${retired ? 'retired' : 'not in the keyring'}`, { details: { keyId: id } })
  }

  async #mutate(fn: (s: State) => boolean): Promise<void> {
    let written: Buffer | undefined
    let current: Buffer | undefined
    await this.#fs.update(this.path, (cur) => {
      current = cur
      const s = cur === undefined ? { keys: [], retired: [], rotatedAt: 0 } : this.#decode(cur)
      if (!fn(s)) return undefined
      written = this.#encode(s)
      return written
    }, { mode: 0o600 })
    const raw = written ?? current
    if (raw) this.#load(raw)
  }

  #encode(s: State): Buffer {
    const sealed = seal(this.#master, 0, Buffer.from(JSON.stringify(s)), FILE_AAD)
    return Buffer.from(`${JSON.stringify({ format: 'ecom-keyring', version: 1, sealed: sealed.toString('base64') })}\n`)
  }

  #decode(raw: Buffer): State {
    let sealed: Buffer
    try {
      const doc = JSON.parse(raw.toString('utf8')) as { format?: string; sealed?: string }
      if (doc.format !== 'ecom-keyring' || typeof doc.sealed !== 'string') throw new Error('not a keyring')
      sealed = Buffer.from(doc.sealed, 'base64')
    } catch {
      throw new KeyringFormatError(`${this.path} is not an ecom keyring file`)
    }
    try {
      return JSON.parse(open(this.#master, sealed, FILE_AAD).toString('utf8')) as State
    } catch (err) {
      if (isEcomError(err) && err instanceof KeyringDecryptError) {
        throw new KeyringMasterKeyError(`the master key does not open ${this.path} (wrong key, or the file was altered)`)
      }
      throw err
    }
  }

  #load(raw: Buffer): void {
    const s = this.#decode(raw)
    const keys = new Map<number, Buffer>()
    const hmac = new Map<number, Buffer>()
    let primary = 0
    for (const k of s.keys) {
      const key = Buffer.from(k.key, 'base64')
      keys.set(k.id, key)
      hmac.set(k.id, Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'ecom-keyring-hmac', 32)))
      if (k.status === 'primary') primary = k.id
    }
    if (primary === 0) throw new KeyringFormatError(`${this.path} has no primary key`)
    this.#state = s
    this.#keys = keys
    this.#hmac = hmac
    this.#primary = primary
    this.#lastRaw = raw
  }
}

function nextId(s: State): number {
  return Math.max(0, ...s.keys.map((k) => k.id), ...s.retired) + 1
}

/** Add a key when the interval has passed since the last promotion; promote it after the delay. */
function rotationStep(s: State, now: number, o: typeof DEFAULTS): boolean {
  const primary = s.keys.find((k) => k.status === 'primary')
  const pending = s.keys.filter((k) => k.status === 'enabled' && k.createdAt > (primary?.createdAt ?? 0)).pop()
  if (pending) {
    if (now - pending.createdAt < o.propagationDelay) return false
    for (const x of s.keys) x.status = x === pending ? 'primary' : 'enabled'
    s.rotatedAt = now
    return true
  }
  if (now - s.rotatedAt < o.rotationInterval) return false
  s.keys.push({ id: nextId(s), key: freshKey().toString('base64'), status: 'enabled', createdAt: now })
  return true
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** A URL-safe random token (base64url of `bytes` random bytes). */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16) throw new InvalidOptionError(`bytes must be an integer >= 16, got ${bytes}`)
  return randomBytes(bytes).toString('base64url')
}

/** Mask a card number for logs: first 6 and last 4 digits kept (PCI DSS), the rest as `*`. */
export function maskPan(pan: string): string {
  const digits = pan.replace(/[^0-9]/g, '')
  if (digits.length < 12) return '*'.repeat(Math.max(0, digits.length - 4)) + digits.slice(-4)
  return digits.slice(0, 6) + '*'.repeat(digits.length - 10) + digits.slice(-4)
}
