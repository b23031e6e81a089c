/** The logger shape is shared with the verifier; re-exported so `import { type Logger }` keeps working. */
/** The public JWK shape is shared with the verifier's key policy; re-exported under the same name. */
export type { Logger, PublicJwk } from '@hyper/s2s-contracts';
export {
  type Environment,
  type EnvSigner,
  SIGNER_ENV,
  type SignerFromEnvOptions,
  signerFromEnv,
} from './env.js';
export {
  KeySetError,
  KeySetUnavailableError,
  KmsError,
  type KmsIntegrityCheck,
  KmsIntegrityError,
  KmsKeyMismatchError,
  KmsResourceExhaustedError,
  KmsUnavailableError,
  ScopeError,
  SignedFetchError,
  SignerClosedError,
  SignerConfigError,
  SignerError,
  type SignerErrorCode,
  SignRequestError,
} from './errors.js';
export {
  createJwksHandler,
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  JWKS_PATH,
  type JwksHandler,
  type JwksHandlerOptions,
} from './jwks-handler.js';
export {
  createKeySet,
  type KeySet,
  type KeySetOptions,
  type KeySetStatus,
  type KeySetTimings,
  type PublishableKey,
  type RetiringKey,
} from './key-set.js';
export {
  type KeySetDocument,
  type KeySetDocumentKey,
  type KeySetFromDocumentOptions,
  keySetFromDocument,
  keySetToDocument,
  parseKeySetDocument,
} from './key-set-document.js';
export { checkKeyset, type KeysetProblem } from './keyset-policy.js';
export {
  DEFAULT_KMS_CALL_POLICY,
  KMS_CALL_OUTCOMES,
  type KmsCallOutcome,
  type KmsCallPolicy,
} from './kms/call-with-retry.js';
export type {
  KmsAsymmetricSignRequest,
  KmsAsymmetricSignResponse,
  KmsCallOptions,
  KmsClient,
  KmsCryptoKeyVersion,
  KmsInt64Value,
  KmsPublicKey,
} from './kms/client-types.js';
export { crc32c } from './kms/crc32c.js';
export { KMS_ALGORITHMS } from './kms/key-version-algorithm.js';
export type { KmsKeyOptions } from './kms/kms-signing-key.js';
export {
  DEFAULT_KMS_RECHECK_SECONDS,
  type KmsPublishedKeyOptions,
  kmsPublishedKey,
} from './kms/published-key.js';
export type {
  SignerCounterName,
  SignerHistogramName,
  SignerMetricsSink,
} from './metrics.js';
export type { PrefetchOptions } from './prefetch-pool.js';
export type { Jwks } from './public-jwk.js';
export type { SignedFetchOptions } from './signed-fetch.js';
export {
  createSigner,
  type KmsKeyConfig,
  type PemKeyConfig,
  type Signer,
  type SignerOptions,
  type SignRequest,
} from './signer.js';
