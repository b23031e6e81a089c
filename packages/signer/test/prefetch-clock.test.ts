import { afterAll, describe, expect, it } from 'vitest';
import { createSigner, type Signer } from '../src/index.js';
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

function poolSigner(now: () => number) {
  const name = keyVersionName();
  kms.server.addKey(name, { algorithm: 'EC_SIGN_P256_SHA256' });
  const log = captureLogger();
  const signer = createSigner({
    key: {
      kms: { keyVersionName: name, client: kms.client(), maxRetries: 0 },
      kid: 'lite-2026-03',
      alg: 'ES256',
    },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ttlSeconds: 60,
    prefetch: { size: 2, maxAgeSeconds: 30 },
    logger: log.logger,
    now,
  });
  signers.push(signer);
  return { signer, log };
}

const signCalls = () => kms.server.calls.asymmetricSign;

describe('pre-signed pool and the wall clock', () => {
  it('a clock that fails while a refill is delivered neither crashes the process nor poisons the pool', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let broken = false;
      const { signer } = poolSigner(() => (broken ? Number.NaN : 1_800_000_000_000));
      await signer.jwks();
      kms.server.setFaults({ latencyMs: 100 });
      const before = signCalls();
      // Cold: signed directly while the refill starts; the clock breaks before the refill is back.
      const first = signer.sign({ scope: 'spaces:create' });
      await until(() => signCalls() - before >= 3, 'the direct sign and the refill to reach KMS');
      broken = true;
      await first;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(unhandled).toEqual([]);
      // sign() reports the broken clock as documented: a typed SignRequestError naming `now`.
      await expect(signer.sign({ scope: 'spaces:create' })).rejects.toMatchObject({
        code: 'ERR_S2S_INVALID_SIGN_REQUEST',
        field: 'now',
      });
    } finally {
      process.off('unhandledRejection', onUnhandled);
      kms.server.resetFaults();
    }
  });

  it('after the wall clock steps back, no pooled token is served with iat (and nbf) in the future', async () => {
    let nowMs = 1_800_000_000_000;
    const { signer } = poolSigner(() => nowMs);
    await signer.jwks();
    const before = signCalls();
    await signer.sign({ scope: 'spaces:create' }); // signed directly; a refill of 2 starts
    await until(() => signCalls() - before === 3, 'the refill of the pool');
    await new Promise((resolve) => setTimeout(resolve, 100)); // its tokens land in the pool
    nowMs -= 120_000; // NTP steps the clock back two minutes (past the contract's 60 s of skew)
    for (let i = 0; i < 3; i++) {
      const { iat, nbf, exp } = decodeToken(await signer.sign({ scope: 'spaces:create' })).claims as {
        iat: number;
        nbf: number;
        exp: number;
      };
      const nowSeconds = Math.floor(nowMs / 1000);
      expect(iat).toBeLessThanOrEqual(nowSeconds);
      expect(nbf).toBeLessThanOrEqual(nowSeconds);
      expect(exp - nowSeconds).toBeLessThanOrEqual(60);
    }
  });
});
