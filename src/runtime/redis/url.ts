// Light on purpose: `ecom start` and `ecom deploy pm2` check a Redis URL without loading ioredis,
// prom-client or pino.
import { InvalidOptionError } from '../../errors.js'

/** The URL itself when it is redis:// or rediss://; otherwise an InvalidOptionError naming `path`. */
export function validateRedisUrl(url: string, path = 'redis'): string {
  let protocol = ''
  try {
    protocol = new URL(url).protocol
  } catch {
    // reported below
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new InvalidOptionError(`${path} must be a redis:// or rediss:// URL, got ${JSON.stringify(url)}`)
  }
  return url
}
