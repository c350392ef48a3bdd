import { createServer, request, type RequestListener } from 'node:http'
import express from 'express'
import Fastify from 'fastify'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { EntryLoadError, EntryShapeError } from '../../../src/errors.js'
import { adaptApp, closeApp, loadApp, loadEntry } from '../../../src/runtime/worker/load-entry.js'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../../helpers/temp-dir.js'

const fixture = (f: string) => fileURLToPath(new URL(`../../fixtures/apps/${f}`, import.meta.url))

/** Serve a listener on a random port for one GET. */
async function call(listener: RequestListener, path = '/'): Promise<{ status: number; body: string }> {
  const srv = createServer(listener)
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const { port } = srv.address() as { port: number }
  try {
    return await new Promise((resolve, reject) => {
      request({ port, path, host: '127.0.0.1' }, (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      })
        .on('error', reject)
        .end()
    })
  } finally {
    srv.close()
  }
}

describe('adapting what the entry exports', () => {
  it('a plain handler is used as is', async () => {
    const h: RequestListener = (_req, res) => res.end('plain')
    expect(await adaptApp(h)).toBe(h)
  })

  it('an express app', async () => {
    const app = express().get('/', (_req, res) => void res.send('express'))
    expect((await call(await adaptApp(app))).body).toBe('express')
  })

  it('a fastify instance, made ready first', async () => {
    const app = Fastify()
    app.get('/', async () => 'fastify')
    expect((await call(await adaptApp(app))).body).toBe('fastify')
  })

  it('a koa-style app object through callback()', async () => {
    const koaLike = { use() {}, callback: () => ((_req, res) => res.end('koa')) as RequestListener }
    expect((await call(await adaptApp(koaLike))).body).toBe('koa')
  })

  it('a factory, sync or async', async () => {
    expect((await call(await adaptApp(() => (_req: unknown, res: { end(s: string): void }) => res.end('f1')))).body).toBe('f1')
    expect((await call(await adaptApp(async () => express().get('/', (_q, s) => void s.send('f2'))))).body).toBe('f2')
  })

  it('an http.Server with a request listener', async () => {
    const srv = createServer((_req, res) => res.end('server'))
    expect((await call(await adaptApp(srv))).body).toBe('server')
  })

  it('anything else is a shape error', async () => {
    await expect(adaptApp(42)).rejects.toBeInstanceOf(EntryShapeError)
    await expect(adaptApp({})).rejects.toBeInstanceOf(EntryShapeError)
  })
})

describe('loading the entry file', () => {
  it('loads a TypeScript entry through tsx', async () => {
    const h = await loadEntry(fixture('express-app.ts'))
    expect(JSON.parse((await call(h)).body)).toMatchObject({ greeting: 'hello from express' })
  })

  it('wraps an import-time throw with its cause', async () => {
    const err = await loadEntry(fixture('throws-at-import.mjs')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EntryLoadError)
    expect((err as Error).message).toContain('database URL is not set')
    expect((err as Error).cause).toBeInstanceOf(Error)
  })

  it('refuses an entry with nothing to serve', async () => {
    await expect(loadEntry(fixture('exports-nothing.mjs'))).rejects.toBeInstanceOf(EntryShapeError)
  })
})

describe('closing the app at shutdown', () => {
  const quiet = { warn: () => {}, error: () => {} } as never

  it("runs the app's close() (here set on the handler a factory returns), then the module's close export", async () => {
    const file = join(tempDir('close'), 'log')
    process.env.ECOM_TEST_CLOSE_LOG = file
    const app = await loadApp(fixture('closes.mjs'))
    expect((await call(app.handler)).body).toBe('open')
    await app.close!()
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0])).toEqual(['app-closed', 'module-closed'])
  })

  it('closes a fastify instance the entry exports (its onClose hooks run); a plain handler has nothing to close', async () => {
    expect((await loadApp(fixture('hello-handler.mjs'))).close).toBeUndefined()
    const app = Fastify()
    let closed = false
    app.addHook('onClose', async () => {
      closed = true
    })
    ;(globalThis as { __ecomFastify?: unknown }).__ecomFastify = app
    const entry = join(tempDir('fastify-close'), 'entry.mjs')
    writeFileSync(entry, 'export default globalThis.__ecomFastify\n')
    const loaded = await loadApp(entry)
    expect((await call(loaded.handler)).status).toBe(404)
    await loaded.close!()
    expect(closed).toBe(true)
  })

  it('gives up on a close that does not finish in time, and logs one that throws', async () => {
    const logged: string[] = []
    const logger = { warn: (_o: unknown, m: string) => logged.push(m), error: (_o: unknown, m: string) => logged.push(m) } as never
    // Returns (after the one-second floor) although the close never settles.
    await closeApp(() => new Promise(() => {}), 0, logger)
    await closeApp(async () => {
      throw new Error('pool already gone')
    }, 1000, logger)
    await closeApp(undefined, 1000, quiet)
    expect(logged).toEqual([expect.stringContaining('did not finish'), expect.stringContaining('failed')])
  })
})
