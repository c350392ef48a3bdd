import { createServer, ServerResponse, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InvalidOptionError, SandboxListenError, UnknownProviderError } from '../../errors.js'
import { PROVIDER_NAMES, type ProviderName } from '../model.js'
import { EMULATORS, type EmulatorContext, type SandboxWebhook } from './index.js'
import type { EmulatedPayment, EmulatorFaults, ProviderEmulator, SandboxCredentials } from './types.js'

/** Test credentials the sandbox accepts by default. Not secrets. */
export const SANDBOX_CREDENTIALS: SandboxCredentials = Object.freeze({
  stripe: { apiKey: 'sk_test_ecom_sandbox_0000000000', webhookSecret: 'whsec_ecom_sandbox_0000000000' },
  square: {
    accessToken: 'EAAAEcomSandboxAccessToken0000',
    webhookSignatureKey: 'ecom-sandbox-square-signature-key',
    locationId: 'LECOMSANDBOX0',
  },
  adyen: {
    apiKey: 'AQEecomSandboxApiKey0000',
    merchantAccount: 'EcomSandboxMerchant',
    hmacKeyHex: '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056',
  },
  braintree: { merchantId: 'ecomsandbox', publicKey: 'ecom_sandbox_public', privateKey: 'ecom_sandbox_private' },
}) as SandboxCredentials

export interface SandboxOptions {
  /** @default 0 (a free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * Where emulators POST their signed webhooks; unset: webhooks are only recorded. A `{provider}` in it
   * is replaced by the provider's name (`http://127.0.0.1:3000/webhooks/{provider}`).
   */
  webhookUrl?: string
  /** Override some test credentials; the rest stay `SANDBOX_CREDENTIALS`. */
  credentials?: { [P in keyof SandboxCredentials]?: Partial<SandboxCredentials[P]> }
  /** Which emulators to host. @default every registered one */
  providers?: ProviderName[]
  /** Webhooks kept per provider for GET /__admin/webhooks. @default 1000 */
  webhookHistory?: number
}

export interface Sandbox {
  readonly url: string
  readonly port: number
  readonly credentials: SandboxCredentials
  readonly emulators: ReadonlyMap<ProviderName, ProviderEmulator>
  setFaults(provider: ProviderName, faults: EmulatorFaults): void
  clearFaults(provider?: ProviderName): void
  payments(provider?: ProviderName): EmulatedPayment[]
  webhooks(provider?: ProviderName): SandboxWebhook[]
  /** Requests being served right now (including ones held by injected latency). */
  inflight(): number
  reset(): void
  close(): Promise<void>
}

const MAX_BODY = 1 << 20

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) req.destroy(new Error('body too large'))
      else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

const RATE_KEYS = ['errorRate', 'rateLimitRate', 'dropAfterCommitRate'] as const

