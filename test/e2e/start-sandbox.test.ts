import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort, runCli } from '../helpers/cli.js'
import { app, get, isolatedEnv, startApp, waitFor, type Running } from './start-harness.js'

const env = isolatedEnv()

interface SandboxJson {
  url: string
  adminUrl: string
  pid: number
  state: string
  restarts: number
  webhooks: string | null
}

async function sandboxOf(r: Running): Promise<SandboxJson> {
  const s = await r.cli(['status', '--json', '--port', String(r.port)])
  expect(s.code, s.stderr).toBe(0)
  return (JSON.parse(s.stdout) as { sandbox: SandboxJson }).sandbox
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('ecom start --sandbox', () => {
  it('starts the sandbox before the workers, hands them ECOM_SANDBOX_URL, restarts it when killed, stops it last', async () => {
    const r = await startApp([app('sandbox-app.mjs'), '--workers', '2', '--sandbox'], env, { workers: 2 })
    try {
      const sb = await sandboxOf(r)
      expect(sb).toMatchObject({ state: 'running', restarts: 0, webhooks: null })
      expect(sb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(sb.adminUrl).toBe(`${sb.url}/__admin`)
      // Both workers were forked with the URL.
      const seen = new Map<number, string>()
      for (let i = 0; i < 40 && seen.size < 2; i++) {
        const b = JSON.parse((await get(`${r.url}/`)).body) as { pid: number; sandbox: string }
        seen.set(b.pid, b.sandbox)
      }
      expect(seen.size).toBe(2)
      for (const url of seen.values()) expect(url).toBe(sb.url)
      const health = await get(`${sb.url}/__admin/health`)
      expect(health.status).toBe(200)
      expect(JSON.parse(health.body).providers).toEqual(['stripe', 'square', 'adyen', 'braintree'])

      process.kill(sb.pid, 'SIGKILL')
      const back = await waitFor(async () => {
        const s = await sandboxOf(r)
        return s.state === 'running' && s.pid !== sb.pid && s
      })
      expect(back.restarts).toBe(1)
      expect(back.url).toBe(sb.url) // same port: the workers' URL still holds
      expect((await get(`${sb.url}/__admin/health`)).status).toBe(200)

      const exit = await r.stop()
      expect(exit.code).toBe(0)
      await waitFor(async () => !alive(back.pid))
      await expect(get(`${sb.url}/__admin/health`, { timeoutMs: 2000 })).rejects.toThrow()
    } finally {
      await r.stop()
    }
  })

  it('a primary killed with SIGKILL does not leave its sandbox running', async () => {
    const r = await startApp([app('sandbox-app.mjs'), '--workers', '1', '--sandbox'], env)
    try {
      const sb = await sandboxOf(r)
      expect(alive(sb.pid)).toBe(true)
      r.child.kill('SIGKILL')
      await r.exited
      // Nobody stopped it: it notices its parent is gone and exits by itself.
      await waitFor(async () => !alive(sb.pid))
      await expect(get(`${sb.url}/__admin/health`, { timeoutMs: 2000 })).rejects.toThrow()
    } finally {
      await r.stop()
    }
  })

  it('single process: the app sees the sandbox, and signed webhooks reach /webhooks/{provider} on the app', async () => {
    const r = await startApp([app('sandbox-app.mjs'), '--workers', '1', '--sandbox', '--sandbox-webhooks', '/webhooks/{provider}'], env)
    try {
      const sb = await sandboxOf(r)
      expect(sb.webhooks).toBe(`${r.url}/webhooks/{provider}`)
      expect(JSON.parse((await get(`${r.url}/`)).body).sandbox).toBe(sb.url)
      const pi = await get(`${sb.url}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_ecom_sandbox_0000000000', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'amount=1200&currency=usd&payment_method=pm_card_visa&confirm=true',
      })
      expect(pi.status).toBe(200)
      const hooks = await waitFor(async () => {
        const list = JSON.parse((await get(`${r.url}/webhooks`)).body) as Array<{ provider: string; signed: boolean; type: string }>
        return list.length > 0 && list
      })
      expect(hooks).toEqual([{ provider: 'stripe', signed: true, type: 'payment_intent.succeeded' }])
    } finally {
      await r.stop()
    }
  })

  it('a sandbox port that is taken stops the start before any worker forks, saying why', async () => {
    const taken = await freePort()
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(taken, '127.0.0.1', resolve))
    try {
      const res = await runCli(['start', app('sandbox-app.mjs'), '--workers', '2', '--port', String(await freePort()), '--sandbox', String(taken)], { env })
      expect(res.code).toBe(1)
      expect(res.stderr).toContain('ECOM_ERR_PROCESS_START')
      expect(res.stderr).toContain(`the payment sandbox did not start: the payments sandbox could not listen on 127.0.0.1:${taken}: EADDRINUSE`)
    } finally {
      blocker.close()
    }
  })
})
