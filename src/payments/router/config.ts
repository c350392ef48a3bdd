import { z } from 'zod'
import { RoutingConfigError } from '../../errors.js'
import { CURRENCY_EXPONENTS, PROVIDER_NAMES, type NormalizedCode, type ProviderName } from '../model.js'

export const STRATEGIES = ['priority', 'weighted', 'lowest-cost', 'lowest-latency', 'highest-success'] as const
export type StrategyName = (typeof STRATEGIES)[number]

const providerName = z.enum(PROVIDER_NAMES as unknown as [ProviderName, ...ProviderName[]])
const currency = z.string().refine((c) => CURRENCY_EXPONENTS[c] !== undefined, { message: 'expected a known ISO 4217 currency code (upper case)' })
const fee = z.strictObject({ percent: z.number().min(0).max(100), fixed: z.number().int().min(0) })

const providerConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** Lower goes first in `priority` and breaks ties in every other strategy. */
  priority: z.number().int().optional(),
  weight: z.number().min(0).default(1),
  /** Fee schedule per currency ('*' for any): percent of the amount plus fixed minor units. */
  fees: z.record(z.string(), fee).optional(),
  timeoutMs: z.number().int().positive().optional(),
})

const rule = z.strictObject({
  name: z.string().optional(),
  when: z
    .strictObject({
      currency: z.array(currency).min(1).optional(),
      country: z.array(z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 country code')).min(1).optional(),
      amount: z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).optional(),
      method: z.array(z.string().min(1)).min(1).optional(),
      metadata: z.record(z.string(), z.string()).optional(),
    })
    .default({}),
  /** Only these providers, in this order of preference. */
  use: z.array(providerName).min(1).optional(),
  exclude: z.array(providerName).min(1).optional(),
})

const NORMALIZED_SOFT: NormalizedCode[] = ['processing_error', 'try_again_later', 'do_not_honor', 'insufficient_funds']

export const routerConfigSchema = z.strictObject({
  providers: z.partialRecord(providerName, providerConfig),
  strategy: z.union([z.enum(STRATEGIES), z.array(z.enum(STRATEGIES)).min(1)]).default('priority'),
  rules: z.array(rule).default([]),
  /** 'first': the first matching rule decides; 'all': every matching rule narrows the set. */
  rulesMode: z.enum(['first', 'all']).default('first'),
  failover: z
    .strictObject({
      maxAttempts: z.number().int().min(1).max(10).default(3),
      /** Soft-decline codes after which another provider may be tried; false: never. */
      onSoftDecline: z.union([z.boolean(), z.array(z.enum(NORMALIZED_SOFT as [NormalizedCode, ...NormalizedCode[]]))]).default(['processing_error', 'try_again_later']),
    })
    .default({ maxAttempts: 3, onSoftDecline: ['processing_error', 'try_again_later'] }),
  breaker: z
    .strictObject({
      failureThreshold: z.number().int().min(1).default(5),
      cooldownMs: z.number().int().min(0).default(30_000),
      halfOpenProbes: z.number().int().min(1).default(1),
    })
    .default({ failureThreshold: 5, cooldownMs: 30_000, halfOpenProbes: 1 }),
  health: z
    .strictObject({
      latencyAlpha: z.number().gt(0).max(1).default(0.2),
      successWindow: z.number().int().min(1).default(100),
    })
    .default({ latencyAlpha: 0.2, successWindow: 100 }),
  ambiguity: z
    .strictObject({
      /** Re-sends with the same key while resolving an ambiguous attempt on the same provider. */
      replays: z.number().int().min(0).max(5).default(1),
      /** After resolution proves the attempt absent (not found, replay refused), try the next provider. */
      failoverWhenNotFound: z.boolean().default(true),
      /** How long an abandoned attempt is watched for a late success before it is closed. */
      lateWindowMs: z.number().int().min(0).default(15 * 60_000),
    })
    .default({ replays: 1, failoverWhenNotFound: true, lateWindowMs: 15 * 60_000 }),
  timeoutMs: z.number().int().positive().default(10_000),
})

export type RouterConfigInput = z.input<typeof routerConfigSchema>
export type RouterConfig = z.output<typeof routerConfigSchema>

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path.length ? path.map(String).join('.') : '(root)'
}

/** Parse and check a routing config; every problem is reported as `path: message` in one error. */
export function parseRouterConfig(input: unknown): RouterConfig {
  const parsed = routerConfigSchema.safeParse(input)
  const problems: string[] = []
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${pathOf(issue.path)}: ${issue.message}`)
    throw new RoutingConfigError(`invalid routing config:\n  ${problems.join('\n  ')}`, { details: { problems } })
  }
  const cfg = parsed.data
  const configured = Object.entries(cfg.providers).filter(([, p]) => p).map(([n]) => n as ProviderName)
  if (configured.length === 0) problems.push('providers: configure at least one provider')
  if (!configured.some((n) => cfg.providers[n]!.enabled)) problems.push('providers: at least one provider must be enabled')
  for (const n of configured) {
    for (const cur of Object.keys(cfg.providers[n]!.fees ?? {})) {
      if (cur !== '*' && CURRENCY_EXPONENTS[cur] === undefined) problems.push(`providers.${n}.fees.${cur}: expected a known ISO 4217 currency code or "*"`)
    }
  }
  const strategies = Array.isArray(cfg.strategy) ? cfg.strategy : [cfg.strategy]
  if (strategies.includes('weighted') && !configured.some((n) => cfg.providers[n]!.weight > 0)) {
    problems.push('strategy: "weighted" needs at least one provider with weight > 0')
  }
  if (strategies.includes('lowest-cost') && !configured.some((n) => cfg.providers[n]!.fees)) {
    problems.push('strategy: "lowest-cost" needs a fee schedule (providers.<name>.fees) on at least one provider')
  }
  cfg.rules.forEach((r, i) => {
    for (const key of ['use', 'exclude'] as const) {
      r[key]?.forEach((p, j) => {
        if (!cfg.providers[p]) problems.push(`rules.${i}.${key}.${j}: provider "${p}" is not configured`)
      })
    }
    const a = r.when.amount
    if (a?.min !== undefined && a.max !== undefined && a.min > a.max) problems.push(`rules.${i}.when.amount: min (${a.min}) is greater than max (${a.max})`)
    if (!r.use && !r.exclude) problems.push(`rules.${i}: a rule needs "use" or "exclude"`)
  })
  if (problems.length) throw new RoutingConfigError(`invalid routing config:\n  ${problems.join('\n  ')}`, { details: { problems } })
  return cfg
}
