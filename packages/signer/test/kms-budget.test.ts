import { SIGNER_METRIC_NAMES } from '@hyper/s2s-contracts';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createKeySet,
  createSigner,
  type KmsClient,
  type KmsKeyOptions,
  KmsUnavailableError,
  kmsPublishedKey,
  type Signer,
  SignerConfigError,
  type SignerMetricsSink,
} from '../src/index.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { AUDIENCE, ISSUER, SUBJECT } from './helpers/vectors.js';

/*
 * Review findings 4 and 5: one KMS operation (a sign(), a public key read) is bounded by a budget and
 * every attempt by a local timer, whatever the client does with `timeout`. Asserted in RPCs counted by
 * the KMS test server and in error codes, never in elapsed time.
 */

const kms = useKmsTestServer();
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((signer) => signer.close()));
});

/** Far past any deadline here: an attempt against it can only end by being cut. */
const ENDLESS_MS = 600_000;
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;

function kmsSigner(kmsOptions: Partial<KmsKeyOptions>, metrics?: SignerMetricsSink) {
  const name = keyVersionName();
  kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
  const signer = createSigner({
    key: { kms: { keyVersionName: name, client: kms.client(), ...kmsOptions }, kid: 'lite-2026-03' },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    logger: { info: () => undefined, warn: () => undefined },
    ...(metrics ? { metrics } : {}),
  });
  signers.push(signer);
  return { signer, name };
}

const sign = (signer: Signer) => signer.sign({ scope: 'spaces:create' });

/** The KMS RPCs the test server received while `run` ran (retries included). */
async function rpcsDuring(run: () => Promise<unknown>) {
  const before = kms.server.calls;
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  const after = kms.server.calls;
  return {
    error,
    asymmetricSign: after.asymmetricSign - before.asymmetricSign,
    getPublicKey: after.getPublicKey - before.getPublicKey,
    getCryptoKeyVersion: after.getCryptoKeyVersion - before.getCryptoKeyVersion,
  };
}

/**
 * The real client behind a wrapper that drops the call options (as a tracing or caching wrapper
 * might): the client then applies its own method timeout, here ten minutes.
 */
function ignoringDeadlines(): KmsClient {
  const client = kms.client({ timeoutMs: ENDLESS_MS });
  return {
    asymmetricSign: (request) => client.asymmetricSign(request),
    getPublicKey: (request) => client.getPublicKey(request),
    getCryptoKeyVersion: (request) => client.getCryptoKeyVersion(request),
  };
}

