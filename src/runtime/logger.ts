import pino, { type Logger, type LoggerOptions } from 'pino'

export type { Logger }

// Field names that may carry secrets; pino blanks them wherever they appear in a log object.
const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'apiKey', '*.apiKey', 'token', '*.token',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie', 'cardNumber', '*.cardNumber',
]

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({
    name: 'ecom',
    level: process.env.ECOM_LOG_LEVEL ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    ...options,
  })
}
