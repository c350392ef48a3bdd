import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as errors from '../src/errors.js'

const { EcomError } = errors
const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8')

// Walk every exported class instead of a hand-kept list, so a new error cannot skip these checks.
const classes = Object.entries(errors).filter(
  (entry): entry is [string, typeof EcomError] =>
    typeof entry[1] === 'function' && (entry[1] === EcomError || entry[1].prototype instanceof EcomError)
)

describe('errors', () => {
  it('finds the error classes', () => {
    expect(classes.length).toBeGreaterThan(3)
  })

  it.each(classes)('%s has a stable code, its name and a default message', (name, Ctor) => {
    const err = new Ctor()
    expect(err).toBeInstanceOf(Error)
    expect(err).toBeInstanceOf(EcomError)
    expect(err.name).toBe(name)
    expect(err.code).toBe(Ctor.code)
    expect(err.code).toMatch(/^ECOM_ERR_[A-Z0-9_]+$/)
    expect(err.message).toBe(Ctor.defaultMessage)
    expect(err.message.length).toBeGreaterThan(0)
    expect([1, 2]).toContain(err.exitCode)
    expect(new Ctor('custom').message).toBe('custom')
  })

  it('codes are unique', () => {
    const codes = classes.map(([, C]) => C.code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  it.each(classes)('%s is documented in docs/errors.md', (name, Ctor) => {
    expect(docs).toContain(`| \`${Ctor.code}\` | \`${name}\` |`)
  })

  it('keeps the cause', () => {
    const cause = new Error('low level')
    expect(new errors.InvalidOptionError('x', { cause }).cause).toBe(cause)
  })
})
