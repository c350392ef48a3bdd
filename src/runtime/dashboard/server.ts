import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DashboardListenError } from '../../errors.js'
import type { Logger } from '../logger.js'
import type { DashboardOptions } from '../supervisor/options.js'
import type { AppStatus, ProcessSnapshot } from '../supervisor/status.js'
import { cookieName, newToken, presentedToken, sessionCookie, tokenMatches } from './auth.js'
import { dashboardPage } from './page.js'
import { Sampler, type DashboardState } from './sample.js'

/** What the dashboard reads from the running app. */
export interface DashboardSource {
  status(): AppStatus
  snapshots(): Promise<ProcessSnapshot[]>
}

export interface Dashboard {
  /** The link that logs a browser in: `http://host:port/?token=…`. Owner-only: never log it. */
  readonly url: string
  /** `http://host:port` without the token. */
  readonly origin: string
  /** Browsers connected to `/events` right now. */
  readonly clients: number
  close(): Promise<void>
}

const SAMPLE_MS = 1000

function primaryNative(): Promise<DashboardState['native']['primary']> {
  return import('../../native/loader.js').then(
    (n) => {
      const s = n.nativeStatus()
      return { native: s.native, reason: s.reason }
    },
    () => null
  )
}

/**
 * The primary's dashboard: its own small HTTP server (127.0.0.1 and a free port unless told otherwise),
 * behind a random per-start token. `/?token=` trades the token for an HttpOnly SameSite=Strict cookie;
 * every other request needs that cookie (or `Authorization: Bearer`), else 401. While at least one
 * browser listens on `/events`, the cluster is sampled once a second and each sample is pushed to all.
 */
export async function startDashboard(options: DashboardOptions, source: DashboardSource, logger: Logger): Promise<Dashboard> {
  const token = newToken()
  const sampler = new Sampler()
  const clients = new Set<ServerResponse>()
  // Asked on first sample, not at start: the primary need not load the addon before anyone looks.
  let native: ReturnType<typeof primaryNative> | undefined
  let last: DashboardState | undefined
  let inflight: Promise<DashboardState> | undefined
  let timer: NodeJS.Timeout | undefined
  let cookie = ''

  const sample = (): Promise<DashboardState> => {
    inflight ??= (async () => {
      try {
        const snaps = await source.snapshots()
        last = sampler.sample(snaps, source.status(), await (native ??= primaryNative()))
        return last
      } finally {
        inflight = undefined
      }
    })()
    return inflight
  }
  /** A sample at most one interval old: many readers never make the cluster collect more often. */
  const fresh = (): Promise<DashboardState> => (last && Date.now() - last.sampledAt < SAMPLE_MS ? Promise.resolve(last) : sample())

  const broadcast = (state: DashboardState): void => {
    const frame = `data: ${JSON.stringify(state)}\n\n`
    for (const res of clients) res.write(frame)
  }
  const tick = (): void => {
    sample().then(broadcast, (err: unknown) => logger.warn({ err }, 'dashboard: sampling failed'))
  }
  const startSampling = (): void => {
    if (timer) return
    timer = setInterval(tick, SAMPLE_MS)
    timer.unref()
  }
  const stopSampling = (): void => {
    clearInterval(timer)
    timer = undefined
  }

  const send = (res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers })
    res.end(body)
  }
  const unauthorised = (res: ServerResponse): void =>
    send(res, 401, 'text/plain; charset=utf-8', '401: this dashboard needs its token; `ecom status --web` prints the link\n')

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://dashboard')
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', '405: read-only\n', { allow: 'GET, HEAD' })
    const given = url.searchParams.get('token')
    if (given !== null) {
      if (!tokenMatches(token, given)) return unauthorised(res)
      // Trade the token for a cookie and drop it from the address bar (and from history).
      res.writeHead(303, { location: url.pathname, 'set-cookie': sessionCookie(cookie, token), 'cache-control': 'no-store' })
      return void res.end()
    }
    if (!tokenMatches(token, presentedToken(req, cookie))) return unauthorised(res)
    if (url.pathname === '/') {
      const nonce = randomBytes(16).toString('base64')
      return send(res, 200, 'text/html; charset=utf-8', dashboardPage(nonce), {
        'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      })
    }
    if (url.pathname === '/api/state') {
      fresh().then(
        (s) => send(res, 200, 'application/json', JSON.stringify(s)),
        (err: unknown) => send(res, 500, 'application/json', JSON.stringify({ error: (err as Error).message }))
      )
      return
    }
    if (url.pathname === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
      res.write('retry: 2000\n\n')
      clients.add(res)
      startSampling()
      fresh().then(
        (s) => res.write(`data: ${JSON.stringify(s)}\n\n`),
        () => {}
      )
      req.on('close', () => {
        clients.delete(res)
        if (clients.size === 0) stopSampling()
      })
      return
    }
    send(res, 404, 'text/plain; charset=utf-8', '404\n')
  }

  const server: Server = createServer(handle)
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new DashboardListenError(`the dashboard could not listen on ${options.host}:${options.port}: ${err.code ?? err.message}`, { cause: err }))
    )
    server.listen(options.port, options.host, () => resolve())
  })
  server.unref()
  const { port } = server.address() as AddressInfo
  cookie = cookieName(port)
  const origin = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`
  return {
    url: `${origin}/?token=${token}`,
    origin,
    get clients() {
      return clients.size
    },
    close: () =>
      new Promise<void>((resolve) => {
        stopSampling()
        for (const res of clients) res.end()
        clients.clear()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
