import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, runCli } from '../helpers/cli.js'
import { app, isolatedEnv } from './start-harness.js'

const env = isolatedEnv()
const run = (args: string[]) => runCli(args, { env })
const lines = (s: string) => s.trim().split('\n').filter(Boolean)

describe('ecom start: bad input gives one line and the right exit status', () => {
  let blocker: Server
  let busyPort: number

  beforeAll(async () => {
    busyPort = await freePort()
    blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(busyPort, '127.0.0.1', resolve))
  })
  afterAll(() => {
    blocker?.close()
  })

  it('unknown flag: exit 2', async () => {
    const r = await run(['start', app('plain.mjs'), '--no-such-flag'])
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain("unknown option '--no-such-flag'")
  })

  it.each([['-3'], ['many'], ['0'], ['1.5']])('bad --workers %s: exit 2 naming the option', async (w) => {
    const r = await run(['start', app('plain.mjs'), '--workers', w])
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(`options.workers must be "auto" or a positive integer, got "${w}"`)
    expect(r.stderr).toContain('ECOM_ERR_INVALID_OPTION')
  })

  it('bad --port, --grace, --max-memory and --rate-limit: exit 2', async () => {
    for (const args of [['--port', '70000'], ['--grace', 'soon'], ['--max-memory', 'lots'], ['--rate-limit', 'ten']]) {
      const r = await run(['start', app('plain.mjs'), ...args])
      expect(r.code, args.join(' ')).toBe(2)
      expect(lines(r.stderr)).toHaveLength(1)
    }
  })

  it('missing entry: exit 2', async () => {
    const r = await run(['start', app('no-such-app.mjs')])
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain('ECOM_ERR_ENTRY_NOT_FOUND')
  })

  it('missing entry argument: exit 2', async () => {
    const r = await run(['start'])
    expect(r.code).toBe(2)
    expect(lines(r.stderr)).toHaveLength(1)
  })

  it.each([['1'], ['2']])('entry that throws at import (--workers %s): exit 1, one line, no stack', async (w) => {
    const port = await freePort()
    const r = await run(['start', app('throws-at-import.mjs'), '--workers', w, '--port', String(port), '--host', '127.0.0.1'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain('threw while it was imported: database URL is not set')
    expect(r.stderr).toContain('ECOM_ERR_ENTRY_LOAD')
    expect(r.stdout).not.toMatch(/\n\s+at /)
  })

  it('entry that throws at import with --verbose: the stack too', async () => {
    const port = await freePort()
    const r = await run(['start', app('throws-at-import.mjs'), '--workers', '2', '--port', String(port), '--host', '127.0.0.1', '--verbose'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('database URL is not set')
    expect(r.stderr).toMatch(/\n\s+at .*throws-at-import\.mjs/)
  })

  it('entry that exports nothing servable: exit 1', async () => {
    const port = await freePort()
    const r = await run(['start', app('exports-nothing.mjs'), '--workers', '1', '--port', String(port), '--host', '127.0.0.1'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain('ECOM_ERR_ENTRY_SHAPE')
  })

  it.each([['1'], ['2']])('port in use (--workers %s): exit 1, one line', async (w) => {
    const r = await run(['start', app('plain.mjs'), '--workers', w, '--port', String(busyPort), '--host', '127.0.0.1'])
    expect(r.code).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
    expect(r.stderr).toContain(`port ${busyPort} on 127.0.0.1 is already in use`)
    expect(r.stderr).toContain('ECOM_ERR_PORT_IN_USE')
  })

  it('status/reload/stop with nothing running: exit 1 with one line', async () => {
    for (const cmd of ['status', 'reload', 'stop']) {
      const r = await run([cmd, '--name', 'nothing-here'])
      expect(r.code, cmd).toBe(1)
      expect(lines(r.stderr)).toHaveLength(1)
      expect(r.stderr).toContain('ECOM_ERR_APP_NOT_RUNNING')
    }
  })
})
