// The dashboard in a real headless browser: Debian's chromium (installed by .ci/run) driven by
// playwright-core. It must load, show both workers, and show a killed worker being replaced.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { app, isolatedEnv, startApp, type Running } from './start-harness.js'

const CHROMIUM = '/usr/bin/chromium'
const skip = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium): the dashboard browser test is skipped`
if (skip) console.warn(skip)

describe.skipIf(skip !== undefined)('the dashboard in chromium', () => {
  let r: Running
  let context: BrowserContext
  const profile = mkdtempSync(join(tmpdir(), 'ecom-chromium-'))

  beforeAll(async () => {
    r = await startApp([app('plain.mjs'), '--workers', '2'], isolatedEnv(), { workers: 2 })
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
  }, 60_000)
  afterAll(async () => {
    await context?.close()
    await r?.stop()
    rmSync(profile, { recursive: true, force: true })
  })

  it('loads, shows two workers, and shows the restart after a worker is killed', async () => {
    const web = await r.cli(['status', '--web', '--port', String(r.port)])
    expect(web.code, web.stderr).toBe(0)
    const link = web.stdout.trim()
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    const res = await page.goto(link)
    expect(res?.status()).toBe(200)
    expect(new URL(page.url()).search).toBe('') // the token left the address bar for a cookie

    const rows = page.locator('#workers tbody tr')
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2)
    await expect.poll(() => page.locator('#workers tr[data-state="listening"]').count(), { timeout: 15_000 }).toBe(2)
    await expect.poll(() => page.textContent('#title')).toBe('plain')
    const victim = Number(await page.locator('#workers tr[data-worker-id="0"]').getAttribute('data-pid'))
    expect(victim).toBeGreaterThan(0)

    process.kill(victim, 'SIGKILL')
    const slot0 = page.locator('#workers tr[data-worker-id="0"]')
    // Pushed over server-sent events, without a reload: restarts 1 and a new pid, listening again.
    await expect.poll(async () => [await slot0.getAttribute('data-restarts'), await slot0.getAttribute('data-state')], { timeout: 20_000 }).toEqual(['1', 'listening'])
    const replacement = Number(await slot0.getAttribute('data-pid'))
    expect(replacement).toBeGreaterThan(0)
    expect(replacement).not.toBe(victim)
    expect(await slot0.locator('td').nth(4).textContent()).toBe('1')
    expect(await page.textContent('#conn')).toMatch(/^live/)
    expect(errors).toEqual([])
  }, 60_000)
})
