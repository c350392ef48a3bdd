import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { planMigration } from '../../orm/migrate/plan.js'
import { defineSchema, type ModelInput, type SchemaSnapshot } from '../../orm/schema.js'
import type { NameForms } from './names.js'

/**
 * The model a generated module starts with. One definition feeds both the rendered `model.ts` and the
 * migration file the generator writes, so the two cannot disagree.
 */
export function moduleModel(n: NameForms): ModelInput {
  return {
    table: n.snake,
    fields: {
      id: { type: 'uuid', primaryKey: true, default: 'random' },
      name: { type: 'string', length: 120 },
      description: { type: 'text', nullable: true },
      quantity: { type: 'int', default: 0 },
      active: { type: 'boolean', default: true },
      createdAt: { type: 'timestamp', default: 'now' },
    },
    indexes: [{ fields: ['name'] }],
  }
}

/** The model as TypeScript source for the template (`__moduleModel__`): one line per field. */
export function moduleModelSource(n: NameForms): string {
  const lit = (v: unknown): string =>
    Array.isArray(v)
      ? `[${v.map(lit).join(', ')}]`
      : v !== null && typeof v === 'object'
        ? `{ ${Object.entries(v).map(([k, x]) => `${k}: ${lit(x)}`).join(', ')} }`
        : typeof v === 'string'
          ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
          : String(v)
  const m = moduleModel(n)
  const fields = Object.entries(m.fields).map(([k, f]) => `    ${k}: ${lit(f)},`)
  return `{\n  table: ${lit(m.table)},\n  fields: {\n${fields.join('\n')}\n  },\n  indexes: ${lit(m.indexes)},\n}`
}

export const MIGRATIONS_DIR = 'migrations'
const FILE = /^(\d{4,})_([a-z0-9_]+)\.json$/

export interface PlannedMigration {
  rel: string
  content: string
}

/**
 * Plan the migration that adds the module's table on top of the app's last migration snapshot (the
 * same planner `ecom orm` uses), or undefined when the snapshot has the model already.
 */
export function planModuleMigration(appRoot: string, n: NameForms): PlannedMigration | undefined {
  const dir = join(appRoot, MIGRATIONS_DIR)
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => FILE.test(f)).sort() : []
  const last = files.at(-1)
  const prev = last ? ((JSON.parse(readFileSync(join(dir, last), 'utf8')) as { snapshot?: SchemaSnapshot }).snapshot ?? { models: [] }) : undefined
  if (prev?.models.some((m) => m.name === n.pascal)) return undefined
  const added = defineSchema({ models: { [n.pascal]: moduleModel(n) } }).toJSON().models
  const next: SchemaSnapshot = { models: [...(prev?.models ?? []), ...added] }
  const operations = planMigration(prev, next)
  const num = last ? Number(FILE.exec(last)![1]) + 1 : 1
  const id = `${String(num).padStart(4, '0')}_add_${n.snake}`
  return { rel: `${MIGRATIONS_DIR}/${id}.json`, content: `${JSON.stringify({ id, operations, snapshot: next }, null, 2)}\n` }
}

export function writeMigration(appRoot: string, m: PlannedMigration): void {
  mkdirSync(join(appRoot, MIGRATIONS_DIR), { recursive: true })
  writeFileSync(join(appRoot, m.rel), m.content)
}
