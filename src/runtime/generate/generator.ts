import { readFile, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { GenerateAppLayoutError } from '../../errors.js'
import { moduleModelSource, planModuleMigration, writeMigration } from './module-model.js'
import { parseName, type NameForms } from './names.js'
import { assertWritable, planTemplate, templatesRoot, varsFor, writePlanned, type PlannedFile } from './render.js'

/** The file where an app lists its modules, and the markers `ecom generate module` inserts before. */
export const REGISTRY_FILE = 'src/modules/index.ts'
export const IMPORT_MARKER = '// ecom:module-imports'
export const LIST_MARKER = '// ecom:module-list'

export interface GenerateOptions {
  /** Folder to generate into: the app root for a module, the parent folder for an app. @default process.cwd() */
  dir?: string
  /** List what would be written, write nothing. @default false */
  dryRun?: boolean
  /** Overwrite existing files. @default false */
  force?: boolean
  /** Where the generated app's package.json points its `ecom` dependency. @default `^<this version>` */
  ecomSpec?: string
  /** The module an app starts with. @default 'products' */
  module?: string
  /** Folder holding `module/` and `app/`. @default the package's templates/ */
  templates?: string
}

export interface GenerateResult {
  root: string
  name: NameForms
  /** Files written (or, with dryRun, that would be), relative to root. */
  files: Array<{ rel: string; action: 'create' | 'overwrite' | 'update' }>
  dryRun: boolean
}

function moduleVars(n: NameForms): Record<string, string> {
  return { ...varsFor('module', n), __moduleModel__: moduleModelSource(n) }
}

function registryEntry(n: NameForms): { importLine: string; listLine: string } {
  return {
    importLine: `import ${n.camel}Module from './${n.kebab}/index.js'`,
    listLine: `  ${n.camel}Module,`,
  }
}

/** Insert the module into the registry text; returns undefined when it is listed already. */
export function registerModule(source: string, n: NameForms, file = REGISTRY_FILE): string | undefined {
  if (!source.includes(IMPORT_MARKER) || !source.includes(LIST_MARKER)) {
    throw new GenerateAppLayoutError(`${file} has lost its markers "${IMPORT_MARKER}" and "${LIST_MARKER}"; put them back to let ecom register modules`)
  }
  const { importLine, listLine } = registryEntry(n)
  if (source.includes(importLine)) return undefined
  const indentOf = (marker: string): string => /([ \t]*)$/.exec(source.slice(0, source.indexOf(marker)))![1]!
  return source
    .replace(IMPORT_MARKER, `${importLine}\n${indentOf(IMPORT_MARKER)}${IMPORT_MARKER}`)
    .replace(LIST_MARKER, `${listLine.trimStart()}\n${indentOf(LIST_MARKER)}${LIST_MARKER}`)
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile()
  } catch {
    return false
  }
}

function summarize(planned: PlannedFile[]): GenerateResult['files'] {
  return planned.map((f) => ({ rel: f.rel, action: f.exists ? ('overwrite' as const) : ('create' as const) }))
}

/** `ecom generate module <name>`: write the module's files into the app and register it. */
export async function generateModule(rawName: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
  const name = parseName(rawName, 'module name')
  const root = resolve(opts.dir ?? process.cwd())
  const registryPath = join(root, REGISTRY_FILE)
  if (!(await isFile(registryPath))) {
    throw new GenerateAppLayoutError(`no ${REGISTRY_FILE} under ${root}: run this inside an app made by "ecom generate app" (or pass --dir)`)
  }
  const registry = await readFile(registryPath, 'utf8')
  const updated = registerModule(registry, name)
  const planned = await planTemplate(join(opts.templates ?? templatesRoot(), 'module'), root, moduleVars(name))
  // A module listed in the registry but missing on disk is repaired; one present on disk is a clash.
  assertWritable(planned, opts.force ?? false)
  const migration = planModuleMigration(root, name)
  const files = summarize(planned)
  if (migration) files.push({ rel: migration.rel, action: 'create' })
  if (updated !== undefined) files.push({ rel: REGISTRY_FILE, action: 'update' })
  if (!opts.dryRun) {
    await writePlanned(planned)
    if (migration) writeMigration(root, migration)
    if (updated !== undefined) await writeFile(registryPath, updated)
  }
  return { root, name, files, dryRun: opts.dryRun ?? false }
}

/** `ecom generate app <name>`: a new app folder with config, server entry, one module and tests. */
export async function generateApp(rawName: string, opts: GenerateOptions & { version: string }): Promise<GenerateResult> {
  const name = parseName(rawName, 'app name')
  const mod = parseName(opts.module ?? 'products', 'module name')
  const root = resolve(opts.dir ?? process.cwd(), name.kebab)
  const templates = opts.templates ?? templatesRoot()
  const vars = {
    ...varsFor('app', name),
    ...moduleVars(mod),
    __ecomSpec__: opts.ecomSpec ?? `^${opts.version}`,
    __ecomVersion__: opts.version,
  }
  const appFiles = await planTemplate(join(templates, 'app'), root, vars)
  const moduleFiles = await planTemplate(join(templates, 'module'), root, vars)
  const planned = [...appFiles, ...moduleFiles]
  assertWritable(planned, opts.force ?? false)
  const registry = planned.find((f) => f.rel === REGISTRY_FILE)
  if (!registry) throw new Error(`the app template has no ${REGISTRY_FILE}`)
  registry.content = registerModule(registry.content, mod) ?? registry.content
  const migration = planModuleMigration(root, mod)
  const files = summarize(planned)
  if (migration) files.push({ rel: migration.rel, action: 'create' })
  if (!opts.dryRun) {
    await writePlanned(planned)
    if (migration) writeMigration(root, migration)
  }
  return { root, name, files, dryRun: opts.dryRun ?? false }
}