/** Every problem with an admin faults body, as `path: message`. */
export function validateFaults(input: unknown): { faults?: EmulatorFaults; problems: string[] } {
  const problems: string[] = []
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { problems: ['faults: expected an object'] }
  const o = input as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (!['latencyMs', 'outage', ...RATE_KEYS].includes(k)) problems.push(`faults.${k}: unknown fault`)
  }
  if (o.latencyMs !== undefined && !(typeof o.latencyMs === 'number' && o.latencyMs >= 0 && Number.isFinite(o.latencyMs))) {
    problems.push('faults.latencyMs: expected a non-negative number of milliseconds')
  }
  if (o.outage !== undefined && typeof o.outage !== 'boolean') problems.push('faults.outage: expected a boolean')
  for (const k of RATE_KEYS) {
    const v = o[k]
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) problems.push(`faults.${k}: expected a number from 0 to 1`)
  }
  return problems.length ? { problems } : { faults: o as EmulatorFaults, problems }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * One HTTP server hosting every registered emulator on its provider's real paths, plus the admin API:
 * - `POST /__admin/faults/<provider>` (EmulatorFaults JSON), `DELETE /__admin/faults[/<provider>]`,
 *   `GET /__admin/faults`
 * - `GET /__admin/payments[?provider=]`: what each emulator holds and the captured totals
 * - `GET /__admin/webhooks[?provider=]`: the signed webhooks emitted
 * - `POST /__admin/reset`: clear payments, idempotency stores, faults and webhooks
 *
 * Faults are applied around the emulator, in this order: latency; outage (the provider's 503, before
 * executing: see below); rate limit (the provider's 429, before executing); error rate (the provider's
 * 500 or 503, before executing); drop-after-commit (executed and committed, then the socket destroyed
 * without an answer). An outage answers 503 rather than destroying the socket because every provider
 * shares this one port: a destroyed socket after the request was written cannot be told apart from a
 * drop-after-commit by any client, whereas a 503 from the provider's edge is a definite "not processed".
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1'
  const credentials = mergeCredentials(options.credentials)
  const wanted = options.providers ?? (PROVIDER_NAMES.filter((p) => EMULATORS[p]) as ProviderName[])
  const historySize = options.webhookHistory ?? 1000
  const hooks: SandboxWebhook[] = []
  const faults = new Map<ProviderName, EmulatorFaults>()
  let url = ''
  let inflight = 0

  const webhookUrlFor = (provider: ProviderName): string | undefined => options.webhookUrl?.replaceAll('{provider}', provider)
  // One context per emulator, so each sees (and Square signs) its own webhook URL.
  const contextFor = (provider: ProviderName): EmulatorContext => ({
    credentials,
    baseUrl: () => url,
    webhookUrl: () => webhookUrlFor(provider),
    emitWebhook(hook) {
      hooks.push(hook)
      if (hooks.length > historySize * PROVIDER_NAMES.length) hooks.splice(0, hooks.length - historySize * PROVIDER_NAMES.length)
      const target = webhookUrlFor(hook.provider)
      if (target) {
        // Fire and forget, like a provider: delivery failures never affect the API answer.
        fetch(target, { method: 'POST', headers: { ...hook.headers }, body: hook.body }).catch(() => {})
      }
    },
  })

  const emulators = new Map<ProviderName, ProviderEmulator>()
  for (const name of wanted) {
    const load = EMULATORS[name]
    if (!load) throw new UnknownProviderError(`no sandbox emulator is registered for provider "${name}"`)
    const { createEmulator } = await load()
    emulators.set(name, createEmulator(contextFor(name)))
  }

  const payments = (p?: ProviderName) =>
    [...emulators.values()].filter((e) => !p || e.name === p).flatMap((e) => e.payments())

  async function admin(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams, body: Buffer): Promise<void> {
    const parts = path.split('/').filter(Boolean) // ['__admin', ...]
    const provider = parts[2] as ProviderName | undefined
    if (provider && !emulators.has(provider)) return json(res, 404, { error: `no emulator for provider "${provider}"` })
    if (parts[1] === 'faults') {
      if (req.method === 'GET') return json(res, 200, Object.fromEntries(faults))
      if (req.method === 'DELETE') {
        if (provider) faults.delete(provider)
        else faults.clear()
        return json(res, 200, Object.fromEntries(faults))
      }
      if (req.method === 'POST' && provider) {
        let parsed: unknown
        try {
          parsed = JSON.parse(body.toString('utf8') || '{}')
        } catch {
          return json(res, 400, { error: 'faults: body is not JSON', problems: ['faults: body is not JSON'] })
        }
        const { faults: f, problems } = validateFaults(parsed)
        if (!f) return json(res, 400, { error: problems.join('; '), problems })
        faults.set(provider, f)
        return json(res, 200, { provider, faults: f })
      }
    }
    if (parts[1] === 'payments' && req.method === 'GET') {
      const p = (query.get('provider') ?? undefined) as ProviderName | undefined
      const list = payments(p)
      const totals: Record<string, Record<string, { authorized: number; captured: number; refunded: number }>> = {}
      for (const x of list) {
        const t = ((totals[x.provider] ??= {})[x.currency] ??= { authorized: 0, captured: 0, refunded: 0 })
        t.authorized += x.authorized
        t.captured += x.captured
        t.refunded += x.refunded
      }
      return json(res, 200, { payments: list, totals, inflight })
    }
    if (parts[1] === 'webhooks' && req.method === 'GET') {
      const p = query.get('provider')
      return json(res, 200, { webhooks: hooks.filter((h) => !p || h.provider === p) })
    }
    if (parts[1] === 'reset' && req.method === 'POST') {
      sandbox.reset()
      return json(res, 200, { ok: true })
    }
    if (parts[1] === 'health') return json(res, 200, { ok: true, providers: [...emulators.keys()] })
    json(res, 404, { error: `no admin route ${req.method} ${path}` })
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://sandbox')
    const isAdmin = u.pathname === '/__admin' || u.pathname.startsWith('/__admin/')
    const emulator = isAdmin ? undefined : [...emulators.values()].find((e) => e.matches(u.pathname))
    // The faults in force when the request arrived are the ones it gets, whatever changes meanwhile.
    const f = emulator ? faults.get(emulator.name) : undefined
    const body = await readBody(req)
    if (isAdmin) return admin(req, res, u.pathname, u.searchParams, body)
    if (!emulator) return json(res, 404, { error: `no emulator serves ${u.pathname}` })
    if (f?.latencyMs) await sleep(f.latencyMs)
    if (f?.outage) {
      res.setHeader('connection', 'close')
      return emulator.errorResponse(res, 503)
    }
    if (f?.rateLimitRate && Math.random() < f.rateLimitRate) return emulator.errorResponse(res, 429)
    if (f?.errorRate && Math.random() < f.errorRate) return emulator.errorResponse(res, Math.random() < 0.5 ? 500 : 503)
    if (f?.dropAfterCommitRate && Math.random() < f.dropAfterCommitRate) {
      // Execute for real into a detached response, then drop the connection unanswered.
      const sink = new ServerResponse(req)
      await emulator.handle(req, sink, body)
      req.socket.destroy()
      return
    }
    await emulator.handle(req, res, body)
  }

  const server: Server = createServer((req, res) => {
    inflight++
    serve(req, res)
      .catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) json(res, 500, { error: `sandbox: ${(err as Error).message}` })
        else res.destroy()
      })
      .finally(() => inflight--)
  })
  server.keepAliveTimeout = 30_000

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new SandboxListenError(`the payments sandbox could not listen on ${host}:${options.port ?? 0}: ${err.code ?? err.message}`, { cause: err }))
    server.once('error', onError)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`

  const sandbox: Sandbox = {
    url,
    port,
    credentials,
    emulators,
    setFaults(provider, f) {
      if (!emulators.has(provider)) throw new UnknownProviderError(`no sandbox emulator for provider "${provider}"`)
      const { faults: valid, problems } = validateFaults(f)
      if (!valid) throw new InvalidOptionError(problems.join('; '))
      faults.set(provider, valid)
    },
    clearFaults(provider) {
      if (provider) faults.delete(provider)
      else faults.clear()
    },
    payments,
    webhooks: (p) => hooks.filter((h) => !p || h.provider === p),
    inflight: () => inflight,
    reset() {
      for (const e of emulators.values()) e.reset()
      faults.clear()
      hooks.length = 0
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    },
  }
  return sandbox
}

function mergeCredentials(over: SandboxOptions['credentials']): SandboxCredentials {
  const c = SANDBOX_CREDENTIALS
  return {
    stripe: { ...c.stripe, ...over?.stripe },
    square: { ...c.square, ...over?.square },
    adyen: { ...c.adyen, ...over?.adyen },
    braintree: { ...c.braintree, ...over?.braintree },
  }
}
