import { SIGNER_METRIC_NAMES } from '@hyper/s2s-contracts';
import * as jose from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSigner,
  KmsError,
  KmsIntegrityError,
  KmsResourceExhaustedError,
  KmsUnavailableError,
  type PrefetchOptions,
  type Signer,
  SignerError,
  type SignerMetricsSink,
} from '../../src/index.js';
import type { KmsFaults, KmsTestAlgorithm } from '../../src/testing/index.js';
import { keyVersionName, useKmsTestServer } from '../helpers/kms-server.js';
import { decodeToken } from '../helpers/tokens.js';
import { AUDIENCE, ISSUER, SUBJECT } from '../helpers/vectors.js';
import { until } from '../helpers/wait.js';

/*
 * Properties, not timings: every sign() settles, failures are typed, KMS calls stay inside the retry
 * policy's budget and every emitted token verifies. Faults are injected by count ("the next n calls") or
 * as a switch (on until resetFaults()), and progress is measured in RPCs at the KMS test server, so a
 * loaded machine can slow the test down but cannot change what it asserts.
 */

/** Retry policy of the signers under test. The deadline only matters against an effectively endless latency. */
const DEADLINE_MS = 200;
const MAX_RETRIES = 2;
const ATTEMPTS = MAX_RETRIES + 1;
const BACKOFF_MS = 10;
const CALLERS = 12;
/** Far past any deadline here: an attempt against it can only end by being cut. */
const ENDLESS_MS = 600_000;
/** Down until resetFaults(). */
const ALWAYS = Number.POSITIVE_INFINITY;

type Outcome = 'ok' | string;

interface Settled {
  readonly outcome: Outcome;
  readonly token: string | undefined;
  readonly error: unknown;
}

const kms = useKmsTestServer();
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((signer) => signer.close()));
});

interface SignerSetup {
  prefetch?: PrefetchOptions;
  deadlineMs?: number;
  metrics?: SignerMetricsSink;
}

function kmsSigner(name: string, alg: 'RS256' | 'ES256', setup: SignerSetup = {}): Signer {
  const signer = createSigner({
    key: {
      kms: {
        keyVersionName: name,
        client: kms.client(),
        deadlineMs: setup.deadlineMs ?? DEADLINE_MS,
        maxRetries: MAX_RETRIES,
        retryBackoffMs: BACKOFF_MS,
      },
      kid: 'lite-2026-03',
      alg,
    },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ...(setup.prefetch ? { prefetch: setup.prefetch } : {}),
    ...(setup.metrics ? { metrics: setup.metrics } : {}),
    logger: { info: () => undefined, warn: () => undefined },
  });
  signers.push(signer);
  return signer;
}

/** A signer on a fresh key version whose public key is already fetched (faults then reach only signing). */
async function readySigner(algorithm: KmsTestAlgorithm, alg: 'RS256' | 'ES256', setup?: SignerSetup) {
  const name = keyVersionName();
  kms.server.addKey(name, { algorithm });
  const signer = kmsSigner(name, alg, setup);
  await signer.jwks();
  return { name, signer };
}

function outcomeOf(error: unknown): Outcome {
  if (!(error instanceof SignerError)) return `untyped:${String(error)}`;
  if (error instanceof KmsIntegrityError) return `${error.code}:${error.check}`;
  return error.code;
}

async function settle(signer: Signer): Promise<Settled> {
  try {
    const token = await signer.sign({ scope: 'spaces:create' });
    return { outcome: 'ok', token, error: undefined };
  } catch (error) {
    return { outcome: outcomeOf(error), token: undefined, error };
  }
}

/** `n` concurrent sign() calls; resolves once every one of them has settled (a hang fails the test). */
async function signConcurrently(signer: Signer, n = CALLERS): Promise<Settled[]> {
  const results = await Promise.all(Array.from({ length: n }, () => settle(signer)));
  expect(results).toHaveLength(n);
  return results;
}

/** The KMS RPCs the test server received while `run` ran (retries included). */
async function rpcsDuring<T>(run: () => Promise<T>) {
  const before = kms.server.calls;
  const result = await run();
  const after = kms.server.calls;
  return {
    result,
    asymmetricSign: after.asymmetricSign - before.asymmetricSign,
    getPublicKey: after.getPublicKey - before.getPublicKey,
  };
}

