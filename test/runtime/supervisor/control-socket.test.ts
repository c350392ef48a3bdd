import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppAlreadyRunningError, AppAmbiguousError, AppNotRunningError, ReloadError } from '../../../src/errors.js'
import { controlDir, listApps, listenControl, selectApp, sendControl } from '../../../src/runtime/supervisor/control-socket.js'
import { tempDir } from '../../helpers/temp-dir.js'

describe('control socket', () => {
  const saved = process.env.XDG_RUNTIME_DIR
  const closers: Array<() => Promise<void>> = []
  beforeEach(() => {
    process.env.XDG_RUNTIME_DIR = tempDir('ctl')
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()))
    process.env.XDG_RUNTIME_DIR = saved
  })

  it('lives in an owner-only directory, the socket itself 0600', async () => {
    const c = await listenControl('shop', 3000, async () => 'ok')
    closers.push(c.close)
    expect(controlDir()).toBe(join(process.env.XDG_RUNTIME_DIR!, `ecom-${process.getuid!()}`))
    expect(statSync(controlDir()).mode & 0o777).toBe(0o700)
    expect(statSync(c.path).mode & 0o777).toBe(0o600)
  })

  it('tightens a directory others could enter', async () => {
    mkdirSync(controlDir(), { recursive: true })
    chmodSync(controlDir(), 0o755)
    const c = await listenControl('shop', 3001, async () => 'ok')
    closers.push(c.close)
    expect(statSync(controlDir()).mode & 0o777).toBe(0o700)
  })

  it('answers commands and carries coded errors back', async () => {
    const c = await listenControl('shop', 3002, async (cmd) => {
      if (cmd === 'reload') throw new ReloadError('no')
      return { cmd }
    })
    closers.push(c.close)
    expect(await sendControl(c.path, 'status')).toEqual({ cmd: 'status' })
    await expect(sendControl(c.path, 'reload')).rejects.toBeInstanceOf(ReloadError)
  })

  it('refuses a second primary for the same app, and replaces a stale socket', async () => {
    const c = await listenControl('shop', 3003, async () => 'ok')
    await expect(listenControl('shop', 3003, async () => 'ok')).rejects.toBeInstanceOf(AppAlreadyRunningError)
    await c.close()
    writeFileSync(c.path, '') // what a SIGKILLed primary leaves behind (a dead path)
    const again = await listenControl('shop', 3003, async () => 'again')
    closers.push(again.close)
    expect(await sendControl(again.path, 'status')).toBe('again')
  })

  it('selects an app by name or port', async () => {
    const a = await listenControl('a', 4001, async () => 'a')
    const b = await listenControl('b', 4002, async () => 'b')
    closers.push(a.close, b.close)
    expect((await listApps()).map((x) => x.name).sort()).toEqual(['a', 'b'])
    await expect(selectApp({})).rejects.toBeInstanceOf(AppAmbiguousError)
    expect((await selectApp({ name: 'b' })).port).toBe(4002)
    expect((await selectApp({ port: 4001 })).name).toBe('a')
    await expect(selectApp({ name: 'c' })).rejects.toBeInstanceOf(AppNotRunningError)
  })
})
