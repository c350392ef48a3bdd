#!/usr/bin/env node
// Builds the native addon with cmake-js (offline: native/package.json marks the project as Node-API, so
// cmake-js takes its headers from node-api-headers and never downloads Node headers).
// Run by `npm install` (the package's own install script) and `npm run build:native`.
// During install a failed build is NOT an error: ecom then runs on its TypeScript fallback, and the reason
// is recorded in native/build/ecom-build.json for `ecom doctor`. `--strict` makes failures exit 1.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const outDir = join(here, 'build')
const strict = process.argv.includes('--strict')
const started = Date.now()

function record(ok, reason) {
  try {
    mkdirSync(outDir, { recursive: true })
    writeFileSync(join(outDir, 'ecom-build.json'), `${JSON.stringify({ ok, reason, seconds: (Date.now() - started) / 1000, node: process.version, at: new Date().toISOString() })}\n`)
  } catch {
    // A read-only install location: the loader then just reports that no addon was found.
  }
}

function finish(ok, reason) {
  record(ok, reason)
  if (ok) {
    console.log(`ecom: native addon built in ${((Date.now() - started) / 1000).toFixed(1)}s`)
    process.exit(0)
  }
  console.warn(`ecom: native addon not built (${reason}); ecom will use its TypeScript fallback.`)
  process.exit(strict ? 1 : 0)
}

try {
  if (process.env.ECOM_NO_NATIVE === '1' && !strict) finish(false, 'ECOM_NO_NATIVE=1 was set at install time')
  const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' })
  if (cmake.error || cmake.status !== 0) finish(false, 'cmake was not found on PATH')
  let cli
  try {
    cli = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js')
  } catch {
    finish(false, 'the cmake-js package is not installed')
  }
  // `build` configures when needed; only a build directory left from an earlier run (possibly another
  // Node or path) gets a clean `rebuild` after a failure, so a broken toolchain fails once, quickly.
  const stale = existsSync(join(outDir, 'CMakeCache.txt'))
  const run = (command) =>
    spawnSync(process.execPath, [cli, command, '--directory', here, '--out', outDir, '--parallel', String(availableParallelism()), '--log-level', 'warn'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  let res = run('build')
  if (res.status !== 0 && stale) res = run('rebuild')
  if (res.status === 0) finish(true, 'built')
  const tail = `${res.stdout ?? ''}\n${res.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n')
  if (tail) console.warn(tail)
  finish(false, res.error ? String(res.error.message) : `cmake-js exited with status ${res.status}`)
} catch (err) {
  finish(false, err instanceof Error ? err.message : String(err))
}
