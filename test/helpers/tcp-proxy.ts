import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy to simulate an outage of a shared service without touching the service: `down()` cuts
 * every connection and refuses new ones, `up()` listens again on the same port.
 */
export class TcpProxy {
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined
  port = 0

  constructor(readonly targetHost: string, readonly targetPort: number) {}

  static forUrl(url: string): TcpProxy {
    const u = new URL(url)
    return new TcpProxy(u.hostname, Number(u.port || 6379))
  }

  /** The target URL with the host and port replaced by the proxy's. */
  url(original: string): string {
    const u = new URL(original)
    u.hostname = '127.0.0.1'
    u.port = String(this.port)
    return u.toString()
  }

  up(): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost)
      this.#sockets.add(client).add(upstream)
      const drop = (): void => {
        client.destroy()
        upstream.destroy()
        this.#sockets.delete(client)
        this.#sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream).pipe(client)
    })
    this.#server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as { port: number }).port
        resolve(this.port)
      })
    })
  }

  down(): Promise<void> {
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
    const server = this.#server
    this.#server = undefined
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()))
  }
}
