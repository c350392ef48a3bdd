// The `ecom/orm` entry. Named exports only, one line per public piece.
export { defineSchema, snakeCase, uniqueKeys, FIELD_TYPES } from '../orm/schema.js'
export type { Dialect, Field, FieldInput, FieldType, Index, IndexInput, Model, ModelInput, Schema, SchemaInput, SchemaSnapshot } from '../orm/schema.js'
export { Repository } from '../orm/repository.js'
export type { FindManyArgs, FindOneArgs, OrderByInput, Row, UpsertArgs, Where } from '../orm/repository.js'
export { OrmManager, queryChannel } from '../orm/manager.js'
export type { AdapterStatus, OrmManagerOptions, Transaction } from '../orm/manager.js'
export type { AdapterSession, OrmAdapter, OrmName } from '../orm/adapter.js'
export { createAdapter, ORM_NAMES } from '../orm/adapters/index.js'
export type { AdapterOptions } from '../orm/adapters/index.js'
export { DrizzleAdapter, drizzleAdapter } from '../orm/adapters/drizzle.js'
export type { DrizzleAdapterOptions } from '../orm/adapters/drizzle.js'
export { SequelizeAdapter, sequelizeAdapter } from '../orm/adapters/sequelize.js'
export type { SequelizeAdapterOptions } from '../orm/adapters/sequelize.js'
export { PrismaAdapter, prismaAdapter } from '../orm/adapters/prisma.js'
export type { PrismaAdapterOptions } from '../orm/adapters/prisma.js'
export { generatePrismaClient, ensurePrismaClient, printPrismaSchema, providerOf } from '../orm/prisma/generate.js'
export type { PrismaProvider, GenerateOptions } from '../orm/prisma/generate.js'
export { parseDatabaseUrl, defaultDatabaseUrl, DEFAULT_DATABASE_URL } from '../orm/url.js'
export type { DatabaseUrl } from '../orm/url.js'
export { migrate, initialMigration, migrationChecksum, MIGRATIONS_TABLE } from '../orm/migrate/runner.js'
export type { MigrateResult } from '../orm/migrate/runner.js'
export { planMigration } from '../orm/migrate/plan.js'
export { readMigrations, writeNextMigration } from '../orm/migrate/files.js'
export { operationSql } from '../orm/migrate/ddl.js'
export type { Migration, Operation, ColumnSpec, IndexSpec } from '../orm/migrate/operations.js'
export {
  OrmSchemaError,
  OrmValidationError,
  OrmUniqueViolationError,
  OrmForeignKeyViolationError,
  OrmNotNullViolationError,
  OrmConnectionError,
  OrmDriverError,
  OrmNoHealthyAdapterError,
  OrmMigrationChecksumError,
  OrmMigrationError,
  OrmPrismaGenerateError,
} from '../errors.js'
