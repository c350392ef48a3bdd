import { readFileSync } from 'node:fs'

// Read once from the package itself so `ecom --version` can never drift from what is installed.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }

export const VERSION: string = pkg.version
