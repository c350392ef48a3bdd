import { describe, expect, it } from 'vitest'
import { VERSION } from '../../src/version.js'
import { runCli } from '../helpers/cli.js'

describe('ecom CLI', () => {
  it('prints its version', async () => {
    const r = await runCli(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(VERSION)
  })

  it('prints help', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('Usage: ecom')
  })

  it('rejects an unknown flag with one line and exit 2', async () => {
    const r = await runCli(['--no-such-flag'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^ecom: unknown option '--no-such-flag'/)
  })

  it('rejects an unknown command with one line and exit 2', async () => {
    const r = await runCli(['frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
