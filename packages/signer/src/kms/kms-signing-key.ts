import { createHash, createPublicKey, type KeyObject, type VerifyKeyObjectInput, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import type { PublicJwk, SupportedAlgorithm } from '@hyper/s2s-contracts';
import { KmsIntegrityError, KmsKeyMismatchError, SignerConfigError } from '../errors.js';
import { algorithmOfKey } from '../key-object-algorithm.js';
import type { KmsCallObserver } from '../metrics.js';
import { toPublicJwk } from '../public-jwk.js';
import type { SigningKey } from '../signing-key.js';
import { requireInteger } from '../validate.js';
import { callKms, DEFAULT_KMS_CALL_POLICY, type KmsCallPolicy } from './call-with-retry.js';
import type { KmsClient } from './client-types.js';
import { crc32c } from './crc32c.js';
import { DerSignatureError, derToJoseP256 } from './ecdsa-der.js';
import { kmsAlgorithmName, kmsAlgorithmSigns } from './key-version-algorithm.js';
import { checkPublicKeyResponse, checkSignResponse } from './response-integrity.js';

export interface KmsKeyOptions {
  /** projects/…/locations/…/keyRings/…/cryptoKeys/…/cryptoKeyVersions/… */
  keyVersionName: string;
  /** A KeyManagementServiceClient; without one, `@google-cloud/kms` is imported on first use. */
  client?: KmsClient;
  /** Per-attempt deadline in ms (default 2000). */
  deadlineMs?: number;
  /** Retries on UNAVAILABLE / DEADLINE_EXCEEDED (default 2). */
  maxRetries?: number;
  /** Base backoff between retries in ms (default 50, doubling). */
  retryBackoffMs?: number;
}

const FIELD = 'key.kms';
export const KEY_VERSION_NAME =
  /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/;

export interface VerifiedPublicKey {
  verifyKey: KeyObject | VerifyKeyObjectInput;
  jwk: PublicJwk;
}

export function validatePolicy(options: KmsKeyOptions): KmsCallPolicy {
  const d = DEFAULT_KMS_CALL_POLICY;
  return {
    deadlineMs: requireInteger(options.deadlineMs ?? d.deadlineMs, `${FIELD}.deadlineMs`, 1, 60_000),
    maxRetries: requireInteger(options.maxRetries ?? d.maxRetries, `${FIELD}.maxRetries`, 0, 10),
    retryBackoffMs: requireInteger(
      options.retryBackoffMs ?? d.retryBackoffMs,
      `${FIELD}.retryBackoffMs`,
      0,
      10_000,
    ),
  };
}

export function validateClient(client: unknown): KmsClient | undefined {
  if (client === undefined) return undefined;
  const c = client as Partial<KmsClient> | null;
  if (typeof c?.asymmetricSign !== 'function' || typeof c.getPublicKey !== 'function') {
    throw new SignerConfigError(
      `${FIELD}.client`,
      'must be a KeyManagementServiceClient (asymmetricSign, getPublicKey)',
    );
  }
  return c as KmsClient;
}

const KMS_PACKAGE = '@google-cloud/kms';

/**
 * Without a client the optional peer is needed: check it resolves now (without loading it), so a missing
 * install fails at startup rather than on the first sign().
 */
function requireKmsPeer(): void {
  try {
    createRequire(import.meta.url).resolve(KMS_PACKAGE);
  } catch (cause) {
    throw new SignerConfigError(
      `${FIELD}.client`,
      `a Cloud KMS key needs the optional peer dependency ${KMS_PACKAGE}, which is not installed: add it to the service (npx -y pnpm@10 add ${KMS_PACKAGE}) or pass key.kms.client`,
      { cause },
    );
  }
}

export async function importDefaultClient(): Promise<KmsClient> {
  try {
    // Lazy: the package is an optional peer, only loaded when a KMS key is configured without a client.
    const { KeyManagementServiceClient } = await import('@google-cloud/kms');
    return new KeyManagementServiceClient() as unknown as KmsClient;
  } catch (cause) {
    throw new SignerConfigError(
      `${FIELD}.client`,
      'no client given and @google-cloud/kms could not be loaded; install it or pass key.kms.client',
      { cause },
    );
  }
}

/**
 * GetPublicKey of one key version, checked: the response names the version, the PEM matches its
 * pemCrc32c, and the key version's algorithm and the key itself fit `alg`.
 */
export async function readKmsPublicKey(
  c: KmsClient,
  name: string,
  kid: string,
  alg: SupportedAlgorithm,
  policy: KmsCallPolicy,
  observe?: KmsCallObserver,
): Promise<VerifiedPublicKey> {
  const [response] = await callKms('GetPublicKey', (o) => c.getPublicKey({ name }, o), policy, observe);
  const pem = checkPublicKeyResponse(response, name);
  const kmsAlgorithm = kmsAlgorithmName(response.algorithm);
  if (!kmsAlgorithmSigns(kmsAlgorithm, alg)) {
    throw new KmsKeyMismatchError(`key version algorithm ${kmsAlgorithm} cannot sign ${alg}`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch (cause) {
    throw new KmsIntegrityError('publicKey', `public key PEM does not parse (${(cause as Error).message})`);
  }
  const check = algorithmOfKey(publicKey);
  if (!check.ok || check.alg !== alg) {
    throw new KmsKeyMismatchError(check.ok ? `public key signs ${check.alg}, not ${alg}` : check.problem);
  }
  return {
    verifyKey: alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey,
    jwk: toPublicJwk(publicKey, kid, alg),
  };
}

/**
 * A Cloud KMS key version as a SigningKey: SHA-256 locally, AsymmetricSign with CRC32C checks both ways,
 * the public key fetched once (pemCrc32c and algorithm checked) and every signature verified against it
 * before it becomes a token.
 */
export function createKmsKey(
  options: KmsKeyOptions,
  kid: string,
  alg: SupportedAlgorithm,
  observe?: KmsCallObserver,
): SigningKey {
  if (options === null || typeof options !== 'object')
    throw new SignerConfigError(FIELD, 'must be an object');
  const name = options.keyVersionName;
  if (typeof name !== 'string' || !KEY_VERSION_NAME.test(name)) {
    throw new SignerConfigError(
      `${FIELD}.keyVersionName`,
      'must be a full key version name: projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V',
    );
  }
  const given = validateClient(options.client);
  if (!given) requireKmsPeer();
  const policy = validatePolicy(options);

  let client: Promise<KmsClient> | undefined;
  const getClient = () => {
    client ??= given ? Promise.resolve(given) : importDefaultClient();
    return client;
  };

  const fetchPublicKey = async (): Promise<VerifiedPublicKey> =>
    readKmsPublicKey(await getClient(), name, kid, alg, policy, observe);

  let publicKey: Promise<VerifiedPublicKey> | undefined;
  const getPublicKey = () => {
    // Once per signer; a failure is not cached, so the next call tries again.
    publicKey ??= fetchPublicKey().catch((error: unknown) => {
      publicKey = undefined;
      throw error;
    });
    return publicKey;
  };

  return {
    kid,
    alg,
    remote: true,
    async sign(input) {
      // The algorithm check comes first: no token is signed by a key version of the wrong kind.
      const { verifyKey } = await getPublicKey();
      const c = await getClient();
      const digest = createHash('sha256').update(input).digest();
      const request = { name, digest: { sha256: digest }, digestCrc32c: { value: crc32c(digest) } };
      const [response] = await callKms(
        'AsymmetricSign',
        (o) => c.asymmetricSign(request, o),
        policy,
        observe,
      );
      const raw = checkSignResponse(response, name);
      let signature: Buffer;
      try {
        signature = alg === 'ES256' ? derToJoseP256(raw) : raw;
      } catch (cause) {
        if (!(cause instanceof DerSignatureError)) throw cause;
        throw new KmsIntegrityError(
          'signatureEncoding',
          `ECDSA signature is not valid DER (${cause.message})`,
        );
      }
      // CRCs catch corruption in transit, not a wrong key or a faulty HSM answer; this does.
      if (!verify('sha256', input, verifyKey, signature)) {
        throw new KmsIntegrityError('signature', 'signature does not verify with the key version public key');
      }
      return signature;
    },
    async publicJwk() {
      return { ...(await getPublicKey()).jwk };
    },
    async close() {
      if (!given && client) await (await client.catch(() => undefined))?.close?.();
    },
  };
}
