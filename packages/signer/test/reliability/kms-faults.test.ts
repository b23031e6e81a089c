import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSigner,
  KmsError,
  KmsIntegrityError,
  type PrefetchOptions,
  type Signer,
  SignerError,
} from '../../src/index.js';
import type { KmsFaults, KmsTestAlgorithm } from '../../src/testing/index.js';
import { keyVersionName, useKmsTestServer } from '../helpers/kms-server.js';
import { decodeToken } from '../helpers/tokens.js';
import { AUDIENCE, ISSUER, SUBJECT } from '../helpers/vectors.js';

/** Per-attempt deadline, retries and backoff of the signers under test. */
const DEADLINE_MS = 200;
const MAX_RETRIES = 2;
const BACKOFF_MS = 10;
const CALLERS = 12;

/** What a sign() call ended in: a token, or a typed error's code (and integrity check). */
type Outcome = 'ok' | `${string}`;

interface Phase {
  readonly name: string;
  readonly faults: Partial<KmsFaults>;
  readonly ms: number;
  /** Outcomes a call that starts and ends inside the phase may have. */
  readonly allowed: readonly Outcome[];
  /** Outcomes that must occur (the fault was real). */
  readonly required: readonly Outcome[];
}

const PHASES: readonly Phase[] = [
  { name: 'healthy', faults: {}, ms: 300, allowed: ['ok'], required: ['ok'] },
  {
    name: 'latency under the deadline',
    faults: { latencyMs: 60 },
    ms: 350,
    allowed: ['ok'],
    required: ['ok'],
  },
  {
    name: 'latency spike past the deadline',
    faults: { latencyMs: 2000 },
    // Long enough for whole failing calls (3 cut attempts, ~630 ms) to start and end inside it.
    ms: 1500,
    allowed: ['ERR_S2S_KMS_UNAVAILABLE'],
    required: ['ERR_S2S_KMS_UNAVAILABLE'],
  },
  {
    name: 'UNAVAILABLE burst',
    faults: { unavailableTimes: 60 },
    ms: 450,
    allowed: ['ok', 'ERR_S2S_KMS_UNAVAILABLE'],
    required: ['ERR_S2S_KMS_UNAVAILABLE', 'ok'],
  },
  {
    name: 'RESOURCE_EXHAUSTED burst',
    faults: { resourceExhaustedTimes: 40 },
    ms: 350,
    allowed: ['ok', 'ERR_S2S_KMS_RESOURCE_EXHAUSTED'],
    required: ['ERR_S2S_KMS_RESOURCE_EXHAUSTED', 'ok'],
  },
  {
    name: 'bad signature CRC',
    faults: { wrongSignatureCrc: true },
    ms: 300,
    allowed: ['ERR_S2S_KMS_INTEGRITY:signatureCrc32c'],
    required: ['ERR_S2S_KMS_INTEGRITY:signatureCrc32c'],
  },
  {
    name: 'wrong key name',
    faults: { wrongName: true },
    ms: 300,
    allowed: ['ERR_S2S_KMS_INTEGRITY:name'],
    required: ['ERR_S2S_KMS_INTEGRITY:name'],
  },
  {
    name: 'digest CRC not verified',
    faults: { unverifiedDigestCrc: true },
    ms: 300,
    allowed: ['ERR_S2S_KMS_INTEGRITY:verifiedDigestCrc32c'],
    required: ['ERR_S2S_KMS_INTEGRITY:verifiedDigestCrc32c'],
  },
  {
    name: 'bad signature (valid CRC, wrong digest)',
    faults: { badSignature: true },
    ms: 300,
    allowed: ['ERR_S2S_KMS_INTEGRITY:signature'],
    required: ['ERR_S2S_KMS_INTEGRITY:signature'],
  },
  // GetPublicKey only: signers that already hold the public key are unaffected.
  { name: 'bad PEM CRC', faults: { wrongPemCrc: true }, ms: 300, allowed: ['ok'], required: ['ok'] },
  { name: 'healthy again', faults: {}, ms: 300, allowed: ['ok'], required: ['ok'] },
];

