import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { EntryIndexNotFoundError, EntryNotFoundError, InvalidConfigError } from '../../errors.js'

/** Index files tried in a directory, in this order (TypeScript first: an app's source beats its build). */
export const INDEX_FILES = ['index.ts', 'index.mts', 'index.mjs', 'index.js', 'index.cjs']
const MAIN_EXTENSIONS = ['', '.ts', '.mts', '.mjs', '.js', '.cjs']

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

function firstIndex(dir: string): string | undefined {
  return INDEX_FILES.map((f) => join(dir, f)).find(isFile)
}

/**
 * The file `ecom start <entry>` serves. A file is itself; a directory resolves the way Node resolves a
 * directory import: its package.json `"main"` (a file, the same with an extension added, or a directory
 * with an index), else an index file. Throws EntryNotFoundError for nothing at the path and
 * EntryIndexNotFoundError for a directory that names no file to run.
 */
export function resolveEntry(entry: string): string {
  const path = resolve(entry)
  if (isFile(path)) return path
  if (!isDirectory(path)) throw new EntryNotFoundError(`entry ${path} does not exist`)
  const pkgPath = join(path, 'package.json')
  let main: unknown
  if (isFile(pkgPath)) {
    try {
      main = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: unknown }).main
    } catch (err) {
      throw new InvalidConfigError(`${pkgPath}: not valid JSON: ${(err as Error).message}`, { cause: err })
    }
  }
  if (typeof main === 'string' && main !== '') {
    const target = resolve(path, main)
    const found = MAIN_EXTENSIONS.map((ext) => target + ext).find(isFile) ?? (isDirectory(target) ? firstIndex(target) : undefined)
    if (found) return found
    throw new EntryIndexNotFoundError(`entry ${path}: package.json "main" is "${main}", but no such file exists`)
  }
  const index = firstIndex(path)
  if (index) return index
  throw new EntryIndexNotFoundError(`entry ${path} is a directory without package.json "main" or any of ${INDEX_FILES.join(', ')}`)
}
