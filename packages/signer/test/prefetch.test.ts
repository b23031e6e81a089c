import { LITE_AUTH_LOG_CATEGORY } from '@hyper/s2s-contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { createSigner, type PrefetchOptions, type Signer, SignerClosedError } from '../src/index.js';
import { captureLogger } from './helpers/capture-logger.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { decodeToken } from './helpers/tokens.js';
import { AUDIENCE, ISSUER, SUBJECT } from './helpers/vectors.js';
import { until } from './helpers/wait.js';

const kms = useKmsTestServer();
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((s) => s.close()));
});

const TTL = 60;

function poolSigner(prefetch: PrefetchOptions, now?: () => number, deadlineMs?: number) {
  const name = keyVersionName();
  kms.server.addKey(name, { algorithm: 'EC_SIGN_P256_SHA256' });
  const log = captureLogger();
  const signer = createSigner({
    key: {
      kms: {
        keyVersionName: name,
        client: kms.client(),
        maxRetries: 0,
        ...(deadlineMs ? { deadlineMs } : {}),
      },
      kid: 'lite-2026-03',
      alg: 'ES256',
    },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ttlSeconds: TTL,
    prefetch,
    logger: log.logger,
    ...(now ? { now } : {}),
  });
  signers.push(signer);
  return { signer, log };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const signCalls = () => kms.server.calls.asymmetricSign;

/** Waits until no AsymmetricSign has arrived for `quietMs` (background refills finished). */
async function quiet(quietMs = 150): Promise<void> {
  let last = signCalls();
  for (;;) {
    await sleep(quietMs);
    const now = signCalls();
    if (now === last) return;
    last = now;
  }
}

const claimsOf = (token: string) => decodeToken(token).claims;

describe('KMS pre-signed pool', () => {
  it('never serves a token twice and keeps KMS calls ≈ tokens used (at most size + 1 extra)', async () => {
    const size = 4;
    const { signer } = poolSigner({ size, maxAgeSeconds: 30 });
    await signer.jwks();
    kms.server.setFaults({ latencyMs: 5 });
    const before = signCalls();
    const tokens: string[] = [];
    for (let i = 0; i < 60; i++) tokens.push(await signer.sign({ scope: 'spaces:create' }));
    // And a concurrent burst, which must not hand one token to two callers.
    tokens.push(
      ...(await Promise.all(Array.from({ length: 40 }, () => signer.sign({ scope: 'spaces:create' })))),
    );
    await quiet();
    expect(new Set(tokens).size).toBe(100);
    expect(new Set(tokens.map((t) => claimsOf(t).jti)).size).toBe(100);
    const calls = signCalls() - before;
    expect(calls).toBeGreaterThanOrEqual(100);
    expect(calls).toBeLessThanOrEqual(100 + size + 1);
  });

  it('serves from the pool without calling KMS once refilled in the background', async () => {
    const size = 3;
    const { signer } = poolSigner({ size, maxAgeSeconds: 30 });
    await signer.jwks();
    kms.server.setFaults({ latencyMs: 50 });
    const before = signCalls();
    await signer.sign({ scope: 'spaces:create' }); // cold: signed directly, refill of `size` starts
    await until(() => signCalls() - before === 1 + size, 'the background refill');
    await quiet();
    // KMS now refuses every call (maxRetries 0): only tokens already in the pool can be served.
    kms.server.setFaults({ unavailableTimes: 1_000_000 });
    const pooled = [];
    for (let i = 0; i < size; i++) pooled.push(await signer.sign({ scope: 'spaces:create' }));
    expect(new Set(pooled).size).toBe(size);
    await expect(signer.sign({ scope: 'spaces:create' })).rejects.toThrow();
  });

  it('hands out a pooled token only while it has at least ttl - maxAgeSeconds of life left', async () => {
    let nowMs = 1_800_000_000_000;
    const t0 = nowMs / 1000;
    const { signer } = poolSigner({ size: 3, maxAgeSeconds: 10 }, () => nowMs);
    await signer.jwks();
    expect(claimsOf(await signer.sign({ scope: 'spaces:create' })).iat).toBe(t0);
    await quiet();

    nowMs += 10_000; // exactly maxAge old: still served
    expect(claimsOf(await signer.sign({ scope: 'spaces:create' })).iat).toBe(t0);
    await quiet();

    nowMs += 1_000; // the t0 tokens are now 11 s old: dropped, never served
    const served: number[] = [];
    for (let i = 0; i < 6; i++) {
      served.push(claimsOf(await signer.sign({ scope: 'spaces:create' })).iat as number);
      await quiet(50);
    }
    expect(served.every((iat) => iat >= t0 + 10)).toBe(true);
    for (const iat of served) expect(t0 + 11 - iat).toBeLessThanOrEqual(10);
  });

  it('keeps one pool per (audience, scope): every token carries what its caller asked for', async () => {
    const { signer } = poolSigner({ size: 2, maxAgeSeconds: 30 });
    const requests = [
      { scope: 'spaces:create' },
      { scope: 'join_tokens:issue' },
      { scope: ['spaces:create', 'join_tokens:issue'] },
      { scope: 'spaces:create', audience: 'hyper-analytics' },
    ] as const;
    for (let round = 0; round < 6; round++) {
      for (const request of requests) {
        const claims = claimsOf(await signer.sign(request));
        const scope = typeof request.scope === 'string' ? request.scope : request.scope.join(' ');
        expect(claims.scope).toBe(scope);
        expect(claims.aud).toBe('audience' in request ? request.audience : AUDIENCE);
      }
    }
  });

  it('signs a per-call audience directly: 50 audiences cost 50 KMS signs, never a background lane each', async () => {
    const { signer } = poolSigner({ size: 20, maxAgeSeconds: 30 });
    await signer.jwks();
    const before = signCalls();
    for (let i = 0; i < 50; i++) {
      const claims = claimsOf(await signer.sign({ scope: 'spaces:create', audience: `tenant-core-${i}` }));
      expect(claims.aud).toBe(`tenant-core-${i}`);
    }
    await quiet();
    expect(signCalls() - before).toBe(50);
  });

  it('keeps serving already-signed tokens through a KMS outage, then fails typed; refill failures are logged', async () => {
    const size = 3;
    const { signer, log } = poolSigner({ size, maxAgeSeconds: 30 });
    await signer.sign({ scope: 'spaces:create' });
    await quiet();
    kms.server.setFaults({ unavailableTimes: 1_000 });
    const tokens = [];
    for (let i = 0; i < size; i++) tokens.push(await signer.sign({ scope: 'spaces:create' }));
    expect(new Set(tokens).size).toBe(size);
    await expect(signer.sign({ scope: 'spaces:create' })).rejects.toMatchObject({
      code: 'ERR_S2S_KMS_UNAVAILABLE',
    });
    await quiet();
    const failures = log.entries.filter((e) => e.obj.event === 's2s_prefetch_failed');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]!.obj).toMatchObject({
      category: LITE_AUTH_LOG_CATEGORY,
      code: 'ERR_S2S_KMS_UNAVAILABLE',
      scope: 'spaces:create',
    });
    kms.server.resetFaults();
  });

  it('KMS slower than maxAgeSeconds: every waiting caller settles and KMS calls stay ≤ callers + size', async () => {
    const size = 3;
    const callers = 5;
    const latencyMs = 2100;
    // deadlineMs above the latency: the KMS deadline policy lets these slow calls succeed.
    const { signer } = poolSigner({ size, maxAgeSeconds: 1 }, undefined, 5000);
    await signer.jwks();
    kms.server.setFaults({ latencyMs });
    const before = signCalls();
    let settled = 0;
    const calls = Array.from({ length: callers }, () =>
      signer.sign({ scope: 'spaces:create' }).finally(() => settled++),
    );
    // The KMS deadline policy bounds every caller: 5000 ms per attempt, no retries.
    const bound = new Promise((resolve) => setTimeout(resolve, 5000 + latencyMs).unref());
    await Promise.race([Promise.allSettled(calls), bound]);
    expect(settled).toBe(callers);
    const tokens = await Promise.all(calls);
    expect(new Set(tokens).size).toBe(callers);
    // A refill that can never deliver a fresh-enough token must not keep re-signing.
    await sleep(2 * latencyMs);
    expect(signCalls() - before).toBeLessThanOrEqual(callers + size);
    kms.server.resetFaults();
  }, 20_000);

  it('close() discards pooled tokens and refuses further signing', async () => {
    const { signer } = poolSigner({ size: 3, maxAgeSeconds: 30 });
    await signer.sign({ scope: 'spaces:create' });
    await signer.close();
    await expect(signer.sign({ scope: 'spaces:create' })).rejects.toBeInstanceOf(SignerClosedError);
  });
});