// The test resets faults itself between phases; the server is shared by the whole file.
const kms = useKmsTestServer({ resetFaults: false });
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((signer) => signer.close()));
});

function kmsSigner(name: string, alg: 'RS256' | 'ES256', prefetch?: PrefetchOptions) {
  const signer = createSigner({
    key: {
      kms: {
        keyVersionName: name,
        client: kms.client(),
        deadlineMs: DEADLINE_MS,
        maxRetries: MAX_RETRIES,
        retryBackoffMs: BACKOFF_MS,
      },
      kid: 'lite-2026-03',
      alg,
    },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ...(prefetch ? { prefetch } : {}),
    logger: { info: () => undefined, warn: () => undefined },
  });
  signers.push(signer);
  return signer;
}

function outcomeOf(error: unknown): Outcome {
  if (!(error instanceof SignerError)) return `untyped:${String(error)}`;
  if (error instanceof KmsIntegrityError) return `${error.code}:${error.check}`;
  return error.code;
}

interface Call {
  readonly outcome: Outcome;
  readonly token: string | undefined;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Closed-loop sign() traffic through a scripted sequence of fault phases. */
async function chaos(signer: Signer, freshSigner: () => Signer) {
  const calls: Call[] = [];
  const freshCalls: { phase: string; outcome: Outcome; ms: number }[] = [];
  const boundaries: number[] = [];
  let stopped = false;
  const callers = Array.from({ length: CALLERS }, async () => {
    while (!stopped) {
      const startedAt = performance.now();
      let token: string | undefined;
      let outcome: Outcome = 'ok';
      try {
        token = await signer.sign({ scope: 'spaces:create' });
      } catch (error) {
        outcome = outcomeOf(error);
      }
      calls.push({ outcome, token, startedAt, endedAt: performance.now() });
      await sleep(2);
    }
  });
  for (const phase of PHASES) {
    kms.server.resetFaults();
    kms.server.setFaults(phase.faults);
    boundaries.push(performance.now());
    // A signer starting now must first fetch its public key, through the same fault.
    const started = performance.now();
    const outcome = await freshSigner()
      .sign({ scope: 'spaces:create' })
      .then(
        () => 'ok' as Outcome,
        (error: unknown) => outcomeOf(error),
      );
    freshCalls.push({ phase: phase.name, outcome, ms: performance.now() - started });
    await sleep(Math.max(0, phase.ms - (performance.now() - started)));
  }
  boundaries.push(performance.now());
  stopped = true;
  await Promise.all(callers);
  kms.server.resetFaults();
  return { calls, freshCalls, boundaries };
}

async function verifyAll(signer: Signer, alg: 'RS256' | 'ES256', tokens: string[]) {
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

describe.each([
  ['RSA_SIGN_PKCS1_2048_SHA256', 'RS256'],
  ['EC_SIGN_P256_SHA256', 'ES256'],
] as const satisfies readonly (readonly [KmsTestAlgorithm, 'RS256' | 'ES256'])[])(
  'KMS faults under load, %s',
  (algorithm, alg) => {
    it('fails fast with typed errors inside the deadline and emits only tokens whose signature it checked', async () => {
      const name = keyVersionName();
      kms.server.addKey(name, { algorithm });
      const signer = kmsSigner(name, alg);
      await signer.jwks(); // the public key is fetched before the faults begin
      const callsBefore = kms.server.calls;
      const { calls, freshCalls, boundaries } = await chaos(signer, () => kmsSigner(name, alg));

      const report: Record<string, Record<string, number>> = {};
      PHASES.forEach((phase, i) => {
        const inside = calls.filter(
          (call) => call.startedAt >= boundaries[i]! && call.endedAt <= boundaries[i + 1]!,
        );
        const seen: Record<string, number> = {};
        for (const call of inside) seen[call.outcome] = (seen[call.outcome] ?? 0) + 1;
        report[phase.name] = seen;
      });
      const slowest = Math.max(...calls.map((call) => call.endedAt - call.startedAt));
      const emitted = calls.flatMap((call) => (call.token === undefined ? [] : [call.token]));
      console.info(`[kms-faults] ${alg}:`, {
        calls: calls.length,
        emitted: emitted.length,
        failed: calls.length - emitted.length,
        rpcs: {
          asymmetricSign: kms.server.calls.asymmetricSign - callsBefore.asymmetricSign,
          getPublicKey: kms.server.calls.getPublicKey - callsBefore.getPublicKey,
        },
        slowestMs: Math.round(slowest),
        phases: report,
        startingSigners: Object.fromEntries(freshCalls.map((call) => [call.phase, call.outcome])),
      });
      for (const phase of PHASES) {
        const seen = report[phase.name]!;
        for (const outcome of Object.keys(seen))
          expect(phase.allowed, `${phase.name}: ${outcome}`).toContain(outcome);
        for (const outcome of phase.required)
          expect(seen[outcome] ?? 0, `${phase.name}: ${outcome}`).toBeGreaterThan(0);
      }

      // Every call ended typed (the per-attempt deadline itself is proven by kms.test.ts's attempt and
      // DEADLINE_EXCEEDED counts, not by a wall-clock bound that flakes on a loaded machine); every token
      // it emitted verifies, with a fresh jti. `slowest` is logged above for the reader.
      for (const call of calls) expect(call.outcome.startsWith('untyped')).toBe(false);
      await verifyAll(signer, alg, emitted);
      // A signer starting during a fault fails typed, and GetPublicKey faults reach it.
      for (const call of freshCalls) expect(call.outcome.startsWith('untyped')).toBe(false);
      const fresh = Object.fromEntries(freshCalls.map((call) => [call.phase, call.outcome]));
      expect(fresh['bad PEM CRC']).toBe('ERR_S2S_KMS_INTEGRITY:pemCrc32c');
      expect(fresh['wrong key name']).toBe('ERR_S2S_KMS_INTEGRITY:name');
      expect(fresh['latency spike past the deadline']).toBe('ERR_S2S_KMS_UNAVAILABLE');
      expect(fresh['healthy again']).toBe('ok');
    }, 60_000);

    it('with a pre-signed pool: serves each token once, only tokens that verify, and fails typed when empty', async () => {
      const name = keyVersionName();
      kms.server.addKey(name, { algorithm });
      const signer = kmsSigner(name, alg, { size: 16, maxAgeSeconds: 30 });
      await signer.jwks();
      const { calls } = await chaos(signer, () => kmsSigner(name, alg));
      const emitted = calls.flatMap((call) => (call.token === undefined ? [] : [call.token]));
      const failures = calls.filter((call) => call.token === undefined);
      console.info(`[kms-faults] ${alg} with a pool:`, {
        calls: calls.length,
        emitted: emitted.length,
        failed: failures.length,
      });
      for (const call of failures) expect(call.outcome.startsWith('untyped')).toBe(false);
      expect(failures.length).toBeGreaterThan(0);
      await verifyAll(signer, alg, emitted);
      expect(emitted.every((token) => decodeToken(token).claims.scope === 'spaces:create')).toBe(true);
    }, 60_000);
  },
);

describe('typed KMS errors carry no token material', () => {
  it('an integrity failure under load names the check, never the signing input', async () => {
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const signer = kmsSigner(name, 'RS256');
    await signer.jwks();
    kms.server.setFaults({ badSignature: true });
    const errors = await Promise.all(
      Array.from({ length: 50 }, () =>
        signer.sign({ scope: 'spaces:create' }).catch((error: unknown) => error),
      ),
    );
    kms.server.resetFaults();
    for (const error of errors) {
      expect(error).toBeInstanceOf(KmsError);
      expect(`${(error as Error).message} ${(error as Error).stack}`).not.toMatch(/eyJ/);
    }
  }, 20_000);
});
