export { VERIFY_CHANNEL, type VerifyEvent } from './diagnostics.js';
export { type Environment, TUNING_ENV, type VerifierFromEnvOptions, verifierFromEnv } from './env.js';
export {
  VerifierConfigError,
  VerifierError,
  type VerifierErrorCode,
  VerifierUsageError,
} from './errors.js';
export type { AdapterOptions } from './http/adapter-options.js';
export { bearerCredential } from './http/authorization.js';
export {
  DEFAULT_RETRY_AFTER_SECONDS,
  type RejectionOptions,
  rejectionBody,
  rejectionHeaders,
} from './http/challenge.js';
export {
  authenticateRequest,
  type FetchAuthOutcome,
  rejectionResponse,
} from './http/fetch.js';
export { type S2sAuthenticatedRequest, s2sMiddleware } from './http/node.js';
export { MAX_JWKS_BYTES } from './keys/remote.js';
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
  type Logger,
  type MetricsSink,
  UNAVAILABLE_METRIC_NAME,
} from './observe.js';
export {
  DEFAULTS,
  type RemoteKeysOptions,
  type StaticKeysOptions,
  type VerifierOptions,
} from './options.js';
export {
  type ConvertOptions,
  type ConvertOutcome,
  convertToPartitioned,
  DEFAULT_MEMORY_MAX_ENTRIES,
  DEFAULT_REPLAY_TIMEOUT_MS,
  type MemoryReplayStore,
  type MemoryReplayStoreOptions,
  type MigrateOptions,
  memoryReplayStore,
  migrate,
  type PgReplayStore,
  type PgReplayStoreOptions,
  type PurgeOutcome,
  type PurgeRunOptions,
  type PurgerLogger,
  type PurgerOptions,
  type PurgeSource,
  pgReplayStore,
  REPLAY_MIGRATION_FILE,
  REPLAY_MIGRATION_SQL,
  REPLAY_TABLE_NAME,
  type ReplayCallOptions,
  type ReplayDb,
  type ReplayEntry,
  type ReplayLayout,
  type ReplayPurger,
  type ReplayStore,
  ReplayStoreError,
  type ReplayStoreErrorCode,
  startPurger,
} from './replay/index.js';
export type { FailureReason, VerifyFailure, VerifyResult, VerifySuccess } from './result.js';
export {
  createVerifier,
  type HealthReport,
  type RefreshReport,
  type Verifier,
  type WarmupOptions,
  type WarmupReport,
} from './verifier.js';
export { MAX_PATH_LABEL_LENGTH, type VerifyOptions } from './verify-options.js';
