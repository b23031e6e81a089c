/** The logger shape is shared with the signer; re-exported so `import { type Logger }` keeps working. */
export type { Claims, Logger } from '@hyper/s2s-contracts';
export { VERIFY_CHANNEL, type VerifyEvent } from './diagnostics.js';
export { type Environment, TUNING_ENV, type VerifierFromEnvOptions, verifierFromEnv } from './env.js';
export {
  VerifierConfigError,
  VerifierError,
  type VerifierErrorCode,
  VerifierUsageError,
} from './errors.js';
export type { AdapterOptions } from './http/adapter-options.js';
export { authenticateRequest, type FetchAuthOutcome } from './http/fetch.js';
export { type S2sAuthenticatedRequest, s2sMiddleware } from './http/node.js';
export type { KeysReport } from './keys/source.js';
export {
  PURGE_RESULTS,
  type PurgeResult,
  type RememberOutcome,
  type VerifierHistogramName,
} from './metrics.js';
export {
  type AuthMetricLabels,
  type AuthMetricName,
  JWKS_FETCH_OUTCOMES,
  type JwksFetchOutcome,
  type MetricsSink,
  UNAVAILABLE_METRIC_NAME,
} from './observe.js';
export type {
  RemoteKeysOptions,
  StaticKeysOptions,
  VerifierOptions,
} from './options.js';
export { ReplayStoreError, type ReplayStoreErrorCode } from './replay/errors.js';
export { type MemoryReplayStore, type MemoryReplayStoreOptions, memoryReplayStore } from './replay/memory.js';
export { type MigrateOptions, migrate } from './replay/migrate.js';
export {
  type PgReplayStore,
  type PgReplayStoreOptions,
  pgReplayStore,
  type ReplayLayout,
} from './replay/pg.js';
export {
  type PurgeOutcome,
  type PurgeRunOptions,
  type PurgerLogger,
  type PurgerOptions,
  type PurgeSource,
  type ReplayPurger,
  startPurger,
} from './replay/purge.js';
export type { ReplayCallOptions, ReplayDb, ReplayEntry, ReplayStore } from './replay/store.js';
export type { FailureReason, VerifyFailure, VerifyResult, VerifySuccess } from './result.js';
export {
  createVerifier,
  type HealthReport,
  type RefreshReport,
  type Verifier,
  type WarmupOptions,
  type WarmupReport,
} from './verifier.js';
export type { VerifyOptions } from './verify-options.js';
