import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/**
 * A temp folder whose node_modules links every package of this checkout plus `ecom` -> the checkout,
 * so an app generated inside it resolves `ecom`, zod, vitest and the ORM without a network install.
 */
export function tempWorkspace(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `ecom-${tag}-`))
  const nm = join(dir, 'node_modules')
  mkdirSync(nm)
  for (const name of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (name === 'ecom' || name === '.package-lock.json') continue
    symlinkSync(join(REPO_ROOT, 'node_modules', name), join(nm, name))
  }
  symlinkSync(REPO_ROOT, join(nm, 'ecom'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}
