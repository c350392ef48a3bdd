/**
 * The payment adapter conformance suite: one set of named cases every provider adapter must pass,
 * through its real SDK against its sandbox emulator. `paymentAdapterConformance(kit, sandbox)`
 * registers the cases; `kit.adapter(url)` makes an adapter pointed at a sandbox URL.
 */
import { randomUUID } from 'node:crypto'
import { expect, it as vitestIt } from 'vitest'
import type {
  CallContext,
  NormalizedCode,
  OutcomeClass,
  PaymentAdapter,
  PaymentMethod,
  ProviderName,
  ProviderResult,
} from '../../src/payments/model.js'
import type { SandboxWebhook } from '../../src/payments/sandbox/index.js'
import type { Sandbox } from '../../src/payments/sandbox/server.js'
import { TEST_CARDS, type TestCardKind } from '../../src/payments/sandbox/test-cards.js'

export interface DeclineCase {
  readonly name: string
  readonly method: PaymentMethod
  /** Minor units; the provider's test amount when it triggers declines by amount. @default 1000 */
  readonly amount?: number
  readonly outcome: OutcomeClass
  readonly code: NormalizedCode
}

/**
 * What `testCard(kind)` gives on a provider: its outcome and code (with `amount` when the provider
 * triggers that decline by amount instead of by token: Braintree), or `noTestValue` with the reason the
 * provider publishes none (then the kind carries no token for it and the router never sends it there).
 */
export type TestCardExpectation =
  | { readonly outcome: OutcomeClass; readonly code: NormalizedCode; readonly amount?: number }
  | { readonly noTestValue: string }

export interface ConformanceKit {
  readonly provider: ProviderName
  /** An adapter on the official SDK, pointed at `sandboxUrl`. */
  adapter(sandboxUrl: string): Promise<PaymentAdapter>
  readonly currency: string
  /** A method the provider approves. */
  readonly approved: PaymentMethod
  readonly declines: readonly DeclineCase[]
  /** The notification URL webhooks were signed for (Square signs URL + body). */
  readonly webhookUrl?: string
  /** A copy of a genuine webhook with its signature broken the way an attacker would. */
  forge(hook: SandboxWebhook): SandboxWebhook
  /**
   * How `status()` answers for an idempotency key the provider never saw: `not_found` (Stripe, Square,
   * Braintree search) or `unknown` (Adyen, which has no lookup API and did not send it from this process).
   */
  readonly unknownKeyStatus: 'not_found' | 'unknown'
  /** Every `TEST_CARDS` kind on this provider. */
  readonly testCards: Readonly<Record<TestCardKind, TestCardExpectation>>
  /** Cases this adapter is known to fail, by name, with the reason: run as expected failures. */
  readonly knownGaps?: Readonly<Record<string, string>>
}

const ctx = (paymentId: string, key = `${paymentId}:1:${randomUUID()}`, extra: Partial<CallContext> = {}): CallContext => ({
  paymentId,
  attempt: 1,
  idempotencyKey: key,
  ...extra,
})

