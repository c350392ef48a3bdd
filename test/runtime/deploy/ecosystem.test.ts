import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../../src/errors.js'
import { buildEcosystem, KILL_MARGIN_MS, locateEcomBin, renderEcosystem, resolveEcosystemOptions } from '../../../src/runtime/deploy/ecosystem.js'

describe('PM2 ecosystem options', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-eco-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('fills defaults: one fork-mode app, ecom workers auto, kill timeout past the grace', () => {
    const o = resolveEcosystemOptions({ entry: 'src/server.ts', cwd: dir, pkgName: '@acme/shop' })
    expect(o).toMatchObject({ name: 'shop', workers: 'auto', port: 3000, bind: '0.0.0.0', graceMs: 10_000, primaryMaxMemory: '512M', hosts: [], ref: 'origin/main' })
    const app = (buildEcosystem(o).apps as Array<Record<string, unknown>>)[0]!
    expect(app).toMatchObject({ exec_mode: 'fork', instances: 1, kill_timeout: 10_000 + KILL_MARGIN_MS, treekill: false })
    expect(app.args).toEqual(['start', 'src/server.ts', '--name', 'shop', '--workers', 'auto', '--port', '3000', '--host', '0.0.0.0', '--grace', '10000ms'])
  })

  it('an absolute entry is written relative to the app folder; the cwd follows the file', () => {
    const o = resolveEcosystemOptions({ entry: join(dir, 'app.ts'), cwd: dir })
    expect(o.entry).toBe('app.ts')
    const text = renderEcosystem(buildEcosystem(o), o)
    expect(text).toContain('"cwd": __dirname')
    expect(text).not.toContain(dir)
  })

  it('prefers the app\'s own node_modules/.bin/ecom, so the file is portable across hosts', () => {
    expect(locateEcomBin(dir)).toMatch(/bin\/ecom\.js$/)
    mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true })
    writeFileSync(join(dir, 'node_modules/.bin/ecom'), '')
    expect(locateEcomBin(dir)).toBe('node_modules/.bin/ecom')
  })

  it('collects every problem into one InvalidOptionError', () => {
    let err: InvalidOptionError | undefined
    try {
      resolveEcosystemOptions({ entry: 'a.ts', cwd: dir, grace: 'soon', maxMemory: 'lots', repo: 'git@x:y.git' })
    } catch (e) {
      err = e as InvalidOptionError
    }
    expect(err).toBeInstanceOf(InvalidOptionError)
    expect(err!.details!.problems).toEqual([
      '--grace must be a duration such as "10s" or "1500ms", got "soon"',
      '--repo and --path need --host user@h1[,user@h2]',
      '--max-memory must be a size such as "512M" or "1G", got "lots"',
    ])
  })

  it('checks the edge flags it passes to ecom start, so a bad one fails before PM2 runs the app', () => {
    const ok = resolveEcosystemOptions({ entry: 'a.ts', cwd: dir, rateLimit: '20/10s', rateLimitHeaders: 'near-limit', trustProxy: true, startArgs: ['--access-log'] })
    expect(ok.startArgs).toEqual(['--rate-limit', '20/10s', '--rate-limit-headers', 'near-limit', '--trust-proxy', '--access-log'])
    const app = (buildEcosystem(ok).apps as Array<{ args: string[] }>)[0]!
    expect(app.args.slice(-6)).toEqual(ok.startArgs)
    let err: InvalidOptionError | undefined
    try {
      resolveEcosystemOptions({ entry: 'a.ts', cwd: dir, rateLimit: 'lots', rateLimitHeaders: 'always', redis: 'localhost:6379' })
    } catch (e) {
      err = e as InvalidOptionError
    }
    expect(err!.details!.problems).toEqual([
      '--rate-limit must be "<requests>/<window>" such as "100/1m", got "lots"',
      '--redis must be a redis:// or rediss:// URL, got "localhost:6379"',
    ])
    expect(() => resolveEcosystemOptions({ entry: 'a.ts', cwd: dir, rateLimitHeaders: 'always' })).toThrow('--rate-limit-headers must be used together with --rate-limit, got "always"')
  })
})
