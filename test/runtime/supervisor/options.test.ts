import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from '../../../src/errors.js'
import { EDGE_DEFAULTS, parseDuration, parseRateLimit, parseSize, resolveStartOptions } from '../../../src/runtime/supervisor/options.js'

describe('start options', () => {
  it('fills defaults', () => {
    const o = resolveStartOptions({ entry: 'shop/app.ts' })
    expect(o.name).toBe('app')
    expect(o.workers).toBe(availableParallelism())
    expect(o).toMatchObject({ port: 3000, host: '0.0.0.0', maxMemory: null, graceMs: 10_000, crashLimit: 10, envFile: null })
    expect(o.edge).toEqual(EDGE_DEFAULTS)
  })

  it('parses sizes, durations and quotas', () => {
    expect(parseSize('512mb', 'x')).toBe(512 * 1024 * 1024)
    expect(parseSize('1g', 'x')).toBe(1024 ** 3)
    expect(parseSize('4096', 'x')).toBe(4096)
    expect(parseDuration('10s', 'x')).toBe(10_000)
    expect(parseDuration('250ms', 'x')).toBe(250)
    expect(parseDuration('1.5m', 'x')).toBe(90_000)
    expect(parseRateLimit('100/1m')).toEqual({ limit: 100, windowMs: 60_000 })
  })

  it.each([
    [{ workers: '-3' }, 'options.workers must be "auto" or a positive integer, got "-3"'],
    [{ workers: 'x' }, 'options.workers must be "auto" or a positive integer, got "x"'],
    [{ port: '99999' }, 'options.port must be an integer from 0 to 65535, got "99999"'],
    [{ grace: 'later' }, 'options.grace must be a duration such as "10s", "500ms" or "1m", got "later"'],
    [{ maxMemory: '0' }, 'options.maxMemory must be a positive size such as "512mb" or "1g", got "0"'],
    [{ rateLimit: '5 per minute' }, 'options.rateLimit must be "<requests>/<window>" such as "100/1m", got "5 per minute"'],
    [{ rateLimit: '5/1m', rateLimitHeaders: 'sometimes' }, 'options.rateLimitHeaders must be "always" or "near-limit", got "sometimes"'],
    [{ rateLimitHeaders: 'always' }, 'options.rateLimitHeaders must be used together with --rate-limit, got "always"'],
    [{ name: 'a b' }, 'options.name must be letters, digits, ".", "_" or "-" (at most 64), got "a b"'],
    [{ metricsPath: 'metrics' }, 'options.metricsPath must be a path starting with "/", got "metrics"'],
    [{ headersTimeout: '60s', requestTimeout: '10s' }, 'options.headersTimeout must be at most options.requestTimeout (10000ms), got "60s"'],
    [{ sandbox: '70000' }, 'options.sandbox must be an integer from 0 to 65535, got "70000"'],
    [{ sandboxWebhooks: '/hooks' }, 'options.sandboxWebhooks must be used together with --sandbox, got "/hooks"'],
    [{ sandbox: true, sandboxWebhooks: 'hooks' }, 'options.sandboxWebhooks must be an absolute http(s) URL or a path starting with "/", got "hooks"'],
    [{ sandbox: true, sandboxWebhooks: '/hooks', port: '0' }, 'options.sandboxWebhooks must be an absolute URL when --port is 0'],
    [{ dashboard: 'localhost' }, 'options.dashboard must be "[host:]port" such as "4000" or "127.0.0.1:4000", got "localhost"'],
  ])('rejects %o naming the option', (input, message) => {
    expect(() => resolveStartOptions({ entry: 'a.js', ...input })).toThrow(InvalidOptionError)
    expect(() => resolveStartOptions({ entry: 'a.js', ...input })).toThrow(message)
  })

  it('sends RateLimit headers near the limit by default, on every answer with "always"', () => {
    expect(resolveStartOptions({ entry: 'a.js', rateLimit: '5/1m' }).edge.rateLimitHeaders).toBe('near-limit')
    expect(resolveStartOptions({ entry: 'a.js', rateLimit: '5/1m', rateLimitHeaders: 'always' }).edge.rateLimitHeaders).toBe('always')
  })

  it('reads --sandbox and --dashboard: defaults, ports, hosts, off', () => {
    expect(resolveStartOptions({ entry: 'a.js' })).toMatchObject({ sandbox: null, dashboard: { host: '127.0.0.1', port: 0 } })
    expect(resolveStartOptions({ entry: 'a.js', sandbox: true, sandboxWebhooks: '/webhooks/{provider}' }).sandbox).toEqual({ port: 0, webhooks: '/webhooks/{provider}' })
    expect(resolveStartOptions({ entry: 'a.js', sandbox: '4242' }).sandbox).toEqual({ port: 4242, webhooks: null })
    expect(resolveStartOptions({ entry: 'a.js', dashboard: false }).dashboard).toBeNull()
    expect(resolveStartOptions({ entry: 'a.js', dashboard: '4000' }).dashboard).toEqual({ host: '127.0.0.1', port: 4000 })
    expect(resolveStartOptions({ entry: 'a.js', dashboard: '0.0.0.0:4000' }).dashboard).toEqual({ host: '0.0.0.0', port: 4000 })
    expect(resolveStartOptions({ entry: 'a.js', dashboard: '[::1]:0' }).dashboard).toEqual({ host: '::1', port: 0 })
  })
})
