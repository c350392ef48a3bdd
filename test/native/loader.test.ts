import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { LineSplitter, NativeUnavailableError, VectorIndex, nativeStatus } from '../../src/public/native.js'

const root = new URL('../../', import.meta.url).pathname

function statusIn(env: Record<string, string>): { native: boolean; reason: string; backend: string } {
  const script = `import { nativeStatus, VectorIndex } from './src/public/native.ts'
const s = nativeStatus()
console.log(JSON.stringify({ ...s, backend: new VectorIndex({ dimensions: 2 }).backend }))`
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop()!)
}

describe('native loader', () => {
  it('loads the addon built by the install script (cmake-js), from src/', () => {
    const s = nativeStatus()
    if (process.env.ECOM_NO_NATIVE === '1') {
      console.warn('ECOM_NO_NATIVE=1 is set for this run: checking that the fallback is in use instead')
      expect(s.native).toBe(false)
      return
    }
    // CI builds the addon during `npm ci`; if this fails, the reason says why the build did not happen.
    expect(s.reason).toMatch(/loaded .*ecom_native\.node/)
    expect(s.native).toBe(true)
    expect(['avx512', 'avx2', 'scalar']).toContain(s.simd)
  })

  it('ECOM_NO_NATIVE=1 forces the TypeScript fallback, and says so', () => {
    const s = statusIn({ ECOM_NO_NATIVE: '1' })
    expect(s.native).toBe(false)
    expect(s.reason).toMatch(/ECOM_NO_NATIVE=1/)
    expect(s.backend).toBe('typescript')
    if (process.env.ECOM_NO_NATIVE !== '1') expect(statusIn({ ECOM_NO_NATIVE: '0' }).backend).toBe('native')
  })

  it('backend "native" throws a coded error when the addon is unavailable; "typescript" always works', () => {
    expect(new LineSplitter({ backend: 'typescript' }).backend).toBe('typescript')
    expect(new VectorIndex({ dimensions: 3, backend: 'typescript' }).backend).toBe('typescript')
    const script = `import { VectorIndex } from './src/public/native.ts'
try { new VectorIndex({ dimensions: 2, backend: 'native' }); console.log('no error') } catch (e) { console.log(e.code) }`
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env: { ...process.env, ECOM_NO_NATIVE: '1' }, encoding: 'utf8' })
    expect(out.trim()).toBe(NativeUnavailableError.code)
  })
})

describe('ecom_native_backend', () => {
  it('reports the backend in use once the addon was asked for', async () => {
    const { Registry } = await import('prom-client')
    const { registerNativeMetric } = await import('../../src/native/loader.js')
    const registry = new Registry()
    registerNativeMetric(registry)
    registerNativeMetric(registry) // once per registry
    const s = nativeStatus()
    const text = await registry.metrics()
    expect(text).toContain(`ecom_native_backend{backend="${s.native ? 'native' : 'typescript'}",simd="${s.simd ?? 'none'}"} 1`)
  })
})
