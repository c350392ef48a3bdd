import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { freePort, runCli, startCli } from '../helpers/cli.js'

// Needs `npm run build` first (bin/ecom.js imports dist/).
describe('ecom payments sandbox', () => {
  it('prints the URL, serves the emulators and the admin API, and stops on SIGTERM', async () => {
    const port = await freePort()
    const child = startCli(['payments', 'sandbox', '--port', String(port)])
    try {
      for (let i = 0; i < 200 && !child.output().includes('listening on'); i++) await new Promise((r) => setTimeout(r, 25))
      expect(child.output()).toContain(`ecom payments sandbox listening on http://127.0.0.1:${port}`)
      const health = await (await fetch(`http://127.0.0.1:${port}/__admin/health`)).json()
      expect(health.providers).toContain('stripe')
      const set = await fetch(`http://127.0.0.1:${port}/__admin/faults/stripe`, { method: 'POST', body: JSON.stringify({ outage: true }) })
      expect(set.status).toBe(200)
      const pi = await fetch(`http://127.0.0.1:${port}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_ecom_sandbox_0000000000', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'amount=100&currency=usd&payment_method=pm_card_visa&confirm=true',
      })
      expect(pi.status).toBe(503)
    } finally {
      child.kill('SIGTERM')
    }
    const [code] = await once(child, 'exit')
    expect(code).toBe(0)
    expect(child.output()).toContain('sandbox stopped')
  })

  it('rejects a bad port with a usage error (exit 2)', async () => {
    const r = await runCli(['payments', 'sandbox', '--port', 'http'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ECOM_ERR_INVALID_OPTION')
  })

  it('rejects a --parent-pid that is not a process id (exit 2, nothing started)', async () => {
    const r = await runCli(['payments', 'sandbox', '--port', '0', '--parent-pid', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--parent-pid must be a process id')
    expect(r.stdout).not.toContain('listening')
  })

  it('exits 1 with a coded error when the port is taken', async () => {
    const port = await freePort()
    const first = startCli(['payments', 'sandbox', '--port', String(port)])
    try {
      for (let i = 0; i < 200 && !first.output().includes('listening on'); i++) await new Promise((r) => setTimeout(r, 25))
      const r = await runCli(['payments', 'sandbox', '--port', String(port)])
      expect(r.code).toBe(1)
      expect(r.stderr).toContain('ECOM_ERR_PAYMENTS_SANDBOX_LISTEN')
    } finally {
      first.kill('SIGTERM')
    }
    await once(first, 'exit')
  })
})
