import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { SafeFs } from '../../src/runtime/safe-fs.js'
import { render } from '../fixtures/toolkit/fs-writer.js'

const fixture = fileURLToPath(new URL('../fixtures/toolkit/fs-writer.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ecom-safe-fs-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function child(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
}

function waitFor(proc: ReturnType<typeof child>, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = ''
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes(word)) resolve()
    })
    proc.once('exit', (code) => reject(new Error(`child exited with ${code} before "${word}"`)))
  })
}

describe('SafeFs', () => {
  it('writes atomically and leaves no temp files', async () => {
    const fs = new SafeFs()
    const p = join(dir, 'a.json')
    await fs.writeJson(p, { a: 1 })
    expect(await fs.readJson(p)).toEqual({ a: 1 })
    await fs.writeFile(p, 'hello')
    expect(readFileSync(p, 'utf8')).toBe('hello')
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([])
  })

  it('serialises concurrent writes to one path in a process', async () => {
    const fs = new SafeFs({ backups: 0 })
    const p = join(dir, 'counter.json')
    await Promise.all(
      Array.from({ length: 40 }, () =>
        fs.update(p, (cur) => JSON.stringify({ n: (cur ? JSON.parse(cur.toString()).n : 0) + 1 }))
      )
    )
    expect(await fs.readJson(p)).toEqual({ n: 40 })
  })

  it('keeps N backup generations and rolls back to one', async () => {
    const fs = new SafeFs({ backups: 3 })
    const p = join(dir, 'gen.txt')
    for (let i = 1; i <= 5; i++) await fs.writeFile(p, `v${i}`)
    expect(await fs.backups(p)).toEqual([1, 2, 3])
    expect(readFileSync(`${p}.bak.1`, 'utf8')).toBe('v4')
    expect(readFileSync(`${p}.bak.3`, 'utf8')).toBe('v2')
    await fs.rollback(p, 2)
    expect((await fs.readFile(p)).toString()).toBe('v3')
    // The rollback is a write: the version it replaced is generation 1 now.
    expect(readFileSync(`${p}.bak.1`, 'utf8')).toBe('v5')
    await expect(fs.rollback(p, 9)).rejects.toMatchObject({ code: 'ECOM_ERR_FS_NO_BACKUP', message: expect.stringContaining(p) })
    // One generation: each write replaces it, as a hard link to the version it replaced (not a copy).
    const one = new SafeFs({ backups: 1 })
    const q = join(dir, 'one.txt')
    await one.writeFile(q, 'w1')
    await one.writeFile(q, 'w2')
    const replaced = statSync(q).ino
    await one.writeFile(q, 'w3')
    expect(await one.backups(q)).toEqual([1])
    expect(readFileSync(`${q}.bak.1`, 'utf8')).toBe('w2')
    expect(statSync(`${q}.bak.1`).ino).toBe(replaced)
  })

  it('rolls back a write whose JSON does not parse or whose validator fails', async () => {
    const fs = new SafeFs()
    const p = join(dir, 'valid.json')
    await fs.writeJson(p, { ok: true })
    await expect(fs.writeFile(p, '{"broken', { json: true })).rejects.toMatchObject({
      code: 'ECOM_ERR_FS_VALIDATION',
      message: expect.stringContaining(p),
    })
    await expect(
      fs.writeFile(p, '{"ok":false}', { validate: (b) => JSON.parse(b.toString()).ok === true })
    ).rejects.toMatchObject({ code: 'ECOM_ERR_FS_VALIDATION' })
    expect(JSON.parse(readFileSync(p, 'utf8'))).toEqual({ ok: true })
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('caches reads, invalidated by its own writes and by a changed file', async () => {
    const fs = new SafeFs({ cacheTtl: 60_000 })
    const p = join(dir, 'cached.txt')
    await fs.writeFile(p, 'one')
    const a = await fs.readFile(p)
    expect(await fs.readFile(p)).toBe(a) // same Buffer: served from memory
    await fs.writeFile(p, 'two')
    expect((await fs.readFile(p)).toString()).toBe('two')
    // Someone else changes the file behind our back (different size, then same size with new mtime).
    writeFileSync(p, 'three')
    expect((await fs.readFile(p)).toString()).toBe('three')
    writeFileSync(p, 'four!')
    const t = new Date(statSync(p).mtimeMs + 5000)
    utimesSync(p, t, t)
    expect((await fs.readFile(p)).toString()).toBe('four!')
  })

  it('names the path in coded errors', async () => {
    const fs = new SafeFs()
    const p = join(dir, 'missing', 'x.json')
    await expect(fs.readFile(p)).rejects.toMatchObject({ code: 'ECOM_ERR_FS_READ', message: expect.stringContaining(p) })
    await expect(fs.writeFile(p, 'x')).rejects.toMatchObject({ code: 'ECOM_ERR_FS_WRITE', message: expect.stringContaining(p) })
  })

  it('breaks a lock left by a dead process, and times out on a live holder', async () => {
    const fs = new SafeFs({ lockTimeout: 300 })
    const p = join(dir, 'locked.txt')
    writeFileSync(`${p}.lock`, '999999999\n') // no such pid
    await fs.writeFile(p, 'after stale lock')
    expect(readFileSync(p, 'utf8')).toBe('after stale lock')
    writeFileSync(`${p}.lock`, `${process.ppid}\n`) // alive, fresh
    await expect(fs.writeFile(p, 'x')).rejects.toMatchObject({ code: 'ECOM_ERR_FS_LOCK_TIMEOUT', message: expect.stringContaining(p) })
    rmSync(`${p}.lock`)
  })

  it('two processes incrementing the same file lose no update', async () => {
    const p = join(dir, 'shared.json')
    const a = child(['increment', p, '60'])
    const b = child(['increment', p, '60'])
    await Promise.all([waitFor(a, 'done'), waitFor(b, 'done')])
    expect(JSON.parse(readFileSync(p, 'utf8'))).toEqual({ n: 120 })
  })

  it('survives 50 random SIGKILLs of a writer: the file always parses and is an old or the new version', async () => {
    const p = join(dir, 'crash.json')
    let lastSeq = 0
    for (let i = 0; i < 50; i++) {
      const proc = child(['loop', p])
      await waitFor(proc, 'ready')
      await new Promise((r) => setTimeout(r, Math.random() * 40))
      const exited = new Promise((r) => proc.once('exit', r))
      proc.kill('SIGKILL')
      await exited
      const doc = JSON.parse(readFileSync(p, 'utf8')) as { seq: number }
      expect(doc).toEqual(JSON.parse(render(doc.seq)))
      expect(doc.seq).toBeGreaterThanOrEqual(lastSeq)
      lastSeq = doc.seq
    }
    expect(lastSeq).toBeGreaterThan(50)
  }, 120_000)
})
