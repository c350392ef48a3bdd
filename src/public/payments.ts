// The `ecom/payments` entry. Named exports only, one line per public piece.
export { CURRENCY_EXPONENTS, PROVIDER_NAMES, currencyExponent } from '../payments/model.js'
export type {
  Money,
  ProviderName,
  Operation,
  OutcomeClass,
  NormalizedCode,
  ProviderPaymentStatus,
  PaymentMethod,
  ProviderToken,
  AuthorizeRequest,
  CallContext,
  ProviderResult,
  StatusLookup,
  NormalizedEvent,
  NormalizedEventType,
  WebhookHeaders,
  PaymentAdapter,
} from '../payments/model.js'
export { money, fromMajor, toMajor, assertMoney } from '../payments/money.js'
export { createAdapter, ADAPTERS } from '../payments/providers/index.js'
export type { AdapterOptions } from '../payments/providers/index.js'
export { credentialsFromEnv, CREDENTIAL_ENV } from '../payments/providers/env.js'
export { classifyHttpStatus, classifyTransportError } from '../payments/providers/classify.js'
export { createRouter, PaymentRouter, routeChannel } from '../payments/router/router.js'
export type { PaymentRequest, PaymentResult, RouterOptions, SweepReport } from '../payments/router/router.js'
export { parseRouterConfig, routerConfigSchema, STRATEGIES } from '../payments/router/config.js'
export type { RouterConfig, RouterConfigInput, StrategyName } from '../payments/router/config.js'
export { CircuitBreaker, ProviderHealth } from '../payments/router/breaker.js'
export type { BreakerState } from '../payments/router/breaker.js'
export { Sweeper } from '../payments/router/sweeper.js'
export type { SweeperOptions } from '../payments/router/sweeper.js'
export { Ledger, attemptKey } from '../payments/ledger/ledger.js'
export { createSqliteStore } from '../payments/ledger/sqlite-store.js'
export type { SqliteStoreOptions } from '../payments/ledger/sqlite-store.js'
export { createOrmStore, ledgerModels } from '../payments/ledger/orm-store.js'
export type { OrmStoreOptions, LedgerModelsOptions } from '../payments/ledger/orm-store.js'
export { InProcessLock } from '../payments/ledger/lock.js'
export type { PaymentLock } from '../payments/ledger/lock.js'
export { FINAL_STATES, SETTLED_STATES } from '../payments/ledger/types.js'
export type { LedgerStore, PaymentRow, AttemptRow, PaymentState, AttemptState } from '../payments/ledger/types.js'
export { startSandbox, SANDBOX_CREDENTIALS } from '../payments/sandbox/server.js'
export type { Sandbox, SandboxOptions } from '../payments/sandbox/server.js'
export { testCard, TEST_CARDS, BRAINTREE_DECLINE_AMOUNTS } from '../payments/sandbox/test-cards.js'
export type { TestCardKind } from '../payments/sandbox/test-cards.js'
export type { EmulatorFaults, EmulatedPayment, ProviderEmulator, SandboxCredentials } from '../payments/sandbox/types.js'
export {
  InvalidMoneyError,
  RoutingConfigError,
  UnknownProviderError,
  NoEligibleProviderError,
  PaymentConflictError,
  PaymentNotFoundError,
  IllegalTransitionError,
  PaymentOperationError,
  WebhookSignatureError,
  WebhookPayloadError,
  SandboxListenError,
} from '../errors.js'
