import { fileURLToPath } from 'node:url'
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { ManagedProcess, ProcessManager, type ProcessSpec } from '../../src/runtime/process-manager.js'

const child = fileURLToPath(new URL('../fixtures/toolkit/child.mjs', import.meta.url))
const started: ManagedProcess[] = []
function proc(mode: string, extra: Partial<ProcessSpec> = {}): ManagedProcess {
  const p = new ManagedProcess({ name: `t-${mode}`, command: process.execPath, args: [child, mode], ...extra })
  started.push(p)
  return p
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop(500)))
})

describe('ManagedProcess', () => {
  it('restarts a crashing process with exponential backoff, then gives up', async () => {
    const p = proc('crash', { backoff: 20, maxBackoff: 60, maxRestarts: 4, restartWindow: 60_000 })
    const delays: number[] = []
    p.on('restart', ({ delay }: { delay: number }) => delays.push(delay))
    const gaveUp = new Promise<Error>((r) => p.once('give-up', r))
    await p.start()
    const err = await gaveUp
    expect(err).toMatchObject({ code: 'ECOM_ERR_PROCESS_GAVE_UP', message: expect.stringContaining('t-crash') })
    expect(delays).toEqual([20, 40, 60, 60])
    expect(p.state).toBe('failed')
  })

  it('restart policy: on-failure leaves a clean exit alone, always restarts it, never does not restart', async () => {
    const clean = proc('crash', { args: [child, 'crash', '0'] })
    const cleanExit = new Promise((r) => clean.once('exit', r))
    await clean.start()
    await cleanExit
    expect(clean.state).toBe('stopped')
    const always = proc('crash', { name: 'always', args: [child, 'crash', '0'], restart: 'always', backoff: 10 })
    const restarted = new Promise((r) => always.once('restart', r))
    await always.start()
    await restarted
    await always.stop()
    const never = proc('crash', { name: 'never', restart: 'never' })
    const neverExit = new Promise((r) => never.once('exit', r))
    await never.start()
    await neverExit
    expect(never.state).toBe('stopped')
    expect(never.restarts).toBe(0)
  })

  it('pipes output lines to events and the logger', async () => {
    let logged = ''
    const logger = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { logged += c.toString(); cb() } }))
    const p = proc('lines', { restart: 'never', logger })
    const lines: Array<{ stream: string; line: string }> = []
    p.on('line', (l) => lines.push(l))
    const exited = new Promise((r) => p.once('exit', r))
    await p.start()
    await exited
    await new Promise((r) => setTimeout(r, 20))
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual(['out one', 'out two'])
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['err one'])
    const records = logged.trim().split('\n').map((l) => JSON.parse(l) as { proc: string; stream: string; msg: string; level: number })
    expect(records).toContainEqual(expect.objectContaining({ proc: 't-lines', stream: 'stderr', msg: 'err one', level: 40 }))
  })

  it('waits for a ready line, and stops gracefully with the stop signal', async () => {
    const p = proc('serve', { readyLine: /listening/ })
    const lines: string[] = []
    p.on('line', ({ line }: { line: string }) => lines.push(line))
    await p.start()
    expect(p.state).toBe('running')
    const res = await p.stop(2000)
    expect(res).toEqual({ code: 0, signal: null, forced: false })
    expect(lines).toContain('bye')
    expect(p.state).toBe('stopped')
  })

  it('kills a process that ignores the stop signal after the deadline, without restarting it', async () => {
    const p = proc('stubborn', { readyLine: /listening/ })
    const restarts: unknown[] = []
    p.on('restart', (r) => restarts.push(r))
    await p.start()
    const res = await p.stop(300)
    expect(res).toMatchObject({ signal: 'SIGKILL', forced: true })
    await new Promise((r) => setTimeout(r, 150))
    expect(restarts).toEqual([])
  })

  it('stopping during the backoff cancels the restart', async () => {
    const p = proc('crash', { backoff: 200 })
    const restarted = new Promise((r) => p.once('restart', r))
    await p.start()
    await restarted
    expect(p.state).toBe('backoff')
    await p.stop()
    await new Promise((r) => setTimeout(r, 300))
    expect(p.state).toBe('stopped')
    expect(p.restarts).toBe(1)
  })

  it('fails with coded errors: missing command, no ready line in time', async () => {
    const missing = new ManagedProcess({ name: 'ghost', command: '/nonexistent/bin/ghost' })
    await expect(missing.start()).rejects.toMatchObject({ code: 'ECOM_ERR_PROCESS_START', message: expect.stringContaining('ghost') })
    const silent = proc('quiet', { readyLine: /never/, readyTimeout: 200 })
    await expect(silent.start()).rejects.toMatchObject({ code: 'ECOM_ERR_PROCESS_START' })
    expect(silent.state).toBe('failed')
  })

  it('a ProcessManager starts and stops its processes together', async () => {
    const pm = new ProcessManager()
    const a = pm.add({ name: 'a', command: process.execPath, args: [child, 'serve'], readyLine: /listening/ })
    const b = pm.add({ name: 'b', command: process.execPath, args: [child, 'serve'], readyLine: /listening/ })
    expect(() => pm.add({ name: 'a', command: 'x' })).toThrow(/already managed/)
    await pm.startAll()
    expect([a.state, b.state]).toEqual(['running', 'running'])
    await pm.stopAll(2000)
    expect([a.state, b.state]).toEqual(['stopped', 'stopped'])
  })
})
