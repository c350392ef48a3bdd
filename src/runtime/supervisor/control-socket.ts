import { chmodSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import * as errors from '../../errors.js'
import { AppAlreadyRunningError, AppAmbiguousError, AppNotRunningError, ControlError, EcomError } from '../../errors.js'

/**
 * The local control channel between `ecom status/reload/stop` and a running primary: one unix socket
 * per app in a per-user directory. The directory is 0700 and the socket 0600, so only the owner can
 * reach a primary. Requests and replies are one JSON object per line.
 */

export type ControlCommand = 'status' | 'reload' | 'stop'
export interface ControlRequest { cmd: ControlCommand }
export type ControlReply = { ok: true; data: unknown } | { ok: false; code: string; message: string }

export function controlDir(): string {
  const uid = process.getuid?.() ?? userInfo().username
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), `ecom-${uid}`)
}

export function socketPath(name: string, port: number, dir = controlDir()): string {
  return join(dir, `${name}@${port}.sock`)
}

/** Create the directory owner-only, and refuse one that someone else owns or others can enter. */
export function ensureControlDir(dir = controlDir()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const st = lstatSync(dir)
  if (!st.isDirectory() || st.isSymbolicLink()) throw new ControlError(`${dir} is not a directory`)
  if (process.getuid && st.uid !== process.getuid()) throw new ControlError(`${dir} belongs to another user`)
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
  return dir
}

function ping(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

/** Listen on the app's socket. A socket left by a primary that died is replaced; a live one is an error. */
export async function listenControl(
  name: string,
  port: number,
  handle: (cmd: ControlCommand) => Promise<unknown>
): Promise<{ server: Server; path: string; close: () => Promise<void> }> {
  const dir = ensureControlDir()
  const path = socketPath(name, port, dir)
  try {
    lstatSync(path)
    if (await ping(path)) throw new AppAlreadyRunningError(`an ecom app named "${name}" on port ${port} is already running (${path})`)
    unlinkSync(path)
  } catch (err) {
    if (err instanceof EcomError) throw err
  }
  const server = createServer((sock) => serveConnection(sock, handle))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => {
      server.off('error', reject)
      resolve()
    })
  })
  chmodSync(path, 0o600)
  server.unref()
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve())
      try {
        unlinkSync(path)
      } catch {
        // already gone
      }
    })
  return { server, path, close }
}

function serveConnection(sock: Socket, handle: (cmd: ControlCommand) => Promise<unknown>): void {
  let buf = ''
  sock.setEncoding('utf8')
  sock.on('error', () => {})
  sock.on('data', (chunk: string) => {
    buf += chunk
    const nl = buf.indexOf('\n')
    if (nl === -1) {
      if (buf.length > 64 * 1024) sock.destroy()
      return
    }
    const line = buf.slice(0, nl)
    buf = ''
    let req: ControlRequest
    try {
      req = JSON.parse(line) as ControlRequest
    } catch {
      return reply(sock, { ok: false, code: 'ECOM_ERR_CONTROL', message: 'bad request' })
    }
    if (!['status', 'reload', 'stop'].includes(req.cmd)) {
      return reply(sock, { ok: false, code: 'ECOM_ERR_CONTROL', message: `unknown command ${String(req.cmd)}` })
    }
    handle(req.cmd).then(
      (data) => reply(sock, { ok: true, data }),
      (err: unknown) =>
        reply(sock, {
          ok: false,
          code: err instanceof EcomError ? err.code : 'ECOM_ERR_CONTROL',
          message: err instanceof Error ? err.message : String(err),
        })
    )
  })
}

function reply(sock: Socket, r: ControlReply): void {
  if (!sock.destroyed) sock.end(`${JSON.stringify(r)}\n`)
}

export interface RunningApp {
  name: string
  port: number
  path: string
}

/** The apps with a live control socket; stale sockets of dead primaries are removed on the way. */
export async function listApps(dir = controlDir()): Promise<RunningApp[]> {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  const apps: RunningApp[] = []
  for (const file of names) {
    const m = /^(.+)@(\d+)\.sock$/.exec(file)
    if (!m) continue
    const path = join(dir, file)
    if (await ping(path)) apps.push({ name: m[1]!, port: Number(m[2]), path })
    else {
      try {
        unlinkSync(path)
      } catch {
        // raced with another cleanup
      }
    }
  }
  return apps
}

/** Pick the one app the user means by name and/or port. */
export async function selectApp(sel: { name?: string; port?: number }): Promise<RunningApp> {
  const apps = (await listApps()).filter(
    (a) => (sel.name === undefined || a.name === sel.name) && (sel.port === undefined || a.port === sel.port)
  )
  const what = [sel.name && `named "${sel.name}"`, sel.port !== undefined && `on port ${sel.port}`].filter(Boolean).join(' ')
  if (apps.length === 0) throw new AppNotRunningError(`no running ecom app${what ? ` ${what}` : ''} was found`)
  if (apps.length > 1) {
    const list = apps.map((a) => `${a.name}@${a.port}`).join(', ')
    throw new AppAmbiguousError(`several ecom apps are running (${list}); select one with --name or --port`)
  }
  return apps[0]!
}

/** Send one command and wait for its reply (a reload or stop can take a while: up to timeoutMs). */
export function sendControl(path: string, cmd: ControlCommand, timeoutMs = 120_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(path)
    let buf = ''
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new ControlError(`no answer to "${cmd}" within ${timeoutMs}ms`))
    }, timeoutMs)
    sock.setEncoding('utf8')
    sock.once('connect', () => sock.write(`${JSON.stringify({ cmd })}\n`))
    sock.on('data', (d: string) => (buf += d))
    sock.once('error', (err) => {
      clearTimeout(timer)
      reject(new ControlError(`cannot reach the app at ${path}: ${err.message}`, { cause: err }))
    })
    sock.once('end', () => {
      clearTimeout(timer)
      let r: ControlReply
      try {
        r = JSON.parse(buf) as ControlReply
      } catch {
        return reject(new ControlError(`the app closed the control connection without answering "${cmd}"`))
      }
      if (r.ok) resolve(r.data)
      else reject(errorFromReply(r.code, r.message))
    })
  })
}

/** The primary's error, rebuilt with its own class so the CLI prints the same code the primary raised. */
function errorFromReply(code: string, message: string): EcomError {
  for (const value of Object.values(errors)) {
    if (typeof value === 'function' && value.prototype instanceof EcomError && (value as typeof EcomError).code === code) {
      return new (value as typeof EcomError)(message)
    }
  }
  return new ControlError(message, { details: { code } })
}