describe('KMS retry policy bounds are checked at construction', () => {
  const refused: [string, string, Partial<KmsKeyOptions>][] = [
    [
      "the review's 3-hour policy",
      'key.kms.deadlineMs',
      { deadlineMs: 60_000, maxRetries: 10, retryBackoffMs: 10_000 },
    ],
    ['a deadline over 30 s', 'key.kms.deadlineMs', { deadlineMs: 30_001, maxRetries: 0 }],
    ['a backoff step over 1 s', 'key.kms.retryBackoffMs', { retryBackoffMs: 1001 }],
    ['retries whose worst case exceeds 30 s', 'key.kms.maxRetries', { deadlineMs: 3000, maxRetries: 10 }],
    ['a budget over 30 s', 'key.kms.budgetMs', { budgetMs: 30_001 }],
    ['a zero budget', 'key.kms.budgetMs', { budgetMs: 0 }],
  ];
  it.each(refused)('refuses %s, naming %s', (_what, field, options) => {
    const error = (() => {
      try {
        kmsSigner(options);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SignerConfigError);
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_CONFIG', field });
  });

  it('names the largest retry count that fits, and the same bound holds for a published key', () => {
    // 3 s deadlines and the default 50 ms backoff: 8 attempts plus 3550 ms of pauses stay within 30 s.
    expect(() => kmsSigner({ deadlineMs: 3000, maxRetries: 8 })).toThrow(/use at most 7 /);
    expect(() => kmsSigner({ deadlineMs: 3000, maxRetries: 7 })).not.toThrow();
    expect(() =>
      kmsPublishedKey({
        kid: 'lite-2026-03',
        keyVersionName: keyVersionName(),
        client: kms.client(),
        deadlineMs: 3000,
        maxRetries: 10,
      }),
    ).toThrow(expect.objectContaining({ field: 'keySet.kms.maxRetries' }));
  });

  it('caps each backoff step, so ten retries with a 1 s base backoff fit (11 s + 10 × 1 s)', () => {
    // Doubling without the cap would be 1023 s of pauses.
    expect(() => kmsSigner({ deadlineMs: 1000, maxRetries: 10, retryBackoffMs: 1000 })).not.toThrow();
  });
});

describe('one KMS operation stays within its budget', () => {
  it('does not start a pause that would outlast the budget: one attempt, not maxRetries + 1', async () => {
    const { signer } = kmsSigner({ deadlineMs: 100, maxRetries: 5, retryBackoffMs: 1000, budgetMs: 500 });
    await signer.jwks();
    kms.server.setFaults({ unavailableTimes: Number.POSITIVE_INFINITY });
    const run = await rpcsDuring(() => sign(signer));
    expect(run.error).toBeInstanceOf(KmsUnavailableError);
    expect(run.error).toMatchObject({ code: 'ERR_S2S_KMS_UNAVAILABLE', attempts: 1, grpcCode: UNAVAILABLE });
    expect(run.asymmetricSign).toBe(1);
  });

  it('cuts the attempts of a first sign() (GetPublicKey included) at the budget, short of the retry policy', async () => {
    const maxRetries = 10;
    const { signer } = kmsSigner({ deadlineMs: 1000, maxRetries, retryBackoffMs: 0, budgetMs: 300 });
    kms.server.setFaults({ latencyMs: ENDLESS_MS });
    const run = await rpcsDuring(() => sign(signer));
    expect(run.error).toBeInstanceOf(KmsUnavailableError);
    expect(run.error).toMatchObject({ code: 'ERR_S2S_KMS_UNAVAILABLE', grpcCode: DEADLINE_EXCEEDED });
    const { attempts } = run.error as KmsUnavailableError;
    // The first attempt gets the 300 ms left, not its 1000 ms deadline; at most a sliver remains after.
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(attempts).toBeLessThan(3);
    expect(run.getPublicKey).toBe(attempts);
    expect(run.asymmetricSign).toBe(0);
  });
});

describe('every KMS attempt has a local deadline, even when the client ignores `timeout`', () => {
  /** Per-attempt outcomes, as the signer reports them to its metrics sink. */
  function attemptRecorder() {
    const attempts: string[] = [];
    const sink: SignerMetricsSink = {
      observe(name, _seconds, labels) {
        if (name === SIGNER_METRIC_NAMES.kmsCallDuration) attempts.push(`${labels.method}:${labels.outcome}`);
      },
      increment: () => undefined,
    };
    return { sink, attempts };
  }

  function ignoringSigner(metrics?: SignerMetricsSink) {
    return kmsSigner({ client: ignoringDeadlines(), deadlineMs: 200, retryBackoffMs: 1 }, metrics).signer;
  }

  it('sign() settles: each attempt is cut locally as DEADLINE_EXCEEDED and retried, then normal service', async () => {
    const recorder = attemptRecorder();
    const signer = ignoringSigner(recorder.sink);
    await signer.jwks();
    recorder.attempts.length = 0;
    kms.server.setFaults({ latencyMs: ENDLESS_MS });
    const run = await rpcsDuring(() => sign(signer));
    expect(run.error).toBeInstanceOf(KmsUnavailableError);
    expect(run.error).toMatchObject({ attempts: 3, grpcCode: DEADLINE_EXCEEDED });
    expect(run.asymmetricSign).toBe(3);
    expect(recorder.attempts).toEqual(Array(3).fill('AsymmetricSign:deadline_exceeded'));

    kms.server.resetFaults();
    await expect(sign(signer)).resolves.toMatch(/^ey/);
  });

  it('signer.jwks() settles with KmsUnavailableError after maxRetries + 1 cut GetPublicKey attempts', async () => {
    const signer = ignoringSigner();
    kms.server.setFaults({ latencyMs: ENDLESS_MS });
    const run = await rpcsDuring(() => signer.jwks());
    expect(run.error).toBeInstanceOf(KmsUnavailableError);
    expect(run.error).toMatchObject({ attempts: 3, grpcCode: DEADLINE_EXCEEDED });
    expect(run.getPublicKey).toBe(3);
  });

  it('a key set built on kmsPublishedKey settles its jwks() too', async () => {
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const keySet = createKeySet({
      current: kmsPublishedKey({
        kid: 'lite-2026-03',
        keyVersionName: name,
        client: ignoringDeadlines(),
        deadlineMs: 200,
        retryBackoffMs: 1,
      }),
    });
    kms.server.setFaults({ latencyMs: ENDLESS_MS });
    const run = await rpcsDuring(() => keySet.jwks());
    expect(run.error).toBeInstanceOf(KmsUnavailableError);
    expect(run.error).toMatchObject({ attempts: 3, grpcCode: DEADLINE_EXCEEDED });
    expect(run.getCryptoKeyVersion).toBe(3);
  });
});
