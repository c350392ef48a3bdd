import { InvalidOptionError } from '../../errors.js'
import type { OrmAdapter, OrmName } from '../adapter.js'
import type { Schema } from '../schema.js'
import { DrizzleAdapter, type DrizzleAdapterOptions } from './drizzle.js'
import { PrismaAdapter, type PrismaAdapterOptions } from './prisma.js'
import { SequelizeAdapter, type SequelizeAdapterOptions } from './sequelize.js'

export type AdapterOptions =
  | ({ orm: 'prisma' } & PrismaAdapterOptions)
  | ({ orm: 'sequelize' } & SequelizeAdapterOptions)
  | ({ orm: 'drizzle' } & DrizzleAdapterOptions)

export const ORM_NAMES: readonly OrmName[] = ['prisma', 'sequelize', 'drizzle']

/** One adapter by ORM name: `createAdapter(schema, { orm: 'drizzle', url: 'file:./app.db' })`. */
export function createAdapter(schema: Schema, options: AdapterOptions): OrmAdapter {
  switch (options?.orm) {
    case 'prisma': return new PrismaAdapter(schema, options)
    case 'sequelize': return new SequelizeAdapter(schema, options)
    case 'drizzle': return new DrizzleAdapter(schema, options)
    default: throw new InvalidOptionError(`options.orm must be one of ${ORM_NAMES.join(', ')}, got ${JSON.stringify((options as { orm?: unknown })?.orm)}`)
  }
}
