import { Registry } from 'prom-client'

// One registry per process: the HTTP edge, the worker pool, the HTTP client, payments and the ORM all
// record into it, so a worker's /metrics contribution is a single scrape the primary can aggregate.
let registry: Registry | undefined

export function getRegistry(): Registry {
  registry ??= new Registry()
  return registry
}
