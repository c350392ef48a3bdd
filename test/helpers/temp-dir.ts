import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

// Registered when a test file imports this module, so it runs after that file's last test.
const made: string[] = []
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/**
 * A new folder `ecom-<tag>-XXXXXX` under the OS temp folder, removed after the test file's last
 * test, so a file that makes several (one per test, or one handed to a spawned app) need not track them.
 */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ecom-${tag}-`))
  made.push(dir)
  return dir
}
