import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** A fresh token per start: 32 random bytes, base64url. Never logged; handed out by the control socket only. */
export function newToken(): string {
  return randomBytes(32).toString('base64url')
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** Constant-time equality (hashing first makes both sides the same length whatever was sent). */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined || given === '') return false
  return timingSafeEqual(digest(expected), digest(given))
}

/** Cookies are not port-scoped, so each dashboard on a host gets its own cookie name. */
export function cookieName(port: number): string {
  return `ecom_dashboard_${port}`
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/** The token a request carries: its cookie, or `Authorization: Bearer <token>` for scripts. */
export function presentedToken(req: IncomingMessage, cookie: string): string | undefined {
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim()
  return readCookie(req, cookie)
}

export function sessionCookie(name: string, token: string): string {
  return `${name}=${token}; HttpOnly; SameSite=Strict; Path=/`
}
