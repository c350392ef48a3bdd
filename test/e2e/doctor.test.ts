import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort, runCli } from '../helpers/cli.js'

const PG = process.env.ECOM_TEST_POSTGRES_URL
const MARIADB = process.env.ECOM_TEST_MARIADB_URL
const REDIS = process.env.ECOM_TEST_REDIS_URL

function rows(stdout: string): Map<string, { verdict: string; detail: string }> {
  const out = new Map<string, { verdict: string; detail: string }>()
  for (const line of stdout.trim().split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(OK|WARN|FAIL|SKIP)\s{2,}(.*)$/.exec(line)
    if (m) out.set(m[1]!.trim(), { verdict: m[2]!, detail: m[3]! })
  }
  return out
}

describe('ecom doctor', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecom-doctor-'))
  const sqlite = join(dir, 'app.db')
  new Database(sqlite).close()
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const clean = { DATABASE_URL: '', ECOM_REDIS_URL: '', REDIS_URL: '', STRIPE_SECRET_KEY: '', SQUARE_ACCESS_TOKEN: '', ADYEN_API_KEY: '', BRAINTREE_MERCHANT_ID: '' }

  it('prints a verdict per check and exits 0 when everything required is there; secrets never printed', async () => {
    const args = ['doctor', '--db', `file:${sqlite}`, '--adapter', 'drizzle', '--adapter', 'sequelize']
    if (PG) args.push('--db', PG)
    else console.warn('doctor: ECOM_TEST_POSTGRES_URL unset, PostgreSQL row not checked')
    if (MARIADB) args.push('--db', MARIADB)
    if (REDIS) args.push('--redis', REDIS)
    const r = await runCli(args, { env: { ...clean, STRIPE_SECRET_KEY: 'sk_test_VERYSECRET123' } })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toMatch(/^CHECK\s+VERDICT\s+DETAIL$/)
    const t = rows(r.stdout)
    expect(t.get('node')?.verdict).toBe('OK')
    expect(['OK', 'WARN']).toContain(t.get('native addon')?.verdict)
    expect(t.get('native addon')?.detail).toMatch(/^(native|TypeScript fallback): .+/)
    expect(t.get('database sqlite')?.verdict).toBe('OK')
    if (PG) expect(t.get('database postgres')?.verdict).toBe('OK')
    if (MARIADB) expect(t.get('database mariadb')?.verdict).toBe('OK')
    if (REDIS) expect(t.get('redis')?.verdict).toBe('OK')
    expect(t.get('orm drizzle -> sqlite')?.verdict).toBe('OK')
    expect(t.get('orm sequelize -> sqlite')?.verdict).toBe('OK')
    if (PG) expect(t.get('orm drizzle -> postgres')?.verdict).toBe('OK')
    if (MARIADB) expect(t.get('orm sequelize -> mysql')?.verdict).toBe('OK')
    expect(t.get('payments stripe')).toMatchObject({ verdict: 'OK' })
    expect(t.get('payments square')?.verdict).toBe('SKIP')
    expect(t.get('pm2')?.verdict).toBe('OK')
    expect(r.stdout).not.toContain('VERYSECRET')
  })

  it('exits 1 naming what failed: an unreachable database and Redis, incomplete credentials', async () => {
    const dead = await freePort()
    const r = await runCli(
      ['doctor', '--db', `postgres://postgres@127.0.0.1:${dead}/x`, '--adapter', 'drizzle', '--redis', `redis://127.0.0.1:${dead}`, '--timeout', '1500', '--json'],
      { env: { ...clean, SQUARE_ACCESS_TOKEN: 'sq0atp-SECRET' } }
    )
    expect(r.code).toBe(1)
    const results = JSON.parse(r.stdout) as Array<{ check: string; verdict: string; detail: string }>
    const by = new Map(results.map((x) => [x.check, x]))
    expect(by.get('database postgres')?.verdict).toBe('fail')
    expect(by.get('redis')?.verdict).toBe('fail')
    expect(by.get('orm drizzle -> postgres')).toMatchObject({ verdict: 'fail' })
    expect(by.get('orm drizzle -> postgres')?.detail).toContain(`127.0.0.1:${dead}`)
    expect(by.get('payments square')).toMatchObject({ verdict: 'fail' })
    expect(by.get('payments square')?.detail).toContain('missing SQUARE_LOCATION_ID')
    expect(r.stdout).not.toContain('sq0atp-SECRET')
    expect(r.stderr).toMatch(/^ecom: 4 required check\(s\) failed: database postgres, orm drizzle -> postgres, redis, payments square \(ECOM_ERR_DOCTOR_FAILED\)\n$/)
  })

  it('says which search implementation is in use and why', async () => {
    const r = await runCli(['doctor'], { env: { ...clean, ECOM_NO_NATIVE: '1' } })
    expect(rows(r.stdout).get('native addon')).toEqual({ verdict: 'WARN', detail: 'TypeScript fallback: ECOM_NO_NATIVE=1 forces the TypeScript fallback' })
  })

  it('--require payments fails when no provider is configured; a bad --require is a usage error', async () => {
    const r = await runCli(['doctor', '--require', 'payments'], { env: clean })
    expect(r.code).toBe(1)
    expect(rows(r.stdout).get('payments')?.verdict).toBe('FAIL')
    const bad = await runCli(['doctor', '--require', 'coffee'], { env: clean })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--require must be one of payments, pm2')
  })
})
