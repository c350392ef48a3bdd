import { constants } from 'node:fs'
import { copyFile, link, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join, resolve } from 'node:path'
import {
  InvalidOptionError,
  SafeFsNoBackupError,
  SafeFsReadError,
  SafeFsValidationError,
  SafeFsWriteError,
  isEcomError,
} from '../errors.js'
import { acquireLock, type HeldLock } from './safe-fs/lock.js'

export interface SafeFsOptions {
  /** Backup generations kept per file (`<path>.bak.1` is the newest). @default 3 */
  backups?: number
  /** How long a read may be served from memory before the file is read again, in ms. @default 1000 */
  cacheTtl?: number
  /** How long to wait for another process's lock, in ms. @default 10000 */
  lockTimeout?: number
  /** A lock whose holder is dead or has not refreshed it for this long is broken, in ms. @default 10000 */
  staleLock?: number
  /** fsync the directory after the rename so the new name survives a power cut. @default true */
  fsyncDirectory?: boolean
}

export interface WriteOptions {
  /** Throw or return false to reject the content; the previous version stays in place. */
  validate?: (content: Buffer) => unknown
  /** Refuse content that is not valid JSON. Implied by `writeJson`. @default false */
  json?: boolean
  /** File mode of a newly created file. @default 0o644 */
  mode?: number
}

const DEFAULTS: Required<SafeFsOptions> = {
  backups: 3,
  cacheTtl: 1000,
  lockTimeout: 10_000,
  staleLock: 10_000,
  fsyncDirectory: true,
}

interface CacheEntry {
  content: Buffer
  mtimeMs: number
  size: number
  ino: number
  expires: number
}