const count = (results: readonly Settled[], outcome: Outcome) =>
  results.filter((result) => result.outcome === outcome).length;
const tokensOf = (results: readonly Settled[]) =>
  results.flatMap((result) => (result.token === undefined ? [] : [result.token]));

/** Every token verifies against the signer's JWKS, with the configured header and a jti of its own. */
async function verifyAll(signer: Signer, alg: 'RS256' | 'ES256', tokens: readonly string[]) {
  const keys = jose.createLocalJWKSet(await signer.jwks());
  const jtis = new Set<string>();
  for (const token of tokens) {
    const { payload, protectedHeader } = await jose.jwtVerify(token, keys, {
      algorithms: [alg],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(protectedHeader).toEqual({ alg, typ: 'JWT', kid: 'lite-2026-03' });
    jtis.add(payload.jti as string);
  }
  expect(jtis.size).toBe(tokens.length);
}

/** Per-attempt KMS outcomes, as the signer reports them to its metrics sink. */
function attemptRecorder() {
  const attempts: { method: string; outcome: string }[] = [];
  const sink: SignerMetricsSink = {
    observe(name, _seconds, labels) {
      if (name === SIGNER_METRIC_NAMES.kmsCallDuration) {
        attempts.push({ method: labels.method ?? '', outcome: labels.outcome ?? '' });
      }
    },
    increment: () => undefined,
  };
  return { sink, attempts };
}

const INTEGRITY_SWITCHES = [
  ['wrongSignatureCrc', 'signatureCrc32c'],
  ['wrongName', 'name'],
  ['unverifiedDigestCrc', 'verifiedDigestCrc32c'],
  ['badSignature', 'signature'],
] as const satisfies readonly (readonly [keyof KmsFaults, string])[];

describe.each([
  ['RSA_SIGN_PKCS1_2048_SHA256', 'RS256'],
  ['EC_SIGN_P256_SHA256', 'ES256'],
] as const satisfies readonly (readonly [KmsTestAlgorithm, 'RS256' | 'ES256'])[])(
  'KMS faults under concurrent load, %s',
  (algorithm, alg) => {
    it('healthy: one AsymmetricSign per token, the public key fetched once, every token verifies', async () => {
      const name = keyVersionName();
      kms.server.addKey(name, { algorithm });
      const signer = kmsSigner(name, alg);
      const { result, asymmetricSign, getPublicKey } = await rpcsDuring(() => signConcurrently(signer));
      expect(count(result, 'ok')).toBe(CALLERS);
      expect(asymmetricSign).toBe(CALLERS);
      // Concurrent first signs share one GetPublicKey.
      expect(getPublicKey).toBe(1);
      await verifyAll(signer, alg, tokensOf(result));
    });

    it('down until recovered: every caller fails typed after exactly maxRetries + 1 attempts, then recovers without a restart', async () => {
      const { name, signer } = await readySigner(algorithm, alg);
      kms.server.setFaults({ unavailableTimes: ALWAYS });

      const down = await rpcsDuring(() => signConcurrently(signer));
      for (const { error } of down.result) {
        expect(error).toBeInstanceOf(KmsUnavailableError);
        expect(error).toMatchObject({ attempts: ATTEMPTS, grpcCode: 14 });
      }
      expect(down.asymmetricSign).toBe(CALLERS * ATTEMPTS);
      expect(down.getPublicKey).toBe(0);

      // A signer starting during the outage fails on its public key, bounded the same way, and signs nothing.
      const starting = kmsSigner(name, alg);
      const startDown = await rpcsDuring(() => settle(starting));
      expect(startDown.result.error).toBeInstanceOf(KmsUnavailableError);
      expect(startDown.getPublicKey).toBe(ATTEMPTS);
      expect(startDown.asymmetricSign).toBe(0);

      kms.server.resetFaults();
      const up = await rpcsDuring(() => signConcurrently(signer));
      expect(count(up.result, 'ok')).toBe(CALLERS);
      expect(up.asymmetricSign).toBe(CALLERS);
      // The failed public key fetch was not cached: the starting signer works once KMS is back.
      const startUp = await rpcsDuring(() => settle(starting));
      expect(startUp.result.outcome).toBe('ok');
      expect(startUp.getPublicKey).toBe(1);
      await verifyAll(signer, alg, [...tokensOf(up.result), ...tokensOf([startUp.result])]);
    });

    it('an UNAVAILABLE burst is absorbed by retries; a caller fails only after maxRetries + 1 injected errors', async () => {
      const { signer } = await readySigner(algorithm, alg);

      // By count, one caller: maxRetries errors are absorbed, one more is not.
      kms.server.setFaults({ unavailableTimes: MAX_RETRIES });
      const absorbed = await rpcsDuring(() => settle(signer));
      expect(absorbed.result.outcome).toBe('ok');
      expect(absorbed.asymmetricSign).toBe(ATTEMPTS);
      kms.server.setFaults({ unavailableTimes: ATTEMPTS });
      const exhausted = await rpcsDuring(() => settle(signer));
      expect(exhausted.result.error).toBeInstanceOf(KmsUnavailableError);
      expect(exhausted.asymmetricSign).toBe(ATTEMPTS);
      const after = await rpcsDuring(() => settle(signer));
      expect(after.result.outcome).toBe('ok');
      expect(after.asymmetricSign).toBe(1);

      // Concurrently: a burst no larger than the callers is fully consumed (each caller asks at least
      // once), every other RPC is a success, and each failure used up a full retry budget of it.
      const burst = CALLERS;
      kms.server.setFaults({ unavailableTimes: burst });
      const load = await rpcsDuring(() => signConcurrently(signer));
      const ok = count(load.result, 'ok');
      const failed = count(load.result, 'ERR_S2S_KMS_UNAVAILABLE');
      expect(ok + failed).toBe(CALLERS);
      expect(load.asymmetricSign).toBe(ok + burst);
      expect(failed * ATTEMPTS).toBeLessThanOrEqual(burst);
      expect(load.asymmetricSign).toBeLessThanOrEqual(CALLERS * ATTEMPTS);
      for (const { error } of load.result) {
        if (error !== undefined) expect(error).toMatchObject({ attempts: ATTEMPTS });
      }
      await verifyAll(signer, alg, [...tokensOf([absorbed.result, after.result]), ...tokensOf(load.result)]);
    });

    it('RESOURCE_EXHAUSTED is never retried: exactly k of the callers fail typed, one RPC per caller', async () => {
      const { signer } = await readySigner(algorithm, alg);
      const k = 4;
      kms.server.setFaults({ resourceExhaustedTimes: k });
      const { result, asymmetricSign } = await rpcsDuring(() => signConcurrently(signer));
      expect(count(result, 'ERR_S2S_KMS_RESOURCE_EXHAUSTED')).toBe(k);
      expect(count(result, 'ok')).toBe(CALLERS - k);
      expect(asymmetricSign).toBe(CALLERS);
      for (const { error } of result) {
        if (error !== undefined) expect(error).toBeInstanceOf(KmsResourceExhaustedError);
      }
      await verifyAll(signer, alg, tokensOf(result));
    });

    it('latency past the deadline: every attempt is cut (DEADLINE_EXCEEDED) and a sign makes at most maxRetries + 1', async () => {
      const recorder = attemptRecorder();
      const { name, signer } = await readySigner(algorithm, alg, { metrics: recorder.sink });
      recorder.attempts.length = 0;
      kms.server.setFaults({ latencyMs: ENDLESS_MS });

      const slow = await rpcsDuring(() => signConcurrently(signer));
      for (const { error } of slow.result) {
        expect(error).toBeInstanceOf(KmsUnavailableError);
        expect(error).toMatchObject({ attempts: ATTEMPTS, grpcCode: 4 });
      }
      expect(slow.asymmetricSign).toBe(CALLERS * ATTEMPTS);
      // The signer's own view: each attempt ended at its deadline, none was answered.
      expect(recorder.attempts).toHaveLength(CALLERS * ATTEMPTS);
      expect(new Set(recorder.attempts.map((a) => `${a.method}:${a.outcome}`))).toEqual(
        new Set(['AsymmetricSign:deadline_exceeded']),
      );

      const starting = kmsSigner(name, alg);
      const startSlow = await rpcsDuring(() => settle(starting));
      expect(startSlow.result.error).toBeInstanceOf(KmsUnavailableError);
      expect(startSlow.result.error).toMatchObject({ attempts: ATTEMPTS, grpcCode: 4 });
      expect(startSlow.getPublicKey).toBe(ATTEMPTS);
      expect(startSlow.asymmetricSign).toBe(0);
    });

    it('latency under the deadline: slow answers are waited for, never retried', async () => {
      // A deadline no scheduler stall reaches, so only "slow but answered" is under test (3 attempts of
      // 9 s stay within the 30 s bound of a KMS call; the 10 s budget is as far off).
      const recorder = attemptRecorder();
      const { signer } = await readySigner(algorithm, alg, { deadlineMs: 9_000, metrics: recorder.sink });
      recorder.attempts.length = 0;
      kms.server.setFaults({ latencyMs: 50 });
      const { result, asymmetricSign } = await rpcsDuring(() => signConcurrently(signer));
      expect(count(result, 'ok')).toBe(CALLERS);
      expect(asymmetricSign).toBe(CALLERS);
      expect(recorder.attempts.every((a) => a.outcome === 'ok')).toBe(true);
      await verifyAll(signer, alg, tokensOf(result));
    });

    it.each(INTEGRITY_SWITCHES)(
      '%s: every caller fails with KmsIntegrityError(%s), one RPC each, no token; then normal service',
      async (fault, check) => {
        const { signer } = await readySigner(algorithm, alg);
        kms.server.setFaults({ [fault]: true });
        const bad = await rpcsDuring(() => signConcurrently(signer));
        expect(count(bad.result, `ERR_S2S_KMS_INTEGRITY:${check}`)).toBe(CALLERS);
        expect(tokensOf(bad.result)).toEqual([]);
        // An integrity failure is not transient: retrying would only ask for another bad answer.
        expect(bad.asymmetricSign).toBe(CALLERS);

        kms.server.resetFaults();
        const good = await rpcsDuring(() => signConcurrently(signer));
        expect(count(good.result, 'ok')).toBe(CALLERS);
        await verifyAll(signer, alg, tokensOf(good.result));
      },
    );

    it.each([
      ['wrongPemCrc', 'pemCrc32c'],
      ['wrongName', 'name'],
    ] as const)(
      'GetPublicKey %s: a starting signer fails with KmsIntegrityError(%s) and signs nothing; a running one is unaffected by a bad PEM',
      async (fault, check) => {
        const { name, signer } = await readySigner(algorithm, alg);
        kms.server.setFaults({ [fault]: true });
        const starting = kmsSigner(name, alg);
        const start = await rpcsDuring(() => settle(starting));
        expect(start.result.outcome).toBe(`ERR_S2S_KMS_INTEGRITY:${check}`);
        expect(start.getPublicKey).toBe(1);
        expect(start.asymmetricSign).toBe(0);
        if (fault === 'wrongPemCrc') {
          // The running signer already holds the checked public key: GetPublicKey is not called again.
          const running = await rpcsDuring(() => signConcurrently(signer));
          expect(count(running.result, 'ok')).toBe(CALLERS);
          expect(running.getPublicKey).toBe(0);
          await verifyAll(signer, alg, tokensOf(running.result));
        }
      },
    );

    it('mixed faults under closed-loop traffic: every call settles typed, within its retry budget, and every token verifies', async () => {
      const { signer } = await readySigner(algorithm, alg);
      // Each phase lasts a number of AsymmetricSign RPCs, not a number of milliseconds.
      const phases: readonly Partial<KmsFaults>[] = [
        {},
        { unavailableTimes: 30 },
        { resourceExhaustedTimes: 10 },
        { badSignature: true },
        { wrongSignatureCrc: true },
        { unavailableTimes: ALWAYS },
        {},
      ];
      const RPCS_PER_PHASE = 2 * CALLERS * ATTEMPTS;
      const calls: Settled[] = [];
      let stopped = false;
      const before = kms.server.calls.asymmetricSign;
      const callers = Array.from({ length: CALLERS }, async () => {
        while (!stopped) {
          calls.push(await settle(signer));
          await new Promise((resolve) => setImmediate(resolve));
        }
      });
      for (const faults of phases) {
        kms.server.resetFaults();
        kms.server.setFaults(faults);
        const mark = kms.server.calls.asymmetricSign;
        await until(
          () => kms.server.calls.asymmetricSign >= mark + RPCS_PER_PHASE,
          'a phase of RPCs',
          30_000,
        );
      }
      stopped = true;
      await Promise.all(callers);
      const rpcs = kms.server.calls.asymmetricSign - before;

      const allowed = new Set([
        'ok',
        'ERR_S2S_KMS_UNAVAILABLE',
        'ERR_S2S_KMS_RESOURCE_EXHAUSTED',
        'ERR_S2S_KMS_INTEGRITY:signature',
        'ERR_S2S_KMS_INTEGRITY:signatureCrc32c',
      ]);
      for (const call of calls) expect(allowed, call.outcome).toContain(call.outcome);
      for (const call of calls) {
        if (call.error instanceof KmsUnavailableError) expect(call.error.attempts).toBe(ATTEMPTS);
      }
      // Every fault was reached, and recovery followed the outage.
      for (const outcome of allowed) expect(count(calls, outcome), outcome).toBeGreaterThan(0);
      expect(calls.at(-1)?.outcome).toBe('ok');
      expect(rpcs).toBeLessThanOrEqual(calls.length * ATTEMPTS);
      await verifyAll(signer, alg, tokensOf(calls));
    }, 60_000);

    it('with a pre-signed pool: serves only tokens signed before the fault, each once, and fails typed when empty', async () => {
      const size = 16;
      const { signer } = await readySigner(algorithm, alg, { prefetch: { size, maxAgeSeconds: 30 } });
      // The first sign() misses the pool, signs directly and starts refilling it: size more RPCs.
      const before = kms.server.calls.asymmetricSign;
      const warm = await settle(signer);
      expect(warm.outcome).toBe('ok');
      await until(() => kms.server.calls.asymmetricSign - before >= 1 + size, 'the pool refill');
      // Latency is 0, so an RPC the server has counted was also answered, with a good signature.
      const signedBeforeFault = kms.server.calls.asymmetricSign - before - 1;

      kms.server.setFaults({ badSignature: true });
      const n = 3 * size;
      const { result } = await rpcsDuring(() => signConcurrently(signer, n));
      const served = tokensOf(result);
      // Nothing signed under the fault becomes a token: what was served was signed before it.
      expect(served.length).toBeLessThanOrEqual(signedBeforeFault);
      for (const { error } of result) if (error !== undefined) expect(error).toBeInstanceOf(KmsError);
      expect(count(result, 'ok') + count(result, 'ERR_S2S_KMS_INTEGRITY:signature')).toBe(n);
      expect(count(result, 'ERR_S2S_KMS_INTEGRITY:signature')).toBeGreaterThanOrEqual(n - signedBeforeFault);
      await verifyAll(signer, alg, [...tokensOf([warm]), ...served]);
      expect(served.every((token) => decodeToken(token).claims.scope === 'spaces:create')).toBe(true);

      kms.server.resetFaults();
      expect((await settle(signer)).outcome).toBe('ok');
    });
  },
);

describe('typed KMS errors carry no token material', () => {
  it('an integrity failure under load names the check, never the signing input', async () => {
    const { signer } = await readySigner('RSA_SIGN_PKCS1_2048_SHA256', 'RS256');
    kms.server.setFaults({ badSignature: true });
    const results = await signConcurrently(signer, 50);
    for (const { error } of results) {
      expect(error).toBeInstanceOf(KmsError);
      expect(`${(error as Error).message} ${(error as Error).stack}`).not.toMatch(/eyJ/);
    }
  });
});
