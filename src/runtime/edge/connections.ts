import type { IncomingMessage } from 'node:http'
import type { Server as NetServer, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { EdgeResponse, Tracked } from './request.js'

const kTracked = Symbol('ecom.connection')

type TrackedSocket = Socket & { [kTracked]?: Tracked }

/**
 * Counts open connections and what each is doing, for three jobs: the per-worker connection limit
 * (a connection over it is answered 503 + `Connection: close` instead of being dropped silently),
 * the open-connections gauge, and draining (which needs to tell a busy keep-alive socket from an idle
 * one: busy ones get `Connection: close` on their reply, idle ones are closed).
 */
export class ConnectionTracker {
  readonly #sockets = new Set<TrackedSocket>()
  readonly #max: number
  #draining = false
  #onEmpty: Array<() => void> = []
  onChange: ((open: number) => void) | undefined

  constructor(maxConnections: number) {
    this.#max = maxConnections
  }

  attach(server: NetServer): void {
    server.on('connection', (socket: TrackedSocket) => {
      socket[kTracked] = { active: 0, idleSince: performance.now(), overLimit: this.#sockets.size >= this.#max, res: null }
      this.#sockets.add(socket)
      this.onChange?.(this.#sockets.size)
      socket.once('close', () => {
        this.#sockets.delete(socket)
        this.onChange?.(this.#sockets.size)
        if (this.#sockets.size === 0) for (const cb of this.#onEmpty.splice(0)) cb()
      })
    })
  }

  get open(): number {
    return this.#sockets.size
  }

  get draining(): boolean {
    return this.#draining
  }

  /**
   * Call at the start of every request; says whether the connection is over the limit. The caller
   * calls `end(res, performance.now())` when the response closes (the edge does it from the one
   * 'close' listener it adds per response anyway, which reads the clock for the latency histogram).
   */
  begin(req: IncomingMessage, res: EdgeResponse): boolean {
    const t = (req.socket as TrackedSocket)[kTracked]
    if (this.#draining) res.setHeader('Connection', 'close')
    if (!t) return false
    t.active++
    t.res = res
    res.conn = t
    return t.overLimit
  }

  end(res: EdgeResponse, now: number): void {
    const t = res.conn
    if (!t) return
    res.conn = null
    if (t.res === res) t.res = null
    if (--t.active === 0) t.idleSince = now
  }

  /**
   * Start draining: replies not yet begun carry `Connection: close`, and from now on idle keep-alive
   * sockets are closed once they have been idle for `idleMs` (a socket idle for only a moment may have
   * the client's next request on the wire; closing it then would fail that request).
   */
  drain(idleMs: number): void {
    this.#draining = true
    for (const s of this.#sockets) {
      const res = s[kTracked]!.res
      if (res && !res.headersSent) res.setHeader('Connection', 'close')
    }
    const sweep = (): void => {
      const now = performance.now()
      for (const s of this.#sockets) {
        const t = s[kTracked]!
        if (t.active === 0 && now - t.idleSince >= idleMs) s.end()
      }
    }
    sweep()
    const timer = setInterval(sweep, Math.max(25, Math.floor(idleMs / 4)))
    timer.unref()
    this.whenEmpty().then(() => clearInterval(timer), () => {})
  }

  whenEmpty(): Promise<void> {
    if (this.#sockets.size === 0) return Promise.resolve()
    return new Promise((resolve) => this.#onEmpty.push(resolve))
  }

  destroyAll(): void {
    for (const s of this.#sockets) s.destroy()
  }
}
