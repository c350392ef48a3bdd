// "Never an illegal instruction on an older CPU": only the dispatched kernels may contain AVX/AVX-512 (VEX/EVEX)
// or SSE4.2 crc32 instructions; everything else in the addon must be baseline x86-64.
import { execFileSync, spawnSync } from 'node:child_process'
import { arch } from 'node:os'
import { describe, expect, it } from 'vitest'
import { nativeStatus } from '../../src/public/native.js'

const objdump = spawnSync('objdump', ['--version']).status === 0
const status = nativeStatus()
const why = !status.native ? status.reason : arch() !== 'x64' ? `not x86-64 (${arch()})` : !objdump ? 'objdump is not installed' : ''
if (why) console.warn(`cpu dispatch disassembly check skipped: ${why}`)

describe.skipIf(why !== '')('addon instruction sets', () => {
  it('uses AVX2, AVX-512 and crc32 instructions only inside the CPU-dispatched kernels', () => {
    const asm = execFileSync('objdump', ['-d', '--no-show-raw-insn', '-C', status.path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
    const users = new Set<string>()
    let fn = ''
    for (const line of asm.split('\n')) {
      const head = /^[0-9a-f]+ <(.*)>:$/.exec(line)
      if (head) fn = head[1]!
      else if (/^ +[0-9a-f]+:\t(v[a-z0-9]+|crc32[a-z]*|k[a-z]+[bwdq]) /.test(line)) users.add(fn)
    }
    const allowed = /^ecom::(avx2|avx512)::|Crc32cHw/
    const outside = [...users].filter((f) => !allowed.test(f))
    expect(outside).toEqual([])
    expect([...users].some((f) => f.startsWith('ecom::avx512::'))).toBe(true)
    expect([...users].some((f) => f.startsWith('ecom::avx2::'))).toBe(true)
  })
})
