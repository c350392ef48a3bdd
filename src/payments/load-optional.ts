import { MissingDependencyError } from '../errors.js'

/**
 * Import an optional package, turning "not installed" into a coded error naming it.
 * Call with a literal import so bundlers see it: `loadSdk('stripe', () => import('stripe'))`.
 */
export async function loadSdk<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new MissingDependencyError(`the "${pkg}" package is required for this payment provider: npm install ${pkg}`, { cause: err, details: { package: pkg } })
    }
    throw err
  }
}