export function paymentAdapterConformance(kit: ConformanceKit, sandbox: () => Sandbox): void {
  const { provider, currency } = kit
  const it = (name: string, fn: () => Promise<void>) => {
    const gap = kit.knownGaps?.[name]
    if (gap === undefined) return vitestIt(name, fn)
    // Expected to fail: once the adapter is fixed this case fails, telling whoever fixed it to drop the gap.
    console.warn(`[conformance] ${provider}: "${name}" is a known gap, expected to fail: ${gap}`)
    vitestIt.fails(`${name} (known gap)`, fn)
  }
  const money = (amount: number) => ({ amount, currency })
  let seq = 0
  const pid = (what: string) => `${provider}-${what}-${Date.now().toString(36)}-${++seq}`
  const held = (ref: string | undefined) => sandbox().payments(provider).filter((p) => p.reference === ref)
  const make = () => kit.adapter(sandbox().url)

  async function authorize(a: PaymentAdapter, capture: boolean, amount = 1000, id = pid('pay')): Promise<ProviderResult> {
    const r = await a.authorize({ paymentId: id, amount: money(amount), method: kit.approved, capture }, ctx(id))
    expect(r, JSON.stringify(r)).toMatchObject({ outcome: 'approved', code: 'approved', provider })
    expect(r.providerReference).toBeTruthy()
    return r
  }

  it('authorize: approved, authorized, nothing captured', async () => {
    const a = await make()
    const r = await authorize(a, false)
    expect(r.status).toBe('authorized')
    expect(held(r.providerReference)).toMatchObject([{ authorized: 1000, captured: 0, status: 'authorized' }])
  })

  it('sale: authorize and capture in one step', async () => {
    const a = await make()
    const r = await authorize(a, true)
    expect(r.status).toBe('captured')
    expect(held(r.providerReference)).toMatchObject([{ captured: 1000, status: 'captured' }])
  })

  it('capture: full', async () => {
    const a = await make()
    const r = await authorize(a, false)
    const c = await a.capture(r.providerReference!, undefined, ctx('cap'))
    expect(c).toMatchObject({ outcome: 'approved', status: 'captured' })
    expect(held(r.providerReference)).toMatchObject([{ authorized: 1000, captured: 1000 }])
  })

  it('capture: partial', async () => {
    const a = await make()
    const r = await authorize(a, false)
    const c = await a.capture(r.providerReference!, money(600), ctx('cap'))
    expect(c.outcome).toBe('approved')
    expect(['partially_captured', 'captured']).toContain(c.status)
    expect(c.amount).toEqual(money(600))
    expect(held(r.providerReference)).toMatchObject([{ authorized: 1000, captured: 600 }])
  })

  it('void: an authorization', async () => {
    const a = await make()
    const r = await authorize(a, false)
    const v = await a.void(r.providerReference!, ctx('void'))
    expect(v).toMatchObject({ outcome: 'approved', status: 'voided' })
    expect(held(r.providerReference)).toMatchObject([{ captured: 0, status: 'voided' }])
    const again = await a.capture(r.providerReference!, undefined, ctx('cap-after-void'))
    expect(again.outcome).not.toBe('approved')
    expect(held(r.providerReference)).toMatchObject([{ captured: 0 }])
  })

  it('refund: full', async () => {
    const a = await make()
    const r = await authorize(a, true)
    const f = await a.refund(r.providerReference!, undefined, ctx('refund'))
    expect(f).toMatchObject({ outcome: 'approved', status: 'refunded', amount: money(1000) })
    expect(held(r.providerReference)).toMatchObject([{ captured: 1000, refunded: 1000, status: 'refunded' }])
  })

  it('refund: partial, then the rest', async () => {
    const a = await make()
    const r = await authorize(a, true)
    const f1 = await a.refund(r.providerReference!, money(300), ctx('refund-1'))
    expect(f1).toMatchObject({ outcome: 'approved', status: 'partially_refunded', amount: money(300) })
    expect(held(r.providerReference)).toMatchObject([{ refunded: 300 }])
    const f2 = await a.refund(r.providerReference!, money(700), ctx('refund-2'))
    expect(f2).toMatchObject({ outcome: 'approved', status: 'refunded', amount: money(700) })
    const over = await a.refund(r.providerReference!, money(1), ctx('refund-3'))
    expect(over.outcome).not.toBe('approved')
    expect(held(r.providerReference)).toMatchObject([{ refunded: 1000 }])
  })

  for (const d of kit.declines) {
    it(`decline mapping: ${d.name} -> ${d.outcome}/${d.code}`, async () => {
      const a = await make()
      const id = pid('decline')
      const r = await a.authorize({ paymentId: id, amount: money(d.amount ?? 1000), method: d.method, capture: true }, ctx(id))
      expect(r, JSON.stringify(r)).toMatchObject({ outcome: d.outcome, code: d.code, provider })
      const moved = sandbox().payments(provider).filter((p) => p.reference === r.providerReference && (p.captured > 0 || p.authorized > 0))
      expect(moved).toEqual([])
    })
  }

  it('test cards: every testCard kind gives its expected outcome on this provider', async () => {
    const a = await make()
    const wrong: string[] = []
    for (const kind of Object.keys(TEST_CARDS) as TestCardKind[]) {
      const want = kit.testCards[kind]
      const token = TEST_CARDS[kind][provider]
      if ('noTestValue' in want) {
        if (token !== undefined) wrong.push(`${kind}: has a token but the kit says the provider publishes none`)
        continue
      }
      // A kind the provider triggers by amount rides on the approved method at that amount.
      if (token === undefined && want.amount === undefined) {
        wrong.push(`${kind}: no token and no trigger amount`)
        continue
      }
      const method: PaymentMethod = token === undefined ? kit.approved : { type: 'card', tokens: { [provider]: token } }
      const id = pid(`card-${kind}`)
      const r = await a.authorize({ paymentId: id, amount: money(want.amount ?? 1000), method, capture: true }, ctx(id))
      if (r.outcome !== want.outcome || r.code !== want.code) wrong.push(`${kind}: got ${r.outcome}/${r.code}, want ${want.outcome}/${want.code}`)
      if (want.outcome !== 'approved') {
        const moved = sandbox().payments(provider).filter((p) => p.reference === r.providerReference && (p.captured > 0 || p.authorized > 0))
        if (moved.length) wrong.push(`${kind}: declined but money moved`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('idempotent replay: the same key never makes a second payment', async () => {
    const a = await make()
    const id = pid('replay')
    const c = ctx(id)
    const req = { paymentId: id, amount: money(1000), method: kit.approved, capture: true }
    const first = await a.authorize(req, c)
    const second = await a.authorize(req, c)
    // A fresh adapter (another process, after a restart) replaying the attempt.
    const third = await (await make()).authorize(req, { ...c, replay: true })
    expect(first.outcome).toBe('approved')
    expect(second.providerReference).toBe(first.providerReference)
    expect(third.providerReference).toBe(first.providerReference)
    expect(held(first.providerReference)).toHaveLength(1)
    const mine = sandbox().payments(provider).filter((p) => p.captured > 0 && (p.paymentId === id || p.paymentId === c.idempotencyKey))
    expect(mine).toHaveLength(1)
  })

  it('idempotent replay: the same key with another body never makes a second payment', async () => {
    const a = await make()
    const id = pid('conflict')
    const c = ctx(id)
    const first = await a.authorize({ paymentId: id, amount: money(1000), method: kit.approved, capture: true }, c)
    const before = sandbox().payments(provider).length
    const other = await a.authorize({ paymentId: id, amount: money(1500), method: kit.approved, capture: true }, c)
    expect(sandbox().payments(provider).length).toBe(before)
    if (other.outcome === 'approved') expect(other.providerReference).toBe(first.providerReference)
    else expect(other.outcome).toBe('technical_failure')
  })

  it('idempotent replay: a retried capture and a retried partial refund move money once', async () => {
    const a = await make()
    const r = await authorize(a, false)
    const cap = ctx('cap')
    const c1 = await a.capture(r.providerReference!, money(800), cap)
    const c2 = await (await make()).capture(r.providerReference!, money(800), { ...cap, replay: true })
    const c3 = await a.capture(r.providerReference!, money(800), cap)
    expect(c1.outcome).toBe('approved')
    expect(c3.outcome).toBe('approved')
    expect(c2.outcome).toBe('approved')
    expect(held(r.providerReference)).toMatchObject([{ captured: 800 }])
    const ref = ctx('refund')
    const f1 = await a.refund(r.providerReference!, money(300), ref)
    const f2 = await (await make()).refund(r.providerReference!, money(300), { ...ref, replay: true })
    const f3 = await a.refund(r.providerReference!, money(300), ref)
    expect(f1).toMatchObject({ outcome: 'approved', status: 'partially_refunded' })
    expect(f2.outcome).toBe('approved')
    expect(f3).toMatchObject({ outcome: 'approved', status: 'partially_refunded' })
    expect(held(r.providerReference)).toMatchObject([{ captured: 800, refunded: 300 }])
  })

  it('status: by reference, and by an idempotency key the provider never saw', async () => {
    const a = await make()
    const r = await authorize(a, false)
    const s = await a.status({ paymentId: 'x', idempotencyKey: 'x', providerReference: r.providerReference! }, ctx('status'))
    if (kit.unknownKeyStatus === 'not_found') expect(s).toMatchObject({ outcome: 'approved', status: 'authorized', providerReference: r.providerReference })
    const none = await a.status({ paymentId: pid('never'), idempotencyKey: randomUUID() }, ctx('status'))
    expect(none.status).toBe(kit.unknownKeyStatus)
    expect(none.outcome).not.toBe('approved')
  })

  it('webhook: a genuine one verifies to a normalised event; a forged one is rejected with a coded error', async () => {
    const a = await make()
    const r = await authorize(a, true)
    const hooks = sandbox().webhooks(provider)
    const hook = [...hooks].reverse().find((h) => h.body.includes(r.providerReference!) || decodeBraintree(h).includes(r.providerReference!))
    expect(hook, 'the emulator emitted a webhook for the payment').toBeDefined()
    const event = await a.verifyWebhook(hook!.body, hook!.headers, kit.webhookUrl)
    expect(event.provider).toBe(provider)
    expect(event.providerReference).toBe(r.providerReference)
    expect(['payment.authorized', 'payment.captured', 'payment.updated']).toContain(event.type)
    const forged = kit.forge(hook!)
    await expect(a.verifyWebhook(forged.body, forged.headers, kit.webhookUrl)).rejects.toMatchObject({ code: 'ECOM_ERR_PAYMENTS_WEBHOOK_SIGNATURE' })
  })

  it('ambiguous: commit, then drop the connection -> ambiguous; resolved on the same provider without a second charge', async () => {
    const a = await make()
    const id = pid('drop')
    const c = ctx(id)
    const req = { paymentId: id, amount: money(1000), method: kit.approved, capture: true }
    sandbox().setFaults(provider, { dropAfterCommitRate: 1 })
    let r: ProviderResult
    try {
      r = await a.authorize(req, c)
    } finally {
      sandbox().clearFaults(provider)
    }
    expect(r.outcome).toBe('ambiguous')
    const committed = sandbox().payments(provider).filter((p) => p.captured > 0 && (p.paymentId === id || p.paymentId === c.idempotencyKey))
    expect(committed).toHaveLength(1)
    const s = await a.status({ paymentId: id, idempotencyKey: c.idempotencyKey }, ctx(id, 'status'))
    expect(s).toMatchObject({ outcome: 'approved', providerReference: committed[0]!.reference })
    const replay = await a.authorize(req, { ...c, replay: true })
    expect(replay.providerReference).toBe(committed[0]!.reference)
    expect(sandbox().payments(provider).filter((p) => p.captured > 0 && (p.paymentId === id || p.paymentId === c.idempotencyKey))).toHaveLength(1)
  })

  it('technical failure: 429 -> rate_limited, 503 outage -> provider_unavailable, nothing executed', async () => {
    const a = await make()
    const before = sandbox().payments(provider).length
    sandbox().setFaults(provider, { rateLimitRate: 1 })
    const limited = await a.authorize({ paymentId: pid('rl'), amount: money(1000), method: kit.approved, capture: true }, ctx('rl'))
    sandbox().setFaults(provider, { outage: true })
    const down = await a.authorize({ paymentId: pid('down'), amount: money(1000), method: kit.approved, capture: true }, ctx('down'))
    sandbox().clearFaults(provider)
    expect(limited).toMatchObject({ outcome: 'technical_failure', code: 'rate_limited' })
    expect(down).toMatchObject({ outcome: 'technical_failure', code: 'provider_unavailable' })
    expect(sandbox().payments(provider).length).toBe(before)
  })

  it('webhook: a refund verifies to payment.refunded for the payment', async () => {
    const a = await make()
    const r = await authorize(a, true)
    const seen = sandbox().webhooks(provider).length
    await a.refund(r.providerReference!, money(400), ctx('refund'))
    const events = []
    for (const h of sandbox().webhooks(provider).slice(seen)) events.push(await a.verifyWebhook(h.body, h.headers, kit.webhookUrl))
    expect(events.filter((e) => e.type === 'payment.refunded' && e.providerReference === r.providerReference)).toHaveLength(1)
  })

  it('ambiguous: a timeout after the request was sent', async () => {
    const a = await make()
    const id = pid('slow')
    sandbox().setFaults(provider, { latencyMs: 1500 })
    let r: ProviderResult
    try {
      r = await a.authorize({ paymentId: id, amount: money(1000), method: kit.approved, capture: true }, ctx(id, undefined, { timeoutMs: 300 }))
    } finally {
      sandbox().clearFaults(provider)
    }
    expect(r).toMatchObject({ outcome: 'ambiguous', code: 'timeout' })
  })

  it('technical failure: connection refused -> network_error', async () => {
    const a = await kit.adapter('http://127.0.0.1:9')
    const r = await a.authorize({ paymentId: pid('refused'), amount: money(1000), method: kit.approved, capture: true }, ctx('refused'))
    expect(r).toMatchObject({ outcome: 'technical_failure', code: 'network_error' })
  })

  it('ambiguous: a 500 without a verdict', async () => {
    const a = await make()
    sandbox().setFaults(provider, { errorRate: 1 })
    const seen = new Set<string>()
    try {
      // The server answers 500 or 503 at random; collect both classes.
      for (let i = 0; i < 40 && seen.size < 2; i++) {
        const r = await a.authorize({ paymentId: pid('5xx'), amount: money(1000), method: kit.approved, capture: true }, ctx('5xx'))
        seen.add(`${r.outcome}/${r.code}`)
      }
    } finally {
      sandbox().clearFaults(provider)
    }
    expect([...seen].sort()).toEqual(['ambiguous/processing_error', 'technical_failure/provider_unavailable'])
  })
}

/** Braintree webhook bodies are form-encoded base64 XML; the suite looks inside for the reference. */
function decodeBraintree(h: SandboxWebhook): string {
  const payload = new URLSearchParams(h.body).get('bt_payload')
  return payload ? Buffer.from(payload, 'base64').toString('utf8') : ''
}
