import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OrmMigrationError } from '../../errors.js'
import type { Schema, SchemaSnapshot } from '../schema.js'
import type { Migration } from './operations.js'
import { planMigration } from './plan.js'

const FILE = /^(\d{4,})_([a-z0-9_]+)\.json$/

/** Read every `NNNN_name.json` of a migrations directory, in order. A missing directory holds none. */
export function readMigrations(dir: string): Migration[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  return names
    .filter((n) => FILE.test(n))
    .sort()
    .map((n) => {
      let m: Migration
      try {
        m = JSON.parse(readFileSync(join(dir, n), 'utf8')) as Migration
      } catch (err) {
        throw new OrmMigrationError(`${join(dir, n)} is not valid JSON`, { cause: err })
      }
      if (!Array.isArray(m.operations)) throw new OrmMigrationError(`${join(dir, n)} has no operations list`)
      return { ...m, id: n.replace(/\.json$/, '') }
    })
}

/**
 * Plan the difference between the last migration's snapshot and the model definition and, when there
 * is one, write it as the next `NNNN_<name>.json`. Returns the new migration or undefined when nothing changed.
 */
export function writeNextMigration(dir: string, schema: Schema, name = 'auto'): Migration | undefined {
  const existing = readMigrations(dir)
  const last = existing.at(-1)
  const prev = last?.snapshot as SchemaSnapshot | undefined
  if (last && !prev) throw new OrmMigrationError(`${last.id} has no snapshot; cannot plan the next migration from it`)
  const next = schema.toJSON()
  const operations = planMigration(prev, next)
  if (operations.length === 0) return undefined
  const num = existing.length === 0 ? 1 : Number(/^(\d+)/.exec(last!.id)![1]) + 1
  const id = `${String(num).padStart(4, '0')}_${(existing.length === 0 && name === 'auto' ? 'init' : name).replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`
  const m: Migration = { id, operations, snapshot: next }
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${id}.json`), `${JSON.stringify(m, null, 2)}\n`)
  return m
}
