import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const fixture = fileURLToPath(new URL('../fixtures/next-tick-maps.mjs', import.meta.url))

interface Outcome {
  /** process.nextTick was TurboFan-compiled before the GCs / is still after them. */
  before: boolean
  after: boolean
  kept: boolean
  /** A tick record made after the GCs has the kept record's hidden class. */
  sameMap: boolean | null
}

// A process of its own: the GCs, V8's natives syntax and the module's once-per-process state stay out of
// the test runner.
function run(mode: 'none' | 'keep' | 'server'): Outcome {
  const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--expose-gc', fixture, mode], { encoding: 'utf8', timeout: 60_000 })
  return JSON.parse(out.trim().split('\n').at(-1)!) as Outcome
}

describe('keepNextTickFast', () => {
  it('is needed: with no tick record alive, full GCs throw away process.nextTick’s compiled code', () => {
    // The maps the code was compiled for die with the last record; the code that replaces it is built on
    // megamorphic feedback (docs/start.md, "After an idle spell").
    expect(run('none')).toEqual({ before: true, after: false, kept: false, sameMap: null })
  })

  it('keeps a tick record, so the GCs leave process.nextTick’s code and maps alone', () => {
    expect(run('keep')).toEqual({ before: true, after: true, kept: true, sameMap: true })
  })

  it('is applied by every ecom server', () => {
    expect(run('server')).toEqual({ before: true, after: true, kept: true, sameMap: true })
  })
})
