import { readFile, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { GenerateFileExistsError, InvalidOptionError, Pm2DeployError } from '../errors.js'
import { buildEcosystem, renderEcosystem, resolveEcosystemOptions } from '../runtime/deploy/ecosystem.js'
import { Pm2Driver } from '../runtime/deploy/pm2-driver.js'

interface DeployFlags {
  config: string
  name?: string
  workers?: string
  port?: string
  bind?: string
  maxMemory?: string
  primaryMaxMemory?: string
  grace?: string
  rateLimit?: string
  rateLimitHeaders?: string
  trustProxy?: boolean
  redis?: string
  set: string[]
  setProduction: string[]
  logDir?: string
  host?: string
  repo?: string
  path?: string
  ref?: string
  force: boolean
  start: boolean
  reload: boolean
  stop: boolean
  killDaemon: boolean
  env?: string
  pm2Home?: string
}

const collect = (v: string, acc: string[]): string[] => [...acc, v]

async function readText(p: string): Promise<string | undefined> {
  try {
    return await readFile(p, 'utf8')
  } catch {
    return undefined
  }
}

async function packageName(cwd: string): Promise<string | undefined> {
  const text = await readText(join(cwd, 'package.json'))
  try {
    return text ? (JSON.parse(text) as { name?: string }).name : undefined
  } catch {
    return undefined
  }
}

/** The app name inside an existing ecosystem file. */
function appNameOf(file: string): string {
  const require = createRequire(import.meta.url)
  delete require.cache[file]
  const conf = require(file) as { apps?: Array<{ name?: string }> }
  const name = conf.apps?.[0]?.name
  if (!name) throw new InvalidOptionError(`${file} has no apps[0].name`)
  return name
}

export function register(program: Command): void {
  const deploy = program.command('deploy').description('deploy an ecom app')
  deploy
    .command('pm2 [entry]')
    .description('write ecosystem.config.cjs (PM2 runs ecom\'s primary in fork mode) and drive PM2: --start, --reload, --stop')
    .option('--config <file>', 'the ecosystem file', 'ecosystem.config.cjs')
    .option('--name <name>', 'PM2 app name (default: package.json name)')
    .option('--workers <auto|N>', 'ecom workers inside the PM2 app', 'auto')
    .option('--port <port>', 'port ecom listens on', '3000')
    .option('--bind <address>', 'address ecom binds (ecom start --host)', '0.0.0.0')
    .option('--max-memory <size>', 'per-worker RSS limit, enforced by ecom with a graceful replacement')
    .option('--primary-max-memory <size>', 'PM2 max_memory_restart for the ecom primary', '512M')
    .option('--grace <duration>', 'ecom drain window; PM2 kill_timeout is grace + 5s', '10s')
    .option('--rate-limit <spec>', 'passed to ecom start --rate-limit')
    .option('--rate-limit-headers <when>', 'passed to ecom start --rate-limit-headers ("near-limit" or "always")')
    .option('--trust-proxy', 'passed to ecom start --trust-proxy (behind a load balancer you trust)')
    .option('--redis <url>', 'passed to ecom start --redis (shared state across machines)')
    .option('--set <KEY=VALUE>', 'env variable for every environment (repeatable)', collect, [])
    .option('--set-production <KEY=VALUE>', 'env variable for env_production (repeatable)', collect, [])
    .option('--log-dir <dir>', 'PM2 log folder', 'logs')
    .option('--host <user@h1,user@h2>', 'deploy targets (writes a deploy.production section)')
    .option('--repo <url>', 'git repository the hosts clone')
    .option('--path <dir>', 'folder on the hosts')
    .option('--ref <ref>', 'git ref to deploy', 'origin/main')
    .option('--force', 'overwrite a different existing ecosystem file', false)
    .option('--start', 'start the app under PM2', false)
    .option('--reload', 'zero-drop reload (SIGHUP to ecom\'s primary); starts the app when not running', false)
    .option('--stop', 'stop the app (ecom drains) and remove it from PM2', false)
    .option('--kill-daemon', 'with --stop: also stop the PM2 daemon', false)
    .option('--env <name>', 'PM2 environment to start with (e.g. production)')
    .option('--pm2-home <dir>', 'PM2 state folder (default: $PM2_HOME or ~/.pm2)')
    .action(async (entry: string | undefined, o: DeployFlags) => {
      const actions = [o.start, o.reload, o.stop].filter(Boolean).length
      if (actions > 1) throw new InvalidOptionError('pass at most one of --start, --reload, --stop')
      const cwd = process.cwd()
      const file = resolve(cwd, o.config)
      const existing = await readText(file)
      if (entry !== undefined || existing === undefined) {
        if (entry === undefined) throw new InvalidOptionError(`no ${o.config} here: pass the entry, e.g. "ecom deploy pm2 src/server.ts"`)
        const opts = resolveEcosystemOptions({
          entry, cwd, pkgName: await packageName(cwd), name: o.name, workers: o.workers, port: o.port, bind: o.bind,
          maxMemory: o.maxMemory, primaryMaxMemory: o.primaryMaxMemory, grace: o.grace,
          rateLimit: o.rateLimit, rateLimitHeaders: o.rateLimitHeaders, trustProxy: o.trustProxy, redis: o.redis,
          env: o.set, envProduction: o.setProduction, logDir: o.logDir, host: o.host, repo: o.repo, path: o.path, ref: o.ref,
        })
        const text = renderEcosystem(buildEcosystem(opts), opts)
        if (existing !== undefined && existing !== text && !o.force) {
          throw new GenerateFileExistsError(`${o.config} exists and differs (pass --force to overwrite)`)
        }
        if (existing !== text) {
          await writeFile(file, text)
          process.stdout.write(`wrote ${o.config}: app ${opts.name}, ${opts.workers} ecom worker(s) in one PM2 fork-mode process, port ${opts.port}\n`)
        } else {
          process.stdout.write(`${o.config} is up to date\n`)
        }
      }
      if (actions === 0) return
      const driver = new Pm2Driver({ pm2Home: o.pm2Home, cwd })
      try {
        const name = appNameOf(file)
        if (o.start) {
          await driver.start(file, o.env)
          const s = await driver.describe(name)
          if (s?.status !== 'online') {
            throw new Pm2DeployError(`${name} did not come up under PM2 (status ${s?.status ?? 'missing'}); see its error log in the --log-dir folder`)
          }
          process.stdout.write(`started ${name} under PM2 (pid ${s.pid ?? '?'}, ${s.status})\n`)
        } else if (o.reload) {
          const what = await driver.reload(name, file, o.env)
          process.stdout.write(what === 'reloaded' ? `reloading ${name}: ecom replaces its workers one by one\n` : `${name} was not running: started it\n`)
        } else {
          const stopped = await driver.stop(name)
          process.stdout.write(stopped ? `stopped ${name}\n` : `${name} is not running under PM2\n`)
          if (o.killDaemon) {
            await driver.killDaemon()
            process.stdout.write('stopped the PM2 daemon\n')
          }
        }
      } finally {
        await driver.disconnect()
      }
    })
}
