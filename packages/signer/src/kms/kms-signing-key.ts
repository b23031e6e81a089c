import { createHash, createPublicKey, type KeyObject, type VerifyKeyObjectInput, verify } from 'node:crypto';
import { createRequire } from 'node:module';
import { type PublicJwk, type SupportedAlgorithm, withDeadline } from '@hyper/s2s-contracts';
import {
  KmsError,
  KmsIntegrityError,
  KmsKeyMismatchError,
  KmsUnavailableError,
  SignerConfigError,
} from '../errors.js';
import { algorithmOfKey } from '../key-object-algorithm.js';
import type { KmsCallObserver } from '../metrics.js';
import { publicJwkProblem, toPublicJwk } from '../public-jwk.js';
import type { SigningKey } from '../signing-key.js';
import { requireInteger } from '../validate.js';
import {
  callKms,
  DEFAULT_KMS_CALL_POLICY,
  type KmsCallPolicy,
  kmsBudgetEnd,
  kmsWorstCaseMs,
  MAX_KMS_BACKOFF_MS,
  MAX_KMS_BUDGET_MS,
} from './call-with-retry.js';
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
  /** Per-attempt deadline in ms (default 2000, at most 30000). */
  deadlineMs?: number;
  /**
   * Retries on UNAVAILABLE / DEADLINE_EXCEEDED (default 2, at most 10, and at most what keeps one RPC's
   * worst case, `(maxRetries + 1) * deadlineMs` plus the pauses, within 30000 ms).
   */
  maxRetries?: number;
  /** Base backoff between retries in ms (default 50, doubling, each pause at most 1000). */
  retryBackoffMs?: number;
  /**
   * Bound in ms of one `sign()` or public key read, all its RPCs, attempts and pauses included
   * (default 10000, at most 30000); enforced with a local timer even if the client ignores deadlines.
   */
  budgetMs?: number;
}

const FIELD = 'key.kms';
export const KEY_VERSION_NAME =
  /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/;

export interface VerifiedPublicKey {
  verifyKey: KeyObject | VerifyKeyObjectInput;
  jwk: PublicJwk;
}

const MAX_RETRIES = 10;

/**
 * The retry policy, bounded so no KMS operation can outlast MAX_KMS_BUDGET_MS: a combination whose worst
 * case exceeds it is refused, naming maxRetries (the factor that multiplies the deadline).
 */
export function validatePolicy(options: KmsKeyOptions, field = FIELD): KmsCallPolicy {
  const d = DEFAULT_KMS_CALL_POLICY;
  const max = MAX_KMS_BUDGET_MS;
  const deadlineMs = requireInteger(options.deadlineMs ?? d.deadlineMs, `${field}.deadlineMs`, 1, max);
  const retryBackoffMs = requireInteger(
    options.retryBackoffMs ?? d.retryBackoffMs,
    `${field}.retryBackoffMs`,
    0,
    MAX_KMS_BACKOFF_MS,
  );
  const maxRetries = requireInteger(
    options.maxRetries ?? d.maxRetries,
    `${field}.maxRetries`,
    0,
    MAX_RETRIES,
  );
  const worst = kmsWorstCaseMs({ deadlineMs, maxRetries, retryBackoffMs });
  if (worst > max) {
    let fits = maxRetries;
    while (kmsWorstCaseMs({ deadlineMs, maxRetries: fits, retryBackoffMs }) > max) fits--;
    throw new SignerConfigError(
      `${field}.maxRetries`,
      `${maxRetries} retries of a ${deadlineMs} ms deadline (retryBackoffMs ${retryBackoffMs}) can take ${worst} ms, over the ${max} ms bound of a KMS call; use at most ${fits} or a shorter deadlineMs`,
    );
  }
  const budgetMs = requireInteger(options.budgetMs ?? d.budgetMs, `${field}.budgetMs`, 1, max);
  return { deadlineMs, maxRetries, retryBackoffMs, budgetMs };
}

export function validateClient(client: unknown, field = FIELD): KmsClient | undefined {
  if (client === undefined) return undefined;
  const c = client as Partial<KmsClient> | null;
  if (typeof c?.asymmetricSign !== 'function' || typeof c.getPublicKey !== 'function') {
    throw new SignerConfigError(
      `${field}.client`,
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
      `a Cloud KMS key needs the optional peer dependency ${KMS_PACKAGE}, which is not installed: add it to the service's dependencies or pass key.kms.client`,
      { cause },
    );
  }
}

