import type { ModelInput, OrmManager } from 'ecom/orm'
import type { Route } from './http.js'

/** What every module exports: its models for the ORM layer and its HTTP routes. */
export interface AppModule {
  name: string
  models: Record<string, ModelInput>
  routes(db: OrmManager): Route[]
}
