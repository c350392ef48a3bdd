import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'

const require = createRequire(import.meta.url)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FIXTURE = join(ROOT, 'test/fixtures/orm/cli-schema.ts')

// Inside the project tree so the generated Prisma client resolves @prisma/client from node_modules.
const dir = join(ROOT, 'node_modules/.cache/ecom-orm-e2e', String(process.pid))

describe('ecom orm generate / migrate (real CLI)', () => {
  beforeAll(() => {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('generate writes the first migration and a Prisma client that loads', async () => {
    const r = await runCli(['orm', 'generate', '--schema', FIXTURE, '--provider', 'sqlite', '--out', 'gen', '--migrations', 'mig'], { cwd: dir, timeoutMs: 60_000 })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('migration 0001_init')
    const prismaSchema = readFileSync(join(dir, 'gen/sqlite/schema.prisma'), 'utf8')
    expect(prismaSchema).toContain('model Account {')
    expect(prismaSchema).toContain('@@map("entry")')
    const client = require(join(dir, 'gen/sqlite/client/index.js'))
    expect(typeof client.PrismaClient).toBe('function')
    const m = JSON.parse(readFileSync(join(dir, 'mig/0001_init.json'), 'utf8'))
    expect(m.operations.map((o: { op: string; table: string }) => `${o.op} ${o.table}`)).toEqual([
      'createTable account', 'createTable entry', 'createIndex account', 'createIndex entry',
    ])
  })

  it('generate again with no model change writes no migration', async () => {
    const r = await runCli(['orm', 'generate', '--schema', FIXTURE, '--no-client', '--migrations', 'mig'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('has not changed')
    expect(existsSync(join(dir, 'mig/0002_auto.json'))).toBe(false)
  })

  it('migrate applies what is pending, records it, and is idempotent', async () => {
    const url = `file:${join(dir, 'app.db')}`
    const first = await runCli(['orm', 'migrate', '--url', url, '--migrations', 'mig', '--schema', FIXTURE], { cwd: dir })
    expect(first.stderr).toBe('')
    expect(first.stdout).toContain('applied 0001_init')
    const Database = require('better-sqlite3')
    const db = new Database(join(dir, 'app.db'), { readonly: true })
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((t: { name: string }) => t.name)
    expect(tables).toEqual(expect.arrayContaining(['account', 'ecom_migrations', 'entry']))
    expect(db.prepare('SELECT id FROM ecom_migrations').all()).toEqual([{ id: '0001_init' }])
    db.close()
    const again = await runCli(['orm', 'migrate', '--url', url, '--migrations', 'mig'], { cwd: dir })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('up to date')
  })

  it('a model change becomes the next migration, and migrate applies only it', async () => {
    const v2 = join(dir, 'schema-v2.mjs')
    const base = (await import(FIXTURE)).schema
    const next = structuredClone(base)
    next.models.Account.fields.nickname = { type: 'string', nullable: true }
    next.models.Account.indexes = [{ fields: ['nickname'] }]
    writeFileSync(v2, `export const schema = ${JSON.stringify(next)}\n`)
    const g = await runCli(['orm', 'generate', '--schema', v2, '--no-client', '--migrations', 'mig', '--name', 'nickname'], { cwd: dir })
    expect(g.stdout).toContain('migration 0002_nickname: 2 operation(s)')
    const stale = await runCli(['orm', 'migrate', '--url', `file:${join(dir, 'app.db')}`, '--migrations', 'mig', '--schema', FIXTURE], { cwd: dir })
    expect(stale.code).toBe(1)
    const r = await runCli(['orm', 'migrate', '--url', `file:${join(dir, 'app.db')}`, '--migrations', 'mig', '--schema', v2], { cwd: dir })
    expect(r.stdout.trim()).toMatch(/applied 0002_nickname$/)
    const Database = require('better-sqlite3')
    const db = new Database(join(dir, 'app.db'), { readonly: true })
    expect(db.prepare('PRAGMA table_info(account)').all().map((c: { name: string }) => c.name)).toContain('nickname')
    db.close()
  })

  it('migrate refuses when an applied migration was changed, and changes nothing', async () => {
    const file = join(dir, 'mig/0001_init.json')
    const m = JSON.parse(readFileSync(file, 'utf8'))
    m.operations[0].columns[1].length = 100
    writeFileSync(file, JSON.stringify(m, null, 2))
    const r = await runCli(['orm', 'migrate', '--url', `file:${join(dir, 'app.db')}`, '--migrations', 'mig'], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/migration 0001_init was changed after it was applied.*ECOM_ERR_ORM_MIGRATION_CHECKSUM/)
  })

  it('usage errors exit 2; an unreachable database names host and port', async () => {
    const badUrl = await runCli(['orm', 'migrate', '--url', 'redis://127.0.0.1/0', '--migrations', 'mig'], { cwd: dir })
    expect(badUrl.code).toBe(2)
    expect(badUrl.stderr).toContain('--url must start with file:, postgres://, mysql:// or mariadb://')
    const noSchema = await runCli(['orm', 'generate', '--no-client'], { cwd: dir })
    expect(noSchema.code).toBe(2)
    // without --url: $ECOM_DATABASE_URL, else ./ecom.db in the working directory
    const dflt = await runCli(['orm', 'migrate', '--migrations', 'mig'], { cwd: dir, env: { ECOM_DATABASE_URL: '' } })
    expect(dflt.stdout).toContain(`${join(dir, 'ecom.db')}: applied 0001_init`)
    expect(dflt.code).toBe(0)
    const down = await runCli(['orm', 'migrate', '--url', 'postgres://postgres@127.0.0.1:1/test', '--migrations', 'mig'], { cwd: dir })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain('127.0.0.1:1')
    expect(down.stderr).toContain('ECOM_ERR_ORM_CONNECTION')
  })
})
