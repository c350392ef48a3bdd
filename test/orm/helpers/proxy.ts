import { createServer, connect, type Server, type Socket } from 'node:net'

/** A TCP pass-through in front of a database, so a test can cut one adapter's connections for real. */
export interface Proxy {
  port: number
  /** Destroy every open connection and refuse new ones. */
  kill(): Promise<void>
}

export async function startProxy(host: string, port: number, listenPort = 0): Promise<Proxy> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(port, host)
    sockets.add(client)
    sockets.add(upstream)
    client.pipe(upstream).pipe(client)
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise<void>((r) => server.listen(listenPort, "127.0.0.1", r))
  return {
    port: (server.address() as { port: number }).port,
    kill: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}
