/**
 * A stand-in for the payments sandbox server, hosting emulators on one port with the one fault the
 * conformance suite needs (commit, then drop the connection). Replaced by `startSandbox()` once merged.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ProviderName } from '../../src/payments/model.js'
import type { EmulatorHost } from '../../src/payments/sandbox/emulator-util.js'
import type { EmulatedPayment, ProviderEmulator, SandboxCredentials } from '../../src/payments/sandbox/types.js'

export const TEST_CREDENTIALS: SandboxCredentials = {
  stripe: { apiKey: 'sk_test_ecom_sandbox_0000000000', webhookSecret: 'whsec_ecom_sandbox_0000000000' },
  square: { accessToken: 'EAAAEcomSandboxAccessToken0000', webhookSignatureKey: 'ecom-sandbox-square-signature-key', locationId: 'LECOMSANDBOX0' },
  adyen: { apiKey: 'AQEecomSandboxApiKey0000', merchantAccount: 'EcomSandboxMerchant', hmacKeyHex: '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056' },
  braintree: { merchantId: 'ecomsandbox', publicKey: 'ecom_sandbox_public', privateKey: 'ecom_sandbox_private' },
}

export interface Hook { provider: ProviderName; body: string; headers: Readonly<Record<string, string>> }

export interface MiniSandbox {
  url: string
  port: number
  credentials: SandboxCredentials
  emulators: Map<ProviderName, ProviderEmulator>
  hooks: Hook[]
  /** The next request to this provider is executed and committed, then its connection destroyed. */
  dropNext(provider: ProviderName): void
  payments(provider: ProviderName): EmulatedPayment[]
  close(): Promise<void>
}

export async function startMiniSandbox(factories: Partial<Record<ProviderName, (host: EmulatorHost) => ProviderEmulator>>): Promise<MiniSandbox> {
  let url = ''
  const hooks: Hook[] = []
  const drop = new Set<ProviderName>()
  const host: EmulatorHost = {
    credentials: TEST_CREDENTIALS,
    baseUrl: () => url,
    emitWebhook: (hook) => hooks.push(hook),
  }
  const emulators = new Map<ProviderName, ProviderEmulator>()
  for (const [name, make] of Object.entries(factories)) emulators.set(name as ProviderName, make!(host))
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const e = [...emulators.values()].find((x) => x.matches(path))
      if (!e) {
        res.writeHead(404).end()
        return
      }
      if (drop.delete(e.name)) {
        res.writeHead = (() => res) as never
        res.end = (() => {
          req.socket.destroy()
          return res
        }) as never
      }
      e.handle(req, res, Buffer.concat(chunks)).catch(() => req.socket.destroy())
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  url = `http://127.0.0.1:${port}`
  return {
    url,
    port,
    credentials: TEST_CREDENTIALS,
    emulators,
    hooks,
    dropNext: (p) => drop.add(p),
    payments: (p) => emulators.get(p)!.payments(),
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}
