import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { link, readFile, rename, stat, unlink, utimes } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { debuglog } from 'node:util'
import { SafeFsLockTimeoutError } from '../../errors.js'

const debug = debuglog('ecom')

export interface LockOptions {
  /** Give up after this many ms of waiting for another live holder. */
  timeout: number
  /** A lock whose holder is dead, or whose mtime is older than this many ms, is broken. */
  stale: number
}

export interface HeldLock {
  release(): Promise<void>
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Cross-process lock: `<path>.lock` created with O_EXCL holding the owner's pid. The owner touches its
 * mtime while it holds it (heartbeat), so a lock left behind by a SIGKILLed holder is recognised
 * either by its dead pid or by its old mtime, and broken.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const lockPath = `${path}.lock`
  const deadline = Date.now() + options.timeout
  let delay = 2
  for (;;) {
    try {
      // Synchronous on purpose: three tiny syscalls cost less than three thread-pool round trips.
      const fd = openSync(lockPath, 'wx', 0o600)
      try {
        writeSync(fd, `${process.pid}\n`)
      } finally {
        closeSync(fd)
      }
      return heldLock(lockPath, options.stale)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    if (await breakIfStale(lockPath, options.stale)) continue
    if (Date.now() >= deadline) {
      throw new SafeFsLockTimeoutError(`timed out after ${options.timeout} ms waiting for the lock on ${path}`, {
        details: { path },
      })
    }
    await sleep(delay + Math.random() * delay)
    delay = Math.min(delay * 2, 50)
  }
}

function heldLock(lockPath: string, stale: number): HeldLock {
  const beat = setInterval(() => {
    const now = new Date()
    utimes(lockPath, now, now).catch(() => {})
  }, Math.max(50, Math.floor(stale / 3)))
  beat.unref()
  let released = false
  return {
    async release() {
      if (released) return
      released = true
      clearInterval(beat)
      try {
        unlinkSync(lockPath)
      } catch {}
    },
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  let before
  let pid: number
  try {
    before = await stat(lockPath)
    pid = Number.parseInt((await readFile(lockPath, 'utf8')).trim(), 10)
  } catch (err) {
    // Gone between our open and now: try again at once.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw err
  }
  // An empty file is a holder that died between create and write; give it the stale period.
  const dead = Number.isNaN(pid) ? Date.now() - before.mtimeMs > staleMs : !pidAlive(pid)
  const old = Date.now() - before.mtimeMs > staleMs
  if (!dead && !old) return false
  // Rename, not unlink: only one breaker wins, and the winner checks it took the file it judged.
  const aside = `${lockPath}.stale-${randomBytes(6).toString('hex')}`
  try {
    await rename(lockPath, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true
    throw err
  }
  const taken = await stat(aside)
  if (taken.ino !== before.ino) {
    // Someone else broke it and a new holder arrived: put the new holder's lock back.
    await link(aside, lockPath).catch(() => {})
  } else {
    debug('safe-fs: broke stale lock %s (pid %d)', lockPath, pid)
  }
  await unlink(aside).catch(() => {})
  return true
}