async function importDefaultClient(): Promise<KmsClient> {
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

/** Where the KMS calls of one or more keys go. */
export interface KmsClientSource {
  /** The client once it has started, waiting at most until `budgetEnd` (performance.now()). */
  get(budgetEnd: number): Promise<KmsClient>;
  /** Closes the client if this source created it; a given client belongs to the caller. */
  close(): Promise<void>;
}

/**
 * `c` once its `initialize()` has settled. gax's generated methods rethrow a failed initialize (no
 * credentials found, say) from a promise nobody awaits: an unhandled rejection that ends the process
 * (googleapis/google-cloud-node#9085), however the caller catches. Awaited here, it is a KmsError to
 * the caller, and no method of that client is called.
 */
async function started(c: KmsClient): Promise<KmsClient> {
  if (typeof c.initialize !== 'function') return c;
  try {
    await c.initialize();
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new KmsError(`the KMS client could not start: ${why}`, { cause });
  }
  return c;
}

/**
 * The given client, or else one default client created on first use (the optional peer is loaded
 * lazily) and shared by every key holding this source: one gRPC channel and one auth, closed once.
 * A default client that could not start is closed and made anew by the next call (credentials can
 * appear later); a given one that could not start keeps failing, as gax keeps its failed start.
 */
export function kmsClientSource(given: KmsClient | undefined): KmsClientSource {
  let client: Promise<KmsClient> | undefined;
  // Once started, every call gets it at once: no deadline (and its timer) per KMS call.
  let ready: KmsClient | undefined;
  const create = (): Promise<KmsClient> => {
    if (given)
      return started(given).then((c) => {
        ready = c;
        return c;
      });
    const made = importDefaultClient().then(async (c) => {
      try {
        ready = await started(c);
        return ready;
      } catch (error) {
        await c.close?.().catch(() => undefined);
        throw error;
      }
    });
    made.catch(() => {
      if (client === made) client = undefined;
    });
    return made;
  };
  return {
    get(budgetEnd) {
      if (ready !== undefined) return Promise.resolve(ready);
      client ??= create();
      return withDeadline(
        client,
        Math.max(0, budgetEnd - performance.now()),
        () => new KmsUnavailableError('the KMS client did not start within the call budget', 0, {}),
      );
    },
    async close() {
      if (!given && client) await (await client.catch(() => undefined))?.close?.();
    },
  };
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
  budgetEnd: number,
  observe?: KmsCallObserver,
): Promise<VerifiedPublicKey> {
  const [response] = await callKms(
    'GetPublicKey',
    (o) => c.getPublicKey({ name }, o),
    policy,
    budgetEnd,
    observe,
  );
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
  const jwk = toPublicJwk(publicKey, kid, alg);
  const problem = publicJwkProblem(jwk);
  if (problem !== undefined) throw new KmsKeyMismatchError(`public key is refused: ${problem}`);
  return {
    verifyKey: alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey,
    jwk,
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

  const clients = kmsClientSource(given);

  const fetchPublicKey = async (budgetEnd: number): Promise<VerifiedPublicKey> =>
    readKmsPublicKey(await clients.get(budgetEnd), name, kid, alg, policy, budgetEnd, observe);

  let publicKey: Promise<VerifiedPublicKey> | undefined;
  // A caller joining a read in flight waits at most until that read's budget ends, which is before its own.
  const getPublicKey = (budgetEnd: number) => {
    // Once per signer; a failure is not cached, so the next call tries again.
    publicKey ??= fetchPublicKey(budgetEnd).catch((error: unknown) => {
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
      // One budget for the whole sign(): the first one also reads the public key.
      const budgetEnd = kmsBudgetEnd(policy);
      // The algorithm check comes first: no token is signed by a key version of the wrong kind.
      const { verifyKey } = await getPublicKey(budgetEnd);
      const c = await clients.get(budgetEnd);
      const digest = createHash('sha256').update(input).digest();
      const request = { name, digest: { sha256: digest }, digestCrc32c: { value: crc32c(digest) } };
      const [response] = await callKms(
        'AsymmetricSign',
        (o) => c.asymmetricSign(request, o),
        policy,
        budgetEnd,
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
      return { ...(await getPublicKey(kmsBudgetEnd(policy))).jwk };
    },
    close: () => clients.close(),
  };
}
