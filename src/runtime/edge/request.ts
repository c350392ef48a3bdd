import { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../logger.js'
import { lowerHeaderName } from './header-names.js'

/** Per-connection state the edge keeps (see connections.ts). */
export interface Tracked {
  active: number
  /** performance.now() when its last request ended (or when it connected). */
  idleSince: number
  overLimit: boolean
  /** The reply in progress, if any (HTTP/1.1 answers one request per socket at a time). */
  res: ServerResponse | null
}

/**
 * The request class of the edge's server (node:http `IncomingMessage` option): declared fields keep
 * one object shape per request instead of properties bolted on at run time, which Node's own http
 * code would then read in slow mode.
 */
export class EdgeRequest extends IncomingMessage {
  /** Request id: the client's `X-Request-Id` when sane, otherwise generated. */
  id = ''
  /** Set by the edge; `log` derives the per-request child from it on first use. */
  baseLogger: Logger | null = null
  #log: Logger | undefined

  /** A pino child logger bound to this request's id. */
  get log(): Logger {
    this.#log ??= this.baseLogger!.child({ reqId: this.id })
    return this.#log
  }
}

/**
 * The response class of the edge's server with `--preserve-header-case`: the bookkeeping fields the
 * edge needs, and header names as the app spelled them.
 */
export class EdgeResponse extends ServerResponse<EdgeRequest> {
  conn: Tracked | null = null
  started = 0
}

/** The edge's default response class: common header names go out in lower case (header-names.ts says why). */
export class LowerCaseEdgeResponse extends EdgeResponse {
  override setHeader(name: string, value: number | string | readonly string[]): this {
    return super.setHeader(lowerHeaderName(name), value)
  }

  override appendHeader(name: string, value: string | readonly string[]): this {
    return super.appendHeader(lowerHeaderName(name), value)
  }
}
