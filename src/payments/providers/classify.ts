import type { NormalizedCode, OutcomeClass } from '../model.js'

/**
 * Shared transport and HTTP-status classification, so every adapter draws the technical/ambiguous line
 * in the same place:
 * - the connection never carried the request (refused, DNS, unreachable): technical_failure
 * - a timeout, reset or hang-up after the request was written: ambiguous (it may have executed)
 * - 429 and 503 are the provider's edge refusing the request before processing: technical_failure
 * - 500, 502, 504 and any other 5xx carry no verdict: ambiguous
 * - 401/403: config_error (technical_failure); other 4xx without a decline: invalid_request (technical_failure)
 */
export interface Classified {
  readonly outcome: OutcomeClass
  readonly code: NormalizedCode
}

// The toolkit client refusing before sending (closed, or its own breaker open) is 'not sent' too.
const NOT_SENT = new Set(['ECOM_ERR_HTTP_CLIENT_CLOSED', 'ECOM_ERR_HTTP_CIRCUIT_OPEN', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT'])
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ABORT_ERR', 'TimeoutError', 'AbortError'])

/** Walk an error and its causes for a Node/undici error code. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; e && depth < 6; depth++) {
    const o = e as { code?: unknown; name?: unknown; cause?: unknown; detail?: unknown; errno?: unknown }
    if (typeof o.code === 'string' && (o.code.startsWith('E') || o.code.startsWith('UND_') || o.code.startsWith('ERR_') || o.code === 'ABORT_ERR')) return o.code
    if (o.name === 'TimeoutError' || o.name === 'AbortError') return o.name
    e = o.cause ?? o.detail
  }
  return undefined
}

export function classifyTransportError(err: unknown): Classified {
  const code = errorCode(err)
  if (code && NOT_SENT.has(code)) return { outcome: 'technical_failure', code: 'network_error' }
  if (code && TIMEOUT.has(code)) return { outcome: 'ambiguous', code: 'timeout' }
  const msg = String((err as Error)?.message ?? '')
  if (/timed? ?out/i.test(msg)) return { outcome: 'ambiguous', code: 'timeout' }
  return { outcome: 'ambiguous', code: 'network_error' }
}

export function classifyHttpStatus(status: number): Classified {
  if (status === 429) return { outcome: 'technical_failure', code: 'rate_limited' }
  if (status === 503) return { outcome: 'technical_failure', code: 'provider_unavailable' }
  if (status >= 500) return { outcome: 'ambiguous', code: 'processing_error' }
  if (status === 401 || status === 403) return { outcome: 'technical_failure', code: 'config_error' }
  if (status === 409) return { outcome: 'ambiguous', code: 'try_again_later' }
  return { outcome: 'technical_failure', code: 'invalid_request' }
}
