import { randomBytes } from 'node:crypto'

export const REDIS_URL = process.env.ECOM_TEST_REDIS_URL
if (!REDIS_URL) console.warn('skipping Redis tests: ECOM_TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379)')

/** A key prefix no other test run uses, so runs sharing the server never meet. */
export function uniquePrefix(tag: string): string {
  return `ecom-test:${tag}:${process.pid}:${randomBytes(4).toString('hex')}:`
}

/** Delete every key a test run wrote under its prefix. */
export async function deletePrefix(redis: { keys(pattern: string): Promise<string[]>; del(...keys: string[]): Promise<number> }, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length) await redis.del(...keys)
}
