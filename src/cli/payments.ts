import { Option, type Command } from 'commander'
import { InvalidOptionError } from '../errors.js'
import { PROVIDER_NAMES, type ProviderName } from '../payments/model.js'

interface SandboxFlags {
  port: string
  host: string
  webhookUrl?: string
  providers?: string
  parentPid?: string
}

function parsePort(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidOptionError(`--port must be an integer from 0 to 65535, got "${v}"`)
  return n
}

/** `ecom payments sandbox`: the four provider emulators and the admin API on one port, until SIGTERM/SIGINT. */
export function register(program: Command): void {
  const payments = program.command('payments').description('payments tools: the local provider sandbox')
  payments
    .command('sandbox')
    .description('run the local Stripe/Square/Adyen/Braintree sandbox (one port; admin API under /__admin)')
    .option('-p, --port <port>', 'port to listen on (0: a free one)', '4242')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--webhook-url <url>', 'POST every signed webhook here')
    .option('--providers <list>', `comma-separated subset of ${PROVIDER_NAMES.join(',')}`)
    // Set by `ecom start --sandbox`: exit when that primary is gone (it was SIGKILLed and never stopped us).
    .addOption(new Option('--parent-pid <pid>', 'exit when this process is no longer the parent').hideHelp())
    .action(async (flags: SandboxFlags) => {
      const port = parsePort(flags.port)
      if (flags.parentPid !== undefined && !/^[1-9]\d*$/.test(flags.parentPid)) {
        throw new InvalidOptionError(`--parent-pid must be a process id, got "${flags.parentPid}"`)
      }
      let providers: ProviderName[] | undefined
      if (flags.providers) {
        providers = flags.providers.split(',').map((s) => s.trim()) as ProviderName[]
        const bad = providers.filter((p) => !PROVIDER_NAMES.includes(p))
        if (bad.length) throw new InvalidOptionError(`--providers: unknown provider(s) ${bad.join(', ')} (known: ${PROVIDER_NAMES.join(', ')})`)
      }
      if (flags.webhookUrl) {
        try {
          new URL(flags.webhookUrl)
        } catch {
          throw new InvalidOptionError(`--webhook-url must be an absolute URL, got "${flags.webhookUrl}"`)
        }
      }
      const { startSandbox } = await import('../payments/sandbox/server.js')
      const sandbox = await startSandbox({ port, host: flags.host, webhookUrl: flags.webhookUrl, providers })
      const c = sandbox.credentials
      const has = (p: ProviderName) => sandbox.emulators.has(p)
      const lines = [`ecom payments sandbox listening on ${sandbox.url}`, `  providers: ${[...sandbox.emulators.keys()].join(', ')}`]
      if (has('stripe')) lines.push(`  stripe:    host/port of ${sandbox.url} (/v1), apiKey ${c.stripe.apiKey}`)
      if (has('square')) lines.push(`  square:    baseUrl ${sandbox.url}/square, accessToken ${c.square.accessToken}`)
      if (has('adyen')) lines.push(`  adyen:     ${sandbox.url}/adyen, apiKey ${c.adyen.apiKey}, merchantAccount ${c.adyen.merchantAccount}`)
      if (has('braintree')) lines.push(`  braintree: ${sandbox.url}/merchants/${c.braintree.merchantId}`)
      lines.push(`  admin:     ${sandbox.url}/__admin (POST /__admin/faults/<provider>, GET /__admin/payments, POST /__admin/reset)`, '')
      process.stdout.write(lines.join('\n'))
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGTERM', stop)
          process.off('SIGINT', stop)
          resolve()
        }
        process.on('SIGTERM', stop)
        process.on('SIGINT', stop)
        if (flags.parentPid !== undefined) {
          const parent = Number(flags.parentPid)
          // Orphaned children are re-parented (to init or a subreaper), so a changed ppid means the primary died.
          setInterval(() => {
            if (process.ppid !== parent) stop()
          }, 1000).unref()
        }
      })
      await sandbox.close()
      process.stdout.write('ecom payments sandbox stopped\n')
    })
}
