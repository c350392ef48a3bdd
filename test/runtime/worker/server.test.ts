import { Agent, request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../../../src/runtime/logger.js'
import { EDGE_DEFAULTS } from '../../../src/runtime/supervisor/options.js'
import { EcomServer } from '../../../src/runtime/worker/server.js'

function get(port: number, path: string, agent: Agent): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    request({ port, path, host: '127.0.0.1', agent }, (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, body }))
    })
      .on('error', reject)
      .end()
  })
}

describe('EcomServer drain', () => {
  let server: EcomServer | undefined
  afterEach(() => server?.server.close())

  async function serve(): Promise<number> {
    server = new EcomServer(
      (req, res) => {
        if (req.url === '/slow') setTimeout(() => res.end('slow'), 300)
        else res.end('ok')
      },
      { edge: EDGE_DEFAULTS, port: 0, host: '127.0.0.1', logger: createLogger({ level: 'silent' }), store: null, metricsText: async () => '' }
    )
    await server.listen()
    return server.port
  }

  it('lets in-flight requests finish with Connection: close, closes idle keep-alive sockets, stops accepting', async () => {
    const port = await serve()
    const busy = new Agent({ keepAlive: true, maxSockets: 1 })
    const idle = new Agent({ keepAlive: true, maxSockets: 1 })
    expect((await get(port, '/', idle)).connection).toBe('keep-alive')
    const slow = get(port, '/slow', busy)
    await new Promise((r) => setTimeout(r, 50))
    expect(server!.connections.open).toBe(2)
    const drained = server!.drain(5000)
    const res = await slow
    expect(res).toMatchObject({ status: 200, body: 'slow', connection: 'close' })
    await drained // both sockets gone: the busy one after its reply, the idle one once it sat idle
    expect(server!.connections.open).toBe(0)
    expect(server!.server.listening).toBe(false)
    busy.destroy()
    idle.destroy()
  })

  it('cuts what is left when the grace period runs out', async () => {
    const port = await serve()
    const agent = new Agent({ keepAlive: true })
    const slow = get(port, '/slow', agent).catch((e: Error) => e)
    await new Promise((r) => setTimeout(r, 50))
    await server!.drain(100)
    expect(await slow).toBeInstanceOf(Error)
    agent.destroy()
  })
})
