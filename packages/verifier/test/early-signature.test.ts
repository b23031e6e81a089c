import { setTimeout as sleep } from 'node:timers/promises';
import { MIN_JWKS_COOLDOWN_MS } from '@hyper/s2s-contracts';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryReplayStore } from '../src/replay/memory.js';
import type { ReplayStore } from '../src/replay/store.js';
import { createVerifier, type Verifier } from '../src/verifier.js';
import { startJwksServer } from './harness/jwks-server.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { liveVerifier } from './harness/verifiers.js';

// With a static keyset's imported key, the signature check starts before the payload is parsed (the
// RSA work then runs on libuv's pool meanwhile). These rules must hold whatever that order.

let key: TestKey;
let other: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
  other = { ...(await vectorKey('lite-2026-04')), kid: 'lite-2026-03' };
});
const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };
const b64 = (text: string) => Buffer.from(text).toString('base64url');

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** One more signature round trip through the pool, then a macrotask: rejections left behind surface by then. */
async function settle(verifier: Verifier): Promise<void> {
  expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
  await new Promise((resolve) => setImmediate(resolve));
}

describe('signature check started ahead of the payload parse', () => {
  const verifiers: Record<string, () => Promise<Verifier>> = {
    'static keyset, key imported on first use': async () => liveVerifier(),
    'static keyset after warmup': async () => {
      const verifier = liveVerifier();
      await verifier.warmup({ required: true });
      return verifier;
    },
  };

  it.each(Object.keys(verifiers))(
    'a malformed payload or signature behind a known header and kid is malformed_token, and the check started for it leaves no unhandled rejection (%s)',
    async (name) => {
      const verifier = await verifiers[name]!();
      const good = await sign(key, nowSeconds());
      // The header and kid become known to this verifier (and its header cache).
      expect(await verifier.verify(good, endpoint)).toMatchObject({ status: 200 });
      const [header, payload, signature] = good.split('.') as [string, string, string];
      const claims = Buffer.from(payload, 'base64url').toString();
      const malformed = [
        `${header}.${payload}=.${signature}`,
        `${header}.${b64(`${claims.slice(0, -1)},"jti":"again"}`)}.${signature}`,
        `${header}.${b64('[1]')}.${signature}`,
        `${header}.${payload}.${signature}=`,
        `${header}.${payload}.${signature}.${signature}`,
      ];
      for (const token of malformed) {
        expect(await verifier.verify(token, endpoint)).toMatchObject({
          status: 401,
          reason: 'malformed_token',
        });
      }
      await settle(verifier);
      expect(unhandled).toEqual([]);
    },
  );

  it('answers the signature before the claims, and remembers nothing for a forged token', async () => {
    const store = memoryReplayStore();
    const remember = vi.fn(store.remember);
    const spied: ReplayStore = { remember, purge: () => store.purge() };
    const verifier = liveVerifier({ replayStore: spied });
    const now = nowSeconds();
    expect(await verifier.verify(await sign(key, now), endpoint)).toMatchObject({ status: 200 });
    expect(remember).toHaveBeenCalledTimes(1);
    // Signed with another key under the same kid: the claims are judged while jose checks the signature,
    // but a forged token's claims must never be what the caller hears, nor reach the replay store.
    const forgedExpired = await sign(other, now - 3600);
    const forgedValid = await sign(other, now);
    const forgedWrongIssuer = await sign(other, now, { iss: 'someone-else' });
    for (const token of [forgedExpired, forgedValid, forgedWrongIssuer]) {
      expect(await verifier.verify(token, endpoint)).toMatchObject({
        status: 401,
        reason: 'invalid_signature',
      });
    }
    expect(remember).toHaveBeenCalledTimes(1);
    await settle(verifier);
    expect(unhandled).toEqual([]);
  });

  it('on a JWKS URL, a malformed token fetches nothing, whether the cache holds its kid or not', async () => {
    const server = await startJwksServer({ keys: [key.publicJwk] });
    try {
      const verifier = createVerifier({
        keys: { jwksUrl: server.url, cooldownMs: MIN_JWKS_COOLDOWN_MS },
        audience: file.audience,
        issuers: [file.issuer],
        replayStore: memoryReplayStore(),
      });
      await verifier.warmup({ required: true });
      // Past the unknown-kid cooldown, so any resolve of an unknown kid would fetch (the control below does).
      await sleep(MIN_JWKS_COOLDOWN_MS + 50);
      const fetched = server.requests;
      const good = await sign(key, nowSeconds());
      const [header, payload, signature] = good.split('.') as [string, string, string];
      const unknownKid = (await sign({ ...key, kid: 'not-published' }, nowSeconds())).split('.')[0];
      for (const token of [
        `${unknownKid}.${payload}=.${signature}`,
        `${unknownKid}.${payload}.${signature}=`,
        `${header}.${payload}=.${signature}`,
        `${header}.${payload}.${signature}=`,
      ]) {
        expect(await verifier.verify(token, endpoint)).toMatchObject({
          status: 401,
          reason: 'malformed_token',
        });
      }
      expect(await verifier.verify(good, endpoint)).toMatchObject({ status: 200 });
      expect(server.requests).toBe(fetched);
      // Control: the same unknown kid on a well-formed token does fetch.
      const wellFormed = `${unknownKid}.${payload}.${signature}`;
      expect(await verifier.verify(wellFormed, endpoint)).toMatchObject({ reason: 'unknown_kid' });
      expect(server.requests).toBe(fetched + 1);
      await settle(verifier);
      expect(unhandled).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
