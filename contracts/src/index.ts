export { decodeStrictBase64url } from './base64url.js';
export { type Claims, ClaimsSchema, ScopeStringSchema } from './claims.js';
export {
  ConfigProblems,
  type ConfigValue,
  checkInteger,
  type EnvSource,
  type FieldError,
  type IntegerBounds,
  parseInteger,
  readEnv,
  unknownEnvNames,
} from './config-values.js';
export {
  CLAIM_NAMES,
  CLOCK_SKEW_SECONDS,
  type ClaimName,
  DEFAULT_ALGORITHMS,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_SIGNER_TTL_SECONDS,
  ENV,
  FORBIDDEN_ENV,
  IGNORED_KEY_HEADER_PARAMETERS,
  KID_PATTERN,
  KNOWN_SCOPES,
  type KnownScope,
  LITE_AUTH_LOG_CATEGORY,
  MAX_ISS_LENGTH,
  MAX_JSON_DEPTH,
  MAX_JTI_LENGTH,
  MAX_KID_LENGTH,
  MAX_SCOPE_LENGTH,
  MAX_TOKEN_LENGTH,
  MAX_TTL_SECONDS,
  METRIC_NAMES,
  type MetricName,
  MIN_JWKS_COOLDOWN_MS,
  MIN_RSA_MODULUS_BITS,
  PRIVATE_JWK_MEMBERS,
  REPLAY_PURGE_INTERVAL_MS,
  REPLAY_RETENTION_SECONDS,
  REPLAY_TABLE,
  SCOPE_PATTERN,
  SUPPORTED_ALGORITHMS,
  type SupportedAlgorithm,
  TOKEN_TYPE,
} from './constants.js';
export {
  type CancelDeadline,
  Deadline,
  type TimeoutSignal,
  timeoutSignal,
  withDeadline,
} from './deadline.js';
export { type ProtectedHeader, ProtectedHeaderSchema } from './header.js';
export { toCanonicalJson, vectorFileJsonSchema } from './json-schema.js';
export { checkPublicJwk, type JwkPolicyResult, type PublicJwk } from './jwk-policy.js';
export { loadVectors, VECTOR_FILE_PATH, VECTOR_SCHEMA_PATH } from './load-vectors.js';
export { containedLogger, ignoreRejection, type Logger } from './logger.js';
export {
  createMetricInstruments,
  type InstrumentMeter,
  type MetricInstruments,
} from './metric-instruments.js';
export {
  histogramBuckets,
  LATENCY_BUCKETS_SECONDS,
  METRICS,
  type MetricKind,
  type MetricSide,
  type MetricSpec,
  metricsOf,
  PURGE_BUCKETS_SECONDS,
  SIGNER_METRIC_NAMES,
  type SignerMetricName,
  VERIFIER_METRIC_NAMES,
  type VerifierMetricName,
} from './metrics.js';
export {
  findPublicTestKeys,
  jwkThumbprint,
  type PublicTestKeyMatch,
} from './public-test-keys.js';
export {
  type BearerErrorCode,
  type InvalidClaimReason,
  invalidClaim,
  isReason,
  isRetryable,
  type MissingClaimReason,
  missingClaim,
  REASON_NAMES,
  REASONS,
  type Reason,
  type ReasonInfo,
  statusOf,
} from './reasons.js';
export { parseSpecRules, SPEC_PATH, type SpecRule } from './spec-rules.js';
export { parseStrictJsonObject, type StrictJsonProblem, strictJsonProblem } from './strict-json.js';
export {
  isStorableText,
  LOGGED_TEXT_CUT_MARK,
  loggableText,
  MAX_LOGGED_TEXT_LENGTH,
  MAX_QUOTED_LENGTH,
  quoteForMessage,
  utf8Length,
} from './text.js';
export { isUnavailableCause, UNAVAILABLE_CAUSES, type UnavailableCause } from './unavailable-causes.js';
export {
  type Outcome,
  OutcomeSchema,
  PublicJwkSchema,
  type Sequence,
  SequenceSchema,
  type SequenceStep,
  SequenceStepSchema,
  type SignedContent,
  SignedContentSchema,
  type TestPrivateKey,
  TestPrivateKeySchema,
  VECTOR_FILE_VERSION,
  type Vector,
  type VectorFile,
  VectorFileSchema,
  VectorSchema,
} from './vector-file.js';
