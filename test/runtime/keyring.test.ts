import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { inspect, promisify } from 'node:util'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Keyring, maskPan, randomToken } from '../../src/runtime/keyring.js'
import { open as openSealed } from '../../src/runtime/keyring/format.js'
import pino from 'pino'
import { SafeFs } from '../../src/runtime/safe-fs.js'

const dir = mkdtempSync(join(tmpdir(), 'ecom-keyring-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const master = randomBytes(32)
const masterB64 = master.toString('base64')
const fs = new SafeFs({ backups: 0 })
let n = 0
const fresh = () => join(dir, `ring-${n++}.json`)
const opened: Keyring[] = []
async function ring(extra: Partial<Parameters<typeof Keyring.open>[0]> = {}): Promise<Keyring> {
  const kr = await Keyring.open({ path: fresh(), masterKey: master, safeFs: fs, autoRotate: false, ...extra })
  opened.push(kr)
  return kr
}
afterEach(() => { for (const k of opened.splice(0)) k.close() })

const KEYRING_CODES = ['ECOM_ERR_KEYRING_DECRYPT', 'ECOM_ERR_KEYRING_FORMAT', 'ECOM_ERR_KEYRING_UNKNOWN_KEY']

/** Every key in a keyring file, in every encoding a leak could take. */
function materials(path: string): string[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { sealed: string }
  const state = JSON.parse(openSealed(master, Buffer.from(doc.sealed, 'base64'), Buffer.from('ecom-keyring-file-v1')).toString()) as {
    keys: Array<{ key: string }>
  }
  const out: string[] = []
  for (const buf of [master, ...state.keys.map((k) => Buffer.from(k.key, 'base64'))]) {
    out.push(buf.toString('base64'), buf.toString('hex'), buf.toString('base64url'), buf.toString('latin1'))
  }
  return out
}

describe('Keyring', () => {
  it('encrypts with the header and caller AAD bound into the tag', async () => {
    const kr = await ring()
    const ct = kr.encrypt('4111111111111111', 'order-1')
    expect(ct[0]).toBe(1)
    expect(ct.readUInt32BE(1)).toBe(kr.primaryId)
    expect(ct.length).toBe(17 + 16 + 16)
    expect(kr.decrypt(ct, 'order-1').toString()).toBe('4111111111111111')
    expect(() => kr.decrypt(ct, 'order-2')).toThrow(expect.objectContaining({ code: 'ECOM_ERR_KEYRING_DECRYPT' }))
    expect(() => kr.decrypt(ct)).toThrow(expect.objectContaining({ code: 'ECOM_ERR_KEYRING_DECRYPT' }))
    expect(() => kr.decrypt(ct.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'ECOM_ERR_KEYRING_FORMAT' }))
  })

  it('rejects a change of any byte at any position with a coded error', async () => {
    const kr = await ring()
    const ct = kr.encrypt(randomBytes(64), 'aad')
    for (let i = 0; i < ct.length; i++) {
      for (const flip of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(ct)
        bad[i]! ^= flip
        let code: string | undefined
        try {
          kr.decrypt(bad, 'aad')
        } catch (err) {
          code = (err as { code: string }).code
        }
        expect(KEYRING_CODES, `byte ${i} ^ ${flip}`).toContain(code)
      }
    }
  })

  it('decrypts data under 30 generations of keys, re-encrypts it, and forgets retired keys', async () => {
    const kr = await ring()
    const items: Array<{ ct: Buffer; text: string }> = []
    for (let g = 0; g < 30; g++) {
      const text = `generation ${g}`
      items.push({ ct: kr.encrypt(text, `id-${g}`), text })
      await kr.promote(await kr.addKey())
    }
    expect(kr.primaryId).toBe(31)
    expect(new Set(items.map((i) => i.ct.readUInt32BE(1))).size).toBe(30)
    for (const [g, { ct, text }] of items.entries()) expect(kr.decrypt(ct, `id-${g}`).toString()).toBe(text)
    const moved = kr.reencrypt(items[0]!.ct, 'id-0')
    expect(moved.readUInt32BE(1)).toBe(31)
    expect(kr.reencrypt(moved, 'id-0').equals(moved)).toBe(true)
    await kr.retire(1)
    expect(() => kr.decrypt(items[0]!.ct, 'id-0')).toThrow(expect.objectContaining({ code: 'ECOM_ERR_KEYRING_UNKNOWN_KEY', message: 'key 1 is retired' }))
    expect(kr.decrypt(moved, 'id-0').toString()).toBe('generation 0')
    await expect(kr.retire(31)).rejects.toMatchObject({ code: 'ECOM_ERR_KEYRING_STATE' })
    await expect(kr.promote(1)).rejects.toMatchObject({ code: 'ECOM_ERR_KEYRING_STATE' })
  })

  it('a second process opening the file sees the same keys (file encrypted under the master key)', async () => {
    const a = await ring()
    const b = await Keyring.open({ path: a.path, masterKey: master, safeFs: new SafeFs(), autoRotate: false })
    opened.push(b)
    expect(b.decrypt(a.encrypt('x')).toString()).toBe('x')
    expect(readFileSync(a.path, 'utf8')).not.toContain('"keys"')
    expect(statSync(a.path).mode & 0o777).toBe(0o600)
    await expect(Keyring.open({ path: a.path, masterKey: randomBytes(32), autoRotate: false })).rejects.toMatchObject({
      code: 'ECOM_ERR_KEYRING_MASTER_KEY',
    })
  })

  it('rotates on schedule: add, then promote after the propagation delay', async () => {
    const kr = await ring({ rotationInterval: 1000, propagationDelay: 500 })
    const t0 = Date.now()
    await kr.rotateIfDue(t0 + 100)
    expect(kr.keys()).toHaveLength(1)
    await kr.rotateIfDue(t0 + 1100)
    expect(kr.keys().map((k) => [k.id, k.status])).toEqual([[1, 'primary'], [2, 'enabled']])
    await kr.rotateIfDue(t0 + 1200) // still propagating
    expect(kr.primaryId).toBe(1)
    await kr.rotateIfDue(t0 + 1700)
    expect(kr.primaryId).toBe(2)
  })

  describe('master key', () => {
    let saved: string | undefined
    beforeEach(() => { saved = process.env.ECOM_MASTER_KEY; delete process.env.ECOM_MASTER_KEY })
    afterEach(() => { if (saved === undefined) delete process.env.ECOM_MASTER_KEY; else process.env.ECOM_MASTER_KEY = saved })

    it('comes from ECOM_MASTER_KEY (base64 or hex)', async () => {
      process.env.ECOM_MASTER_KEY = masterB64
      const kr = await Keyring.open({ path: fresh(), autoRotate: false })
      opened.push(kr)
      process.env.ECOM_MASTER_KEY = master.toString('hex')
      const again = await Keyring.open({ path: kr.path, autoRotate: false })
      opened.push(again)
      expect(again.decrypt(kr.encrypt('hi')).toString()).toBe('hi')
    })

    it('comes from a key file only when its mode is 0600', async () => {
      const file = join(dir, 'master.key')
      writeFileSync(file, `${masterB64}\n`)
      chmodSync(file, 0o644)
      await expect(Keyring.open({ path: fresh(), masterKeyFile: file })).rejects.toMatchObject({
        code: 'ECOM_ERR_KEYRING_KEY_FILE_MODE',
        message: expect.stringContaining('0644'),
      })
      chmodSync(file, 0o600)
      const kr = await Keyring.open({ path: fresh(), masterKeyFile: file, autoRotate: false })
      opened.push(kr)
      expect(kr.decrypt(kr.encrypt('ok')).toString()).toBe('ok')
    })

    it('is required, and a malformed one is refused without echoing it', async () => {
      await expect(Keyring.open({ path: fresh() })).rejects.toMatchObject({ code: 'ECOM_ERR_KEYRING_MASTER_KEY' })
      process.env.ECOM_MASTER_KEY = 'c2VjcmV0LXRvby1zaG9ydA=='
      const err = await Keyring.open({ path: fresh() }).catch((e: Error) => e)
      expect(err).toMatchObject({ code: 'ECOM_ERR_KEYRING_MASTER_KEY' })
      expect((err as Error).message).not.toContain('c2VjcmV0')
    })
  })

  it('never lets key material reach logs, inspect, JSON or error messages', async () => {
    let logged = ''
    const stream = new Writable({ write(chunk, _e, cb) { logged += chunk.toString(); cb() } })
    const kr = await ring({ logger: pino({ level: 'debug' }, stream) })
    await kr.promote(await kr.addKey())
    await kr.retire(1)
    const texts: string[] = [logged, inspect(kr, { depth: 10, showHidden: true }), JSON.stringify(kr)]
    const failures: Array<() => unknown> = [
      () => kr.decrypt(Buffer.alloc(60, 1)),
      () => kr.decrypt(kr.encrypt('x'), 'wrong'),
      () => kr.promote(99),
      () => Keyring.open({ path: kr.path, masterKey: randomBytes(32) }),
    ]
    for (const f of failures) {
      try {
        await f()
      } catch (err) {
        texts.push((err as Error).message, (err as Error).stack ?? '', inspect(err, { depth: 10 }), JSON.stringify(err))
      }
    }
    expect(logged).toContain('keyring: key promoted')
    for (const secret of materials(kr.path)) for (const t of texts) expect(t.includes(secret)).toBe(false)
  })

  it('signs and verifies with key ids, across rotation', async () => {
    const kr = await ring()
    const sig = kr.sign('payload')
    expect(sig).toMatch(/^1\.[A-Za-z0-9_-]{43}$/)
    expect(kr.verify('payload', sig)).toBe(true)
    expect(kr.verify('payload!', sig)).toBe(false)
    expect(kr.verify('payload', `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`)).toBe(false)
    expect(kr.verify('payload', 'garbage')).toBe(false)
    await kr.promote(await kr.addKey())
    expect(kr.sign('payload')).toMatch(/^2\./)
    expect(kr.verify('payload', sig)).toBe(true)
    await kr.retire(1)
    expect(kr.verify('payload', sig)).toBe(false)
  })

  it('has payment helpers: card tokens bound to an order, PAN masking, random tokens', async () => {
    const kr = await ring()
    const sealed = kr.encryptCardToken('tok_visa_123', 'order-9')
    expect(sealed).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(kr.decryptCardToken(sealed, 'order-9')).toBe('tok_visa_123')
    expect(() => kr.decryptCardToken(sealed, 'order-10')).toThrow(expect.objectContaining({ code: 'ECOM_ERR_KEYRING_DECRYPT' }))
    expect(maskPan('4111 1111 1111 1111')).toBe('411111******1111')
    expect(maskPan('378282246310005')).toBe('378282*****0005')
    expect(maskPan('12345')).toBe('*2345')
    const t = randomToken()
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(randomToken()).not.toBe(t)
  })

  it('rotation is seen by two cluster workers sharing one keyring file', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/toolkit/keyring-cluster.ts', import.meta.url))
    const path = fresh()
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, path, '3000'], {
      env: { ...process.env, ECOM_MASTER_KEY: masterB64 },
      timeout: 30_000,
    })
    const s = JSON.parse(stdout.trim().split('\n').pop()!) as {
      sent: number; decrypted: number; failures: string[]; primaries: Record<string, number[]>
      final: Array<{ primaryId: number; keys: Array<{ id: number; createdAt: number; status: string }> }>
    }
    expect(s.failures).toEqual([])
    expect(s.sent).toBeGreaterThan(20)
    expect(s.decrypted).toBeGreaterThan(20)
    // Both workers encrypted under several successive primaries, in the same order.
    expect(s.primaries['1']!.length).toBeGreaterThanOrEqual(3)
    for (const seen of Object.values(s.primaries)) expect(seen).toEqual([...seen].sort((a, b) => a - b))
    const [a, b] = s.final
    expect(a!.primaryId).toBe(b!.primaryId)
    expect(a!.keys).toEqual(b!.keys)
    // One key per rotation: ids contiguous, and each added only after interval + delay from the previous one.
    expect(a!.keys.map((k) => k.id)).toEqual(a!.keys.map((_, i) => i + 1))
    for (let i = 1; i < a!.keys.length; i++) {
      expect(a!.keys[i]!.createdAt - a!.keys[i - 1]!.createdAt).toBeGreaterThanOrEqual(300)
    }
  }, 40_000)
})
