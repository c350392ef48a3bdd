import { Option, type Command } from 'commander'
import { resolveStartOptions } from '../runtime/supervisor/options.js'

interface StartFlags {
  workers: string
  port?: string
  host?: string
  name?: string
  maxMemory?: string
  grace?: string
  envFile?: string
  crashLimit?: string
  maxConnections?: string
  headersTimeout?: string
  requestTimeout?: string
  keepAliveTimeout?: string
  maxHeaderSize?: string
  bodyLimit?: string
  rateLimit?: string
  rateLimitHeaders?: string
  trustProxy?: boolean
  metricsPath?: string | boolean
  healthPath?: string
  readyPath?: string
  accessLog?: boolean
  preserveHeaderCase?: boolean
  verbose?: boolean
  redis?: string
  redisFail?: string
  redisPrefix?: string
  sandbox?: boolean | string
  sandboxWebhooks?: string
  dashboard?: string | boolean
}

export function register(program: Command): void {
  program
    .command('start')
    .description('serve an app (single process or clustered) behind the hardened HTTP edge')
    .argument('<entry>', 'the app: a .js, .mjs or .ts file exporting a handler, an app or a factory, or a directory with package.json "main" or an index file (docs/start.md)')
    .option('-w, --workers <n>', '"auto" (available parallelism) or a number; 1 runs a single process', 'auto')
    .option('-p, --port <port>', 'port to listen on (default: 3000)')
    .option('--host <host>', 'address to listen on (default: 0.0.0.0)')
    .option('--name <name>', 'app name for status/reload/stop (default: the entry file name)')
    .option('--max-memory <size>', 'replace a worker whose RSS exceeds this, e.g. 512mb')
    .option('--grace <duration>', 'how long draining may take on reload/stop (default: 10s)')
    .option('--env-file <path>', 'load environment variables from this file first')
    .option('--crash-limit <n>', 'consecutive crashes after which a worker slot is given up (default: 10)')
    .option('--max-connections <n>', 'open connections per worker before answering 503 (default: 10000)')
    .option('--headers-timeout <duration>', 'time to receive request headers (default: 10s)')
    .option('--request-timeout <duration>', 'time to receive a whole request (default: 30s)')
    .option('--keep-alive-timeout <duration>', 'idle keep-alive time (default: 5s)')
    .option('--max-header-size <size>', 'largest request head (default: 16kb)')
    .option('--body-limit <size>', 'largest request body before 413 (default: 1mb)')
    .option('--rate-limit <quota>', 'cluster-wide per-client quota, e.g. 100/1m (default: off)')
    .option('--rate-limit-headers <when>', '"near-limit": RateLimit headers on 429s and once half the quota is used; "always": on every answer (default: near-limit)')
    .option('--trust-proxy', 'key the rate limit on X-Forwarded-For (only behind a trusted proxy)')
    .option('--metrics-path <path>', 'Prometheus endpoint (default: /metrics)')
    .addOption(new Option('--no-metrics-path', 'turn the metrics endpoint off'))
    .option('--health-path <path>', 'liveness endpoint (default: /healthz)')
    .option('--ready-path <path>', 'readiness endpoint (default: /readyz)')
    .option('--access-log', 'log every request')
    .option('--preserve-header-case', 'send response header names as the app spelled them (default: common ones in lower case)')
    // scale-out hook (issue 7): docs/scale-out.md
    .option('--redis <url>', 'keep the rate-limit quota in Redis, shared by every instance using the same URL and prefix')
    .option('--redis-fail <mode>', 'while Redis is unreachable: "open" lets requests through, "closed" answers 503 (default: open)')
    .option('--redis-prefix <prefix>', 'key prefix in Redis (default: ecom:<name>:)')
    .option('--sandbox [port]', 'run the payment sandbox as a supervised sidecar and give the workers ECOM_SANDBOX_URL (default port: a free one)')
    .option('--sandbox-webhooks <url|path>', 'where the sandbox POSTs its signed webhooks; a path is on the app\'s own address; {provider} is replaced by the provider name')
    .option('--dashboard <[host:]port>', 'where the live dashboard listens (default: 127.0.0.1 on a free port; `ecom status --web` prints its link)')
    .addOption(new Option('--no-dashboard', 'do not serve the dashboard'))
    .action(async (entry: string, flags: StartFlags, cmd: Command) => {
      const verbose = Boolean((cmd.optsWithGlobals() as { verbose?: boolean }).verbose)
      const options = resolveStartOptions({
        entry,
        workers: flags.workers,
        port: flags.port,
        host: flags.host,
        name: flags.name,
        maxMemory: flags.maxMemory,
        grace: flags.grace,
        envFile: flags.envFile,
        crashLimit: flags.crashLimit,
        maxConnections: flags.maxConnections,
        headersTimeout: flags.headersTimeout,
        requestTimeout: flags.requestTimeout,
        keepAliveTimeout: flags.keepAliveTimeout,
        maxHeaderSize: flags.maxHeaderSize,
        bodyLimit: flags.bodyLimit,
        rateLimit: flags.rateLimit,
        rateLimitHeaders: flags.rateLimitHeaders,
        trustProxy: flags.trustProxy,
        metricsPath: typeof flags.metricsPath === 'boolean' ? (flags.metricsPath ? undefined : false) : flags.metricsPath,
        healthPath: flags.healthPath,
        readyPath: flags.readyPath,
        accessLog: flags.accessLog,
        preserveHeaderCase: flags.preserveHeaderCase,
        verbose,
        redis: flags.redis,
        redisFailMode: flags.redisFail,
        redisPrefix: flags.redisPrefix,
        sandbox: flags.sandbox,
        sandboxWebhooks: flags.sandboxWebhooks,
        dashboard: flags.dashboard === true ? undefined : flags.dashboard,
      })
      // Loaded only for this command, so `ecom status` and `--help` stay quick.
      const { runStart } = await import('../runtime/supervisor/run.js')
      const result = await runStart(options)
      if (result.forced) process.exitCode = 1
    })
}
