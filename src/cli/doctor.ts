import { existsSync } from 'node:fs'
import type { Command } from 'commander'
import { DoctorFailedError, InvalidOptionError } from '../errors.js'

const collect = (v: string, acc: string[]): string[] => [...acc, v]
const REQUIRABLE = ['payments', 'pm2']

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check this machine and the app\'s configuration: a verdict per check; exit 1 when something required is missing')
    .option('--db <url>', 'database URL to reach (repeatable; default $DATABASE_URL)', collect, [])
    .option('--adapter <name>', 'ORM adapter the app uses: prisma, sequelize, drizzle (repeatable)', collect, [])
    .option('--redis <url>', 'Redis URL to PING (default $ECOM_REDIS_URL or $REDIS_URL)')
    .option('--require <what>', 'also require: payments, pm2 (repeatable)', collect, [])
    .option('--env-file <file>', 'load variables from this file first')
    .option('--timeout <ms>', 'timeout per network check', '3000')
    .option('--json', 'print JSON instead of a table', false)
    .action(async (o: { db: string[]; adapter: string[]; redis?: string; require: string[]; envFile?: string; timeout: string; json: boolean }) => {
      for (const r of o.require) if (!REQUIRABLE.includes(r)) throw new InvalidOptionError(`--require must be one of ${REQUIRABLE.join(', ')}, got ${JSON.stringify(r)}`)
      if (!/^\d+$/.test(o.timeout) || Number(o.timeout) < 1) throw new InvalidOptionError(`--timeout must be a positive integer of milliseconds, got ${JSON.stringify(o.timeout)}`)
      if (o.envFile) {
        if (!existsSync(o.envFile)) throw new InvalidOptionError(`--env-file ${o.envFile} does not exist`)
        process.loadEnvFile(o.envFile)
      }
      const env = process.env
      const databases = o.db.length > 0 ? o.db : env.DATABASE_URL ? [env.DATABASE_URL] : []
      // The checks reach into the ORM, the native loader and Redis: load them only when doctor runs,
      // so every other command (and `ecom start`'s time to first request) does not pay for them.
      const { failing, renderTable, runChecks } = await import('../runtime/doctor/checks.js')
      const results = await runChecks({
        databases,
        adapters: o.adapter,
        redis: o.redis ?? env.ECOM_REDIS_URL ?? env.REDIS_URL,
        require: o.require,
        timeoutMs: Number(o.timeout),
        env,
      })
      process.stdout.write(o.json ? `${JSON.stringify(results, null, 2)}\n` : renderTable(results))
      const bad = failing(results)
      if (bad.length > 0) throw new DoctorFailedError(`${bad.length} required check(s) failed: ${bad.map((r) => r.check).join(', ')}`)
    })
}
