import type { AuthorizeRequest, ProviderName } from '../model.js'
import type { ProviderHealth } from './breaker.js'
import type { RouterConfig, StrategyName } from './config.js'

export interface RouteInput {
  readonly req: AuthorizeRequest
  readonly config: RouterConfig
  readonly health: ReadonlyMap<ProviderName, ProviderHealth>
  readonly random: () => number
}

type Rule = RouterConfig['rules'][number]

export function ruleMatches(rule: Rule, req: AuthorizeRequest): boolean {
  const w = rule.when
  if (w.currency && !w.currency.includes(req.amount.currency)) return false
  const country = req.country ?? req.method.country
  if (w.country && (!country || !w.country.includes(country))) return false
  if (w.amount?.min !== undefined && req.amount.amount < w.amount.min) return false
  if (w.amount?.max !== undefined && req.amount.amount > w.amount.max) return false
  if (w.method && !w.method.includes(req.method.brand ?? req.method.type)) return false
  if (w.metadata) {
    for (const [k, v] of Object.entries(w.metadata)) if (req.metadata?.[k] !== v) return false
  }
  return true
}

/** Fee in minor units for this amount on this provider; Infinity when it has no schedule for the currency. */
export function feeFor(config: RouterConfig, provider: ProviderName, req: AuthorizeRequest): number {
  const fees = config.providers[provider]?.fees
  const f = fees?.[req.amount.currency] ?? fees?.['*']
  return f ? (req.amount.amount * f.percent) / 100 + f.fixed : Number.POSITIVE_INFINITY
}

/**
 * Rules filter: enabled providers holding a token for the method, narrowed by the matching rule(s).
 * A `use` list also sets a preference order, kept as the base order for the score.
 */
export function eligible(input: RouteInput): ProviderName[] {
  const { req, config } = input
  const listed = Object.keys(config.providers) as ProviderName[]
  // Without a `priority` anywhere the order is the listed one: no sort (it runs on every checkout).
  const byPriority = listed.some((name) => config.providers[name]!.priority !== undefined)
    ? listed
        .map((name, index) => ({ name, index, p: config.providers[name]!.priority ?? index }))
        .sort((a, b) => a.p - b.p || a.index - b.index)
        .map((x) => x.name)
    : listed
  let set = byPriority.filter((n) => config.providers[n]!.enabled && req.method.tokens[n] !== undefined)
  for (const rule of config.rules) {
    if (!ruleMatches(rule, req)) continue
    if (rule.use) set = rule.use.filter((n) => set.includes(n))
    if (rule.exclude) set = set.filter((n) => !rule.exclude!.includes(n))
    if (config.rulesMode === 'first') break
  }
  return set
}

type Scorer = (name: ProviderName, input: RouteInput) => number

// Lower scores go first. Unknown latency and success rate count as the best, so new providers get traffic.
const SCORERS: Record<Exclude<StrategyName, 'weighted' | 'priority'>, Scorer> = {
  'lowest-cost': (n, i) => feeFor(i.config, n, i.req),
  'lowest-latency': (n, i) => i.health.get(n)?.latencyMs ?? 0,
  'highest-success': (n, i) => -(i.health.get(n)?.successRate ?? 1),
}

function weightedOrder(names: ProviderName[], input: RouteInput): ProviderName[] {
  const pool = names.map((n) => ({ n, w: input.config.providers[n]!.weight }))
  const out: ProviderName[] = []
  while (pool.length) {
    const total = pool.reduce((s, x) => s + x.w, 0)
    let idx = 0
    if (total > 0) {
      let r = input.random() * total
      idx = pool.findIndex((x) => (r -= x.w) < 0)
      if (idx < 0) idx = pool.length - 1
    }
    out.push(pool.splice(idx, 1)[0]!.n)
  }
  return out
}

/** The providers to try, best first: the rules filter, then the strategy (or strategies, as tie-breakers) score. */
export function rank(input: RouteInput, candidates: ProviderName[] = eligible(input)): ProviderName[] {
  const strategies = Array.isArray(input.config.strategy) ? input.config.strategy : [input.config.strategy]
  let base = candidates
  if (strategies.includes('weighted')) base = weightedOrder(candidates, input)
  const scorers = strategies.filter((s): s is keyof typeof SCORERS => s in SCORERS).map((s) => SCORERS[s])
  if (scorers.length === 0) return base
  const scored = base.map((n, i) => ({ n, i, s: scorers.map((f) => f(n, input)) }))
  scored.sort((a, b) => {
    for (let k = 0; k < a.s.length; k++) if (a.s[k] !== b.s[k]) return a.s[k]! - b.s[k]!
    return a.i - b.i
  })
  return scored.map((x) => x.n)
}
