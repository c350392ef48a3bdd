import { GenerateNameError } from '../../errors.js'

/** Every spelling of one generated name, filled into templates as `__kebab__`, `__Pascal__` and so on. */
export interface NameForms {
  /** `order-items`: file and folder names, URL paths. */
  kebab: string
  /** `OrderItems`: types and classes. */
  pascal: string
  /** `orderItems`: variables and registry entries. */
  camel: string
  /** `order_items`: database tables and columns. */
  snake: string
  /** `ORDER_ITEMS`: constants and environment variables. */
  constant: string
  /** `Order items`: prose in comments and messages. */
  title: string
}

// Words a module or app may not be called: they collide with the app's own folders, JavaScript
// keywords the templates use as identifiers, or node_modules packages the app imports.
const RESERVED = new Set([
  'ecom', 'node-modules', 'modules', 'test', 'tests', 'src', 'dist', 'http', 'index', 'app', 'server', 'db',
  'class', 'function', 'default', 'delete', 'new', 'return', 'import', 'export', 'const', 'let', 'var',
  'this', 'super', 'enum', 'interface', 'package', 'private', 'protected', 'public', 'static', 'yield',
  'await', 'constructor', 'prototype', '__proto__',
])

const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/
const MAX_LENGTH = 48

/**
 * Accept `order-items`, `orderItems`, `OrderItems` or `order_items` and return every spelling of it.
 * Anything else (leading digits, spaces, dots, slashes, non-ASCII) is refused with a message that says
 * what was expected, so a name can never escape the target folder or break an identifier.
 */
export function parseName(raw: string, what = 'name'): NameForms {
  const input = String(raw ?? '').trim()
  if (input.length === 0) throw new GenerateNameError(`${what} is required`)
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(input)) {
    throw new GenerateNameError(
      `${what} must start with a letter and use only letters, digits, "-" or "_", got ${JSON.stringify(input)}`
    )
  }
  const kebab = input
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase()
  if (!KEBAB.test(kebab)) {
    throw new GenerateNameError(`${what} must not have leading, trailing or doubled separators, got ${JSON.stringify(input)}`)
  }
  if (kebab.length > MAX_LENGTH) throw new GenerateNameError(`${what} must be at most ${MAX_LENGTH} characters, got ${kebab.length}`)
  if (RESERVED.has(kebab)) throw new GenerateNameError(`${what} ${JSON.stringify(kebab)} is reserved, pick another`)
  const words = kebab.split('-')
  const cap = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1)
  const pascal = words.map(cap).join('')
  return {
    kebab,
    pascal,
    camel: pascal.charAt(0).toLowerCase() + pascal.slice(1),
    snake: words.join('_'),
    constant: words.join('_').toUpperCase(),
    title: cap(words.join(' ')),
  }
}
