import { afterAll, describe, expect, it } from 'vitest'
import { app, get, isolatedEnv, startApp, type Running } from './start-harness.js'

const env = isolatedEnv()

describe('ecom start serves what the entry exports', () => {
  const running: Running[] = []
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()))
  })

  it('a TypeScript entry exporting an express app, with no build step, clustered', async () => {
    const r = await startApp([app('express-app.ts'), '--workers', '2', '--name', 'express'], env, { workers: 2 })
    running.push(r)
    const res = await get(`${r.url}/`)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ greeting: 'hello from express' })
    expect(JSON.parse((await get(`${r.url}/items/42`)).body)).toEqual({ id: '42' })
    // express's matched route pattern labels the metrics, not the raw path.
    const metrics = (await get(`${r.url}/metrics`)).body
    expect(metrics).toMatch(/ecom_http_requests_total\{method="GET",route="\/items\/:id",status="200"\} 1/)
  })

  it('a TypeScript entry with ESM syntax inside a CommonJS package', async () => {
    const r = await startApp([app('commonjs-ts/app.ts'), '--workers', '1', '--name', 'commonjs-ts'], env)
    running.push(r)
    expect(JSON.parse((await get(`${r.url}/`)).body)).toEqual({ from: 'commonjs-ts' })
  })

  it('a factory returning a fastify instance', async () => {
    const r = await startApp([app('fastify-factory.mjs'), '--workers', '1', '--name', 'fastify'], env)
    running.push(r)
    const res = await get(`${r.url}/`)
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ framework: 'fastify' })
    const echo = await get(`${r.url}/echo`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })
    expect(JSON.parse(echo.body)).toEqual({ body: { a: 1 } })
  })

  it('a plain handler, with --env-file loaded before the entry', async () => {
    const r = await startApp([app('plain.mjs'), '--workers', '1', '--name', 'plain', '--env-file', app('.env.test')], env)
    running.push(r)
    const body = JSON.parse((await get(`${r.url}/`)).body) as { fromEnvFile: string; worker: string; size: string }
    expect(body).toMatchObject({ fromEnvFile: 'loaded', worker: '0', size: '1' })
  })
})
