import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GenerateFileExistsError } from '../../errors.js'
import type { NameForms } from './names.js'

/** Placeholders the templates use, in file contents and in file names. */
export type TemplateVars = Record<string, string>

export function varsFor(prefix: string, n: NameForms): TemplateVars {
  return {
    [`__${prefix}Kebab__`]: n.kebab,
    [`__${prefix}Pascal__`]: n.pascal,
    [`__${prefix}Camel__`]: n.camel,
    [`__${prefix}Snake__`]: n.snake,
    [`__${prefix}Constant__`]: n.constant,
    [`__${prefix}Title__`]: n.title,
  }
}

export function renderText(text: string, vars: TemplateVars): string {
  const keys = Object.keys(vars)
  if (keys.length === 0) return text
  // One pass with one alternation, so a value that happens to contain a placeholder is left alone.
  const re = new RegExp(keys.map((k) => k.replace(/[$()*+.?[\\\]^{|}]/g, '\\$&')).join('|'), 'g')
  return text.replace(re, (m) => vars[m]!)
}

/** The templates/ folder shipped with the package (next to dist/ and src/). */
export function templatesRoot(): string {
  return fileURLToPath(new URL('../../../templates/', import.meta.url))
}

export interface PlannedFile {
  /** Absolute path to write. */
  path: string
  /** Path relative to the target folder, with forward slashes, for printing. */
  rel: string
  content: string
  exists: boolean
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await walk(p)))
    else if (entry.isFile()) out.push(p)
  }
  return out.sort()
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p)
    return true
  } catch {
    return false
  }
}

/**
 * Render every file of one template folder into `targetDir` without writing anything. Template files
 * end in `.tpl` (so neither tsc nor vitest of this package picks them up); the suffix is dropped, and
 * placeholders in names are replaced as in contents. `_gitignore` becomes `.gitignore` because npm
 * strips dotfiles named .gitignore from published packages.
 */
export async function planTemplate(templateDir: string, targetDir: string, vars: TemplateVars): Promise<PlannedFile[]> {
  const root = resolve(targetDir)
  const files = await walk(templateDir)
  const planned: PlannedFile[] = []
  for (const src of files) {
    let rel = relative(templateDir, src).split(sep).join('/')
    rel = renderText(rel, vars).replace(/\.tpl$/, '').replace(/(^|\/)_gitignore$/, '$1.gitignore')
    const path = resolve(root, rel)
    // Names are checked before rendering, so this only guards against a broken template.
    if (!path.startsWith(root + sep)) throw new Error(`template path escapes the target: ${rel}`)
    const content = renderText(await readFile(src, 'utf8'), vars)
    planned.push({ path, rel, content, exists: await exists(path) })
  }
  return planned
}

/** Refuse to overwrite unless forced; the message lists every file in the way, not just the first. */
export function assertWritable(planned: PlannedFile[], force: boolean, extra: string[] = []): void {
  if (force) return
  const clashes = [...planned.filter((f) => f.exists).map((f) => f.rel), ...extra]
  if (clashes.length > 0) {
    throw new GenerateFileExistsError(`refusing to overwrite ${clashes.length} existing file(s) (pass --force): ${clashes.join(', ')}`, {
      details: { files: clashes },
    })
  }
}

export async function writePlanned(planned: PlannedFile[]): Promise<void> {
  for (const f of planned) {
    await mkdir(dirname(f.path), { recursive: true })
    await writeFile(f.path, f.content)
  }
}
