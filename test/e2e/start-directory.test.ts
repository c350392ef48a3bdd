import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { app, get, isolatedEnv, startApp, status, type Running } from './start-harness.js'

const env = isolatedEnv()

describe('ecom start <directory>', () => {
  let r: Running | undefined
  afterEach(async () => {
    await r?.stop()
    r = undefined
  })

  it('serves the file package.json "main" names (extension added like Node), named after the directory', async () => {
    r = await startApp([app('dir-main'), '--workers', '2'], env, { workers: 2 })
    expect(JSON.parse((await get(`${r.url}/`)).body)).toMatchObject({ from: 'dir-main/server.mjs' })
    expect((await status(r)).name).toBe('dir-main')
  })

  it('serves the index file of a directory without package.json (single process)', async () => {
    r = await startApp([app('dir-index'), '--workers', '1'], env)
    expect(JSON.parse((await get(`${r.url}/`)).body)).toMatchObject({ from: 'dir-index/index.mjs' })
  })

  it('refuses a directory with neither "main" nor an index: exit 2, one coded line', async () => {
    const res = await runCli(['start', app('dir-empty'), '--port', '0'], { env })
    expect(res.code).toBe(2)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    expect(res.stderr).toContain('ECOM_ERR_ENTRY_NO_INDEX')
  })
})
