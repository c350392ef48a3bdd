import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EntryIndexNotFoundError, EntryNotFoundError, InvalidConfigError } from '../../../src/errors.js'
import { resolveEntry } from '../../../src/runtime/supervisor/resolve-entry.js'
import { tempDir } from '../../helpers/temp-dir.js'

function dir(files: Record<string, string>): string {
  const d = tempDir('entry')
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true })
    writeFileSync(join(d, name), text)
  }
  return d
}

describe('resolveEntry', () => {
  it('keeps a file as it is', () => {
    const d = dir({ 'app.mjs': '' })
    expect(resolveEntry(join(d, 'app.mjs'))).toBe(join(d, 'app.mjs'))
  })

  it('takes package.json "main": a file, a file without its extension, or a directory with an index', () => {
    expect(resolveEntry(dir({ 'package.json': '{"main":"src/server.js"}', 'src/server.js': '', 'index.ts': '' }))).toMatch(/src\/server\.js$/)
    expect(resolveEntry(dir({ 'package.json': '{"main":"./server"}', 'server.ts': '' }))).toMatch(/\/server\.ts$/)
    expect(resolveEntry(dir({ 'package.json': '{"main":"lib"}', 'lib/index.mjs': '' }))).toMatch(/lib\/index\.mjs$/)
  })

  it('falls back to index.ts, then index.mjs, then index.js', () => {
    expect(resolveEntry(dir({ 'index.ts': '', 'index.js': '' }))).toMatch(/index\.ts$/)
    expect(resolveEntry(dir({ 'index.mjs': '', 'index.js': '' }))).toMatch(/index\.mjs$/)
    expect(resolveEntry(dir({ 'package.json': '{"name":"x"}', 'index.js': '' }))).toMatch(/index\.js$/)
  })

  it('throws coded errors for a missing path, an empty directory, a "main" naming nothing, and bad JSON', () => {
    expect(() => resolveEntry('/no/such/app')).toThrow(EntryNotFoundError)
    expect(() => resolveEntry(dir({ 'README.md': '' }))).toThrow(EntryIndexNotFoundError)
    expect(() => resolveEntry(dir({ 'package.json': '{"main":"gone.js"}', 'index.js': '' }))).toThrow(/"main" is "gone.js", but no such file exists/)
    expect(() => resolveEntry(dir({ 'package.json': '{', 'index.js': '' }))).toThrow(InvalidConfigError)
  })
})
