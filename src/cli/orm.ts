import { existsSync } from 'node:fs'
import { extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Command } from 'commander'
import { InvalidOptionError, OrmMigrationError, OrmSchemaError } from '../errors.js'
import { readMigrations, writeNextMigration } from '../orm/migrate/files.js'
import { planMigration } from '../orm/migrate/plan.js'
import { migrate } from '../orm/migrate/runner.js'
import { generatePrismaClient, type PrismaProvider } from '../orm/prisma/generate.js'
import { defineSchema, type Schema, type SchemaInput, type SchemaSnapshot } from '../orm/schema.js'
import { defaultDatabaseUrl, parseDatabaseUrl } from '../orm/url.js'

const PROVIDERS: PrismaProvider[] = ['sqlite', 'postgresql', 'mysql']

/**
 * Load the model definition from a module: its `schema` export (or default export), either what
 * `defineSchema()` returned or the plain `{ models }` input. TypeScript files load through tsx.
 */
export async function loadSchema(file: string, exportName = 'schema'): Promise<Schema> {
  const path = resolve(file)
  if (!existsSync(path)) throw new InvalidOptionError(`--schema: no such file ${path}`)
  const ext = extname(path)
  let mod: Record<string, unknown>
  if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
    const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (p: string, parent: string) => Promise<Record<string, unknown>> }
    mod = await tsImport(pathToFileURL(path).href, import.meta.url)
  } else {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>
  }
  const value = (mod[exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[exportName] ?? mod.default) as unknown
  if (value && typeof value === 'object' && typeof (value as Schema).model === 'function' && typeof (value as Schema).toJSON === 'function') return value as Schema
  if (value && typeof value === 'object' && 'models' in value) return defineSchema(value as SchemaInput)
  throw new OrmSchemaError(`${path} must export "${exportName}" (or a default export): the result of defineSchema() or { models }`)
}

function providers(value: string): PrismaProvider[] {
  if (value === 'all') return PROVIDERS
  const list = value.split(',').map((s) => s.trim()).map((s) => (s === 'postgres' ? 'postgresql' : s === 'mariadb' ? 'mysql' : s))
  for (const p of list) {
    if (!PROVIDERS.includes(p as PrismaProvider)) throw new InvalidOptionError(`--provider must be sqlite, postgresql, mysql or all (comma-separated), got "${p}"`)
  }
  return list as PrismaProvider[]
}

export function register(program: Command): void {
  const orm = program.command('orm').description('the ORM layer: Prisma client generation and migrations from one model definition')

  orm
    .command('generate')
    .description('write the Prisma schema and client for each provider, and the next migration when the models changed')
    .requiredOption('--schema <file>', 'module exporting the model definition (.ts, .js or .mjs)')
    .option('--export <name>', 'the export holding the model definition', 'schema')
    .option('--out <dir>', 'where Prisma schemas and clients go (<out>/<provider>/client)', '.ecom/prisma')
    .option('--provider <list>', 'sqlite, postgresql, mysql or all (comma-separated)', 'all')
    .option('--migrations <dir>', 'migrations directory', 'migrations')
    .option('--name <name>', 'name of a new migration', 'auto')
    .option('--no-client', 'only write the migration, not the Prisma client')
    .action(async (opts: { schema: string; export: string; out: string; provider: string; migrations: string; name: string; client: boolean }) => {
      const schema = await loadSchema(opts.schema, opts.export)
      const wanted = providers(opts.provider)
      const m = writeNextMigration(resolve(opts.migrations), schema, opts.name)
      process.stdout.write(m ? `migration ${m.id}: ${m.operations.length} operation(s) written to ${join(opts.migrations, `${m.id}.json`)}\n` : 'migrations: the model definition has not changed\n')
      if (!opts.client) return
      for (const provider of wanted) {
        const dir = await generatePrismaClient({ schema, provider, outDir: join(resolve(opts.out), provider) })
        process.stdout.write(`prisma client (${provider}): ${dir}\n`)
      }
    })

  orm
    .command('migrate')
    .description('apply pending migrations; refuses when an applied migration was changed')
    .option('--url <url>', 'database URL (file:, postgres://, mysql:// or mariadb://); default $ECOM_DATABASE_URL, else file:./ecom.db')
    .option('--migrations <dir>', 'migrations directory', 'migrations')
    .option('--schema <file>', 'also check that the migrations cover this model definition')
    .option('--export <name>', 'the export holding the model definition', 'schema')
    .action(async (opts: { url?: string; migrations: string; schema?: string; export: string }) => {
      const db = parseDatabaseUrl(opts.url ?? defaultDatabaseUrl(), '--url')
      const migrations = readMigrations(resolve(opts.migrations))
      if (migrations.length === 0) throw new OrmMigrationError(`no migrations in ${resolve(opts.migrations)}: run ecom orm generate first`)
      if (opts.schema) {
        const schema = await loadSchema(opts.schema, opts.export)
        const pending = planMigration(migrations.at(-1)!.snapshot as SchemaSnapshot | undefined, schema.toJSON())
        if (pending.length > 0) throw new OrmMigrationError(`the model definition has ${pending.length} change(s) no migration covers: run ecom orm generate first`)
      }
      const r = await migrate(db, migrations)
      const where = db.dialect === 'sqlite' ? db.file : `${db.dialect} ${db.target}/${db.database}`
      if (r.applied.length === 0) process.stdout.write(`${where}: up to date (${r.alreadyApplied.length} migration(s) applied before)\n`)
      else for (const id of r.applied) process.stdout.write(`${where}: applied ${id}\n`)
    })
}
