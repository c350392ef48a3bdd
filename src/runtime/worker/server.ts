import { createServer, type RequestListener, type Server } from 'node:http'
import { Server as NetServer } from 'node:net'
import { ListenError, PortInUseError } from '../../errors.js'
import { ConnectionTracker } from '../edge/connections.js'
import { createEdge } from '../edge/edge.js'
import { closeApp } from './load-entry.js'
import { keepNextTickFast } from '../next-tick.js'
import { EdgeRequest, EdgeResponse, LowerCaseEdgeResponse } from '../edge/request.js'
import type { RateLimitStore } from '../edge/rate-limit-store.js'
import type { Logger } from '../logger.js'
import type { EdgeOptions } from '../supervisor/options.js'

export interface ServeOptions {
  edge: EdgeOptions
  port: number
  host: string
  logger: Logger
  store: RateLimitStore | null
  metricsText: () => Promise<string>
  /** The app's own shutdown (`LoadedApp.close`), run by `drain` once the connections are gone. */
  close?: (() => Promise<void>) | undefined
}

/**
 * One worker's HTTP server: node:http with the edge's limits and timeouts, and a drain that leaves the
 * rotation without failing a request.
 */
export class EcomServer {
  readonly server: Server<typeof EdgeRequest, typeof EdgeResponse>
  readonly connections: ConnectionTracker
  requests = 0
  readonly #options: ServeOptions
  #drained: Promise<void> | undefined

  constructor(handler: RequestListener, options: ServeOptions) {
    // A server idles between bursts; next-tick.ts says what that does to process.nextTick.
    keepNextTickFast()
    this.#options = options
    const { edge } = options
    this.connections = new ConnectionTracker(edge.maxConnections)
    const listener = createEdge({
      options: edge,
      handler,
      store: options.store,
      logger: options.logger,
      connections: this.connections,
      metricsText: options.metricsText,
      onResponse: () => this.requests++,
    })
    const timeouts = [edge.headersTimeoutMs, edge.requestTimeoutMs].filter((t) => t > 0)
    this.server = createServer<typeof EdgeRequest, typeof EdgeResponse>(
      {
        IncomingMessage: EdgeRequest,
        ServerResponse: edge.preserveHeaderCase ? EdgeResponse : LowerCaseEdgeResponse,
        headersTimeout: edge.headersTimeoutMs,
        requestTimeout: edge.requestTimeoutMs,
        maxHeaderSize: edge.maxHeaderSize,
        // Node checks the two timeouts above on this interval (30 s by default), which would let a
        // header-trickling client hold a socket far longer than the timeout says.
        connectionsCheckingInterval: Math.max(100, Math.min(1000, ...timeouts.map((t) => Math.floor(t / 2)))),
      },
      listener
    )
    this.server.keepAliveTimeout = edge.keepAliveTimeoutMs
    this.connections.attach(this.server)
  }

  listen(): Promise<void> {
    const { port, host } = this.#options
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server.off('listening', onListening)
        if (err.code === 'EADDRINUSE') reject(new PortInUseError(`port ${port} on ${host} is already in use`, { cause: err }))
        else reject(new ListenError(`cannot listen on ${host}:${port}: ${err.message}`, { cause: err }))
      }
      const onListening = (): void => {
        this.server.off('error', onError)
        resolve()
      }
      this.server.once('error', onError)
      this.server.once('listening', onListening)
      this.server.listen({ port, host })
    })
  }

  get port(): number {
    const a = this.server.address()
    return typeof a === 'object' && a !== null ? a.port : this.#options.port
  }

  /**
   * Leave the rotation and let the connections finish: replies carry `Connection: close`, idle
   * keep-alive sockets are closed, and whatever is still open when `graceMs` runs out is cut. Then the
   * app lets go of what it holds (its close()), within what is left of `graceMs`.
   */
  drain(graceMs: number): Promise<void> {
    this.#drained ??= (async () => {
      const deadline = Date.now() + graceMs
      // How long a keep-alive socket must have been idle before draining closes it. Closing an idle
      // socket always races a request the client may be sending at that instant, so only sockets that
      // have sat idle for a good while are closed (a busy one gets `Connection: close` instead).
      const idleMs = Math.max(250, Math.min(this.#options.edge.keepAliveTimeoutMs / 2, graceMs / 4))
      this.connections.drain(idleMs)
      // http.Server#close would also close every idle socket at once, racing a request already on its
      // way; net.Server#close only stops taking connections (in a cluster worker it tells the primary
      // to route no more to this worker), and the tracker closes sockets that stay idle.
      if (this.server.listening) NetServer.prototype.close.call(this.server)
      const grace = setTimeout(() => this.connections.destroyAll(), graceMs)
      grace.unref()
      await this.connections.whenEmpty()
      clearTimeout(grace)
      this.server.closeAllConnections()
      await closeApp(this.#options.close, deadline - Date.now(), this.#options.logger)
    })()
    return this.#drained
  }
}
