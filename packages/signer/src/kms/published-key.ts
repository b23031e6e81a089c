import type { PublicJwk, SupportedAlgorithm } from '@hyper/s2s-contracts';
import { KmsError, KmsIntegrityError, SignerConfigError } from '../errors.js';
import type { PublishableKey } from '../key-set.js';
import { requireInteger, requireKid } from '../validate.js';
import { callKms, GRPC_STATUS, kmsBudgetEnd } from './call-with-retry.js';
import {
  KEY_VERSION_NAME,
  type KmsClientSource,
  type KmsKeyOptions,
  kmsClientSource,
  readKmsPublicKey,
  validateClient,
  validatePolicy,
} from './kms-signing-key.js';

export interface KmsPublishedKeyOptions extends KmsKeyOptions {
  /** The kid this key version is published under (`lite-YYYY-MM`): the explicit kid <-> version mapping. */
  kid: string;
  alg?: SupportedAlgorithm;
  /**
   * Seconds a checked public key (and the version's ENABLED state) is reused before KMS is asked again
   * (default 60). Bounds both the KMS calls a busy JWKS endpoint makes and how long a version disabled
   * in KMS stays published.
   */
  recheckSeconds?: number;
}

export const DEFAULT_KMS_RECHECK_SECONDS = 60;
const MAX_RECHECK_SECONDS = 3600;
/** CryptoKeyVersionState ENABLED, by name (gax's default) or number. */
const ENABLED = new Set<unknown>(['ENABLED', 1]);

const FIELD = 'keySet.kms';

/**
 * The public key of one Cloud KMS key version for a published key set: GetCryptoKeyVersion says whether
 * the version is ENABLED (a DISABLED, DESTROY_SCHEDULED or DESTROYED version is never published), then
 * GetPublicKey gives the PEM, CRC32C and algorithm checked. Both calls have the signer's bounded
 * deadline and retries; any failure rejects, so the JWKS answers 503 rather than a partial set.
 * Concurrent reads share one KMS round trip; a result is reused for `recheckSeconds` (monotonic clock).
 * Without `client`, a default client is created on first use; `close()` closes it (a given client
 * stays the caller's to close). A key set does not own its keys: close them when it is done.
 */
export function kmsPublishedKey(
  options: KmsPublishedKeyOptions,
): PublishableKey & { close(): Promise<void> } {
  return publishedKey(options);
}

/**
 * kmsPublishedKey, with its KMS calls going to `shared` when given (keys of one key set share one
 * client, which its owner closes: `close()` here then does nothing); `options.client` is then the
 * caller's business, not validated here.
 */
export function publishedKey(
  options: KmsPublishedKeyOptions,
  shared?: KmsClientSource,
): PublishableKey & { close(): Promise<void> } {
  if (options === null || typeof options !== 'object')
    throw new SignerConfigError(FIELD, 'must be an object');
  const kid = requireKid(options.kid, `${FIELD}.kid`);
  const name = options.keyVersionName;
  if (typeof name !== 'string' || !KEY_VERSION_NAME.test(name)) {
    throw new SignerConfigError(
      `${FIELD}.keyVersionName`,
      'must be a full key version name: projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V',
    );
  }
  const alg = options.alg ?? 'RS256';
  if (alg !== 'RS256' && alg !== 'ES256')
    throw new SignerConfigError(`${FIELD}.alg`, 'must be RS256 or ES256');
  const recheckMs =
    requireInteger(
      options.recheckSeconds ?? DEFAULT_KMS_RECHECK_SECONDS,
      `${FIELD}.recheckSeconds`,
      0,
      MAX_RECHECK_SECONDS,
    ) * 1000;
  const clients = shared ?? kmsClientSource(validateClient(options.client, FIELD));
  const policy = validatePolicy(options, FIELD);

  const read = async (): Promise<PublicJwk | undefined> => {
    // Both RPCs share one budget: a JWKS request waits for at most budgetMs per key.
    const budgetEnd = kmsBudgetEnd(policy);
    const c = await clients.get(budgetEnd);
    if (typeof c.getCryptoKeyVersion !== 'function') {
      throw new SignerConfigError(
        `${FIELD}.client`,
        'must have getCryptoKeyVersion to check key version state',
      );
    }
    const getVersion = c.getCryptoKeyVersion.bind(c);
    const [version] = await callKms('GetCryptoKeyVersion', (o) => getVersion({ name }, o), policy, budgetEnd);
    if (version.name !== name) {
      throw new KmsIntegrityError(
        'name',
        `key version is for ${JSON.stringify(version.name)}, not the configured key version`,
      );
    }
    if (!ENABLED.has(version.state)) return undefined;
    try {
      return (await readKmsPublicKey(c, name, kid, alg, policy, budgetEnd)).jwk;
    } catch (error) {
      // Disabled between the two calls: the same answer as seeing the state, not an outage.
      if (error instanceof KmsError && error.grpcCode === GRPC_STATUS.FAILED_PRECONDITION) return undefined;
      throw error;
    }
  };

  let cached: { jwk: PublicJwk | undefined; until: number } | undefined;
  let inFlight: Promise<PublicJwk | undefined> | undefined;
  return {
    kid,
    keyVersionName: name,
    async publicJwk() {
      if (cached && performance.now() < cached.until) return cached.jwk && { ...cached.jwk };
      inFlight ??= read()
        .then((jwk) => {
          cached = { jwk, until: performance.now() + recheckMs };
          return jwk;
        })
        .finally(() => {
          inFlight = undefined;
        });
      const jwk = await inFlight;
      return jwk && { ...jwk };
    },
    // A shared source is its owner's to close (keySetFromDocument's close()); a given client, the caller's.
    close: async () => {
      if (clients !== shared) await clients.close();
    },
  };
}
