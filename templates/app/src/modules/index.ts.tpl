import type { AppModule } from '../types.js'
// `ecom generate module <name>` adds an import above this marker and an entry above the one below.
// ecom:module-imports

/** Every module of the app: its models join the schema and its routes are served. */
export const modules: AppModule[] = [
  // ecom:module-list
]