function checkInt(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(`options.${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * Crash-safe file writes for config, keyrings and state files shared by cluster workers: each write
 * goes to a temp file in the same directory, is fsynced and renamed over the target, so a reader (or a
 * process that restarts after SIGKILL) sees the old or the new content, never a mix.
 */
export class SafeFs {
  readonly options: Readonly<Required<SafeFsOptions>>
  readonly #chains = new Map<string, Promise<unknown>>()
  readonly #cache = new Map<string, CacheEntry>()

  constructor(options: SafeFsOptions = {}) {
    const o = { ...DEFAULTS, ...options }
    checkInt('backups', o.backups, 0)
    checkInt('cacheTtl', o.cacheTtl, 0)
    checkInt('lockTimeout', o.lockTimeout, 0)
    checkInt('staleLock', o.staleLock, 1)
    if (typeof o.fsyncDirectory !== 'boolean') {
      throw new InvalidOptionError(`options.fsyncDirectory must be a boolean, got ${JSON.stringify(o.fsyncDirectory)}`)
    }
    this.options = Object.freeze(o)
  }

  /** Read a file, from the cache when it is fresh and the file's mtime, size and inode are unchanged. */
  async readFile(path: string): Promise<Buffer> {
    const abs = resolve(path)
    try {
      const st = await stat(abs)
      const hit = this.#cache.get(abs)
      if (hit && hit.expires > Date.now() && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.ino === st.ino) {
        return hit.content
      }
      const content = await readFile(abs)
      this.#remember(abs, content, st)
      return content
    } catch (err) {
      throw new SafeFsReadError(`cannot read ${abs}: ${(err as Error).message}`, { cause: err, details: { path: abs } })
    }
  }

  async readJson<T = unknown>(path: string): Promise<T> {
    const content = await this.readFile(path)
    try {
      return JSON.parse(content.toString('utf8')) as T
    } catch (err) {
      throw new SafeFsReadError(`${resolve(path)} is not valid JSON: ${(err as Error).message}`, {
        cause: err,
        details: { path: resolve(path) },
      })
    }
  }

  /** Atomically replace the file's content. Serialised per path in this process, locked across processes. */
  writeFile(path: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    const abs = resolve(path)
    return this.#serial(abs, async () => {
      const lock = await this.#lock(abs)
      try {
        await this.#commit(abs, Buffer.from(content), options)
      } finally {
        await lock.release()
      }
    })
  }

  writeJson(path: string, value: unknown, options: WriteOptions = {}): Promise<void> {
    return this.writeFile(path, `${JSON.stringify(value, null, 2)}\n`, { ...options, json: true })
  }

  /**
   * Read-modify-write under the lock: `fn` gets the current content (undefined when the file does not
   * exist) and returns the new one, or undefined to leave the file alone.
   */
  update(
    path: string,
    fn: (current: Buffer | undefined) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>,
    options: WriteOptions = {}
  ): Promise<void> {
    const abs = resolve(path)
    return this.#serial(abs, async () => {
      const lock = await this.#lock(abs)
      try {
        const current = await readFile(abs).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return undefined
          throw new SafeFsReadError(`cannot read ${abs}: ${err.message}`, { cause: err, details: { path: abs } })
        })
        const next = await fn(current)
        if (next !== undefined) await this.#commit(abs, Buffer.from(next), options)
      } finally {
        await lock.release()
      }
    })
  }

  /** Backup generations that exist for the file, newest (1) first. */
  async backups(path: string): Promise<number[]> {
    const abs = resolve(path)
    const found: number[] = []
    for (let g = 1; g <= this.options.backups; g++) {
      if (await stat(backupPath(abs, g)).then(() => true, () => false)) found.push(g)
    }
    return found
  }

  /**
   * Restore backup `generation` (1 = the version before the current one). The restore is itself a
   * write, so the version it replaces becomes generation 1 and the restore can be undone.
   */
  rollback(path: string, generation = 1): Promise<void> {
    const abs = resolve(path)
    return this.#serial(abs, async () => {
      const lock = await this.#lock(abs)
      try {
        let content: Buffer
        try {
          content = await readFile(backupPath(abs, generation))
        } catch (err) {
          throw new SafeFsNoBackupError(`no backup generation ${generation} of ${abs}`, {
            cause: err,
            details: { path: abs, generation },
          })
        }
        await this.#commit(abs, content, {})
      } finally {
        await lock.release()
      }
    })
  }

  /** Forget cached reads (all, or one path). */
  invalidate(path?: string): void {
    if (path === undefined) this.#cache.clear()
    else this.#cache.delete(resolve(path))
  }

  async #lock(abs: string): Promise<HeldLock> {
    try {
      return await acquireLock(abs, { timeout: this.options.lockTimeout, stale: this.options.staleLock })
    } catch (err) {
      if (isEcomError(err)) throw err
      throw new SafeFsWriteError(`cannot lock ${abs}: ${(err as Error).message}`, { cause: err, details: { path: abs } })
    }
  }

  #serial<T>(abs: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#chains.get(abs) ?? Promise.resolve()
    const run = prev.then(fn, fn)
    const tail = run.catch(() => {})
    this.#chains.set(abs, tail)
    void tail.then(() => {
      if (this.#chains.get(abs) === tail) this.#chains.delete(abs)
    })
    return run
  }

  #remember(abs: string, content: Buffer, st: { mtimeMs: number; size: number; ino: number }): void {
    if (this.options.cacheTtl === 0) return
    this.#cache.set(abs, { content, mtimeMs: st.mtimeMs, size: st.size, ino: st.ino, expires: Date.now() + this.options.cacheTtl })
  }

  async #commit(abs: string, content: Buffer, options: WriteOptions): Promise<void> {
    this.#cache.delete(abs)
    const dir = dirname(abs)
    const tmp = join(dir, `.${basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
    try {
      const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode ?? 0o644)
      try {
        let off = 0
        while (off < content.length) off += (await fh.write(content, off, content.length - off, off)).bytesWritten
        await fh.sync()
      } finally {
        await fh.close()
      }
      // Validate the bytes as they are on disk, before they can replace anything.
      if (options.validate || options.json) await validate(abs, await readFile(tmp), options)
      await this.#rotateBackups(abs)
      await rename(tmp, abs)
      if (this.options.fsyncDirectory) await fsyncDir(dir)
    } catch (err) {
      await unlink(tmp).catch(() => {})
      if (isEcomError(err)) throw err
      throw new SafeFsWriteError(`cannot write ${abs}: ${(err as Error).message}`, { cause: err, details: { path: abs } })
    }
  }

  async #rotateBackups(abs: string): Promise<void> {
    const n = this.options.backups
    if (n === 0) return
    // rename() replaces its target atomically, so the oldest generation needs no unlink first; with a
    // single generation nothing is renamed, and link() below needs its name free.
    if (n === 1) await unlink(backupPath(abs, 1)).catch(() => {})
    for (let g = n - 1; g >= 1; g--) {
      await rename(backupPath(abs, g), backupPath(abs, g + 1)).catch(() => {})
    }
    // A hard link keeps the current inode alive as generation 1 once the new file is renamed over it.
    await link(abs, backupPath(abs, 1)).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return
      // File systems without hard links: copy instead.
      await copyFile(abs, backupPath(abs, 1)).catch(() => {})
    })
  }
}

export function backupPath(abs: string, generation: number): string {
  return `${abs}.bak.${generation}`
}

async function validate(abs: string, content: Buffer, options: WriteOptions): Promise<void> {
  let problem: string | undefined
  try {
    if (options.json) JSON.parse(content.toString('utf8'))
    if (options.validate && (await options.validate(content)) === false) problem = 'the validator returned false'
  } catch (err) {
    problem = (err as Error).message
  }
  if (problem !== undefined) {
    throw new SafeFsValidationError(`write to ${abs} rolled back: ${problem}`, { details: { path: abs } })
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } catch (err) {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic there.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err
  } finally {
    await fh.close()
  }
}

let shared: SafeFs | undefined
/** The process-wide instance with default options (serialisation is per instance, so share it). */
export function getSafeFs(): SafeFs {
  shared ??= new SafeFs()
  return shared
}
