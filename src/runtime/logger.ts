import { createRequire } from 'node:module'
import type { Logger, LoggerOptions } from 'pino'

export type { Logger }

// Field names that may carry secrets; pino blanks them wherever they appear in a log object.
const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'apiKey', '*.apiKey', 'token', '*.token',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie', 'cardNumber', '*.cardNumber',
]

// pino is CommonJS, so it can be required synchronously the first time a logger is really needed.
const require = createRequire(import.meta.url)
let pino: typeof import('pino').default | undefined

export function createLogger(options: LoggerOptions = {}): Logger {
  pino ??= require('pino') as typeof import('pino').default
  return pino({
    name: 'ecom',
    level: process.env.ECOM_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    ...options,
  })
}

/**
 * A logger that loads pino on first use. Processes on the start-up path (the cluster primary before it
 * forks, a worker before it listens) hand this around so that loading pino costs nothing until a line
 * is written.
 */
export function createLazyLogger(options: LoggerOptions = {}): Logger {
  let real: Logger | undefined
  const get = (): Logger => (real ??= createLogger(options))
  return new Proxy({} as Logger, {
    get(_target, key) {
      const logger = get()
      const value = Reflect.get(logger, key, logger) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(logger) : value
    },
    set(_target, key, value) {
      return Reflect.set(get(), key, value)
    },
  })
}
