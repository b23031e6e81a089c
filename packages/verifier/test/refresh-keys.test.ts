import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteKeysOptions } from '../src/options.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { hang, type JwksServer, startJwksServer } from './harness/jwks-server.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';

const call = { scope: 'spaces:create', path: '/integrations/spaces' };
let k1: TestKey;
let k2: TestKey;
const servers: JwksServer[] = [];

beforeAll(async () => {
  k1 = await vectorKey('lite-2026-03');
  k2 = await vectorKey('lite-2026-04');
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const keySet = (...keys: TestKey[]) => ({ keys: keys.map((key) => key.publicJwk) });

async function setup(initial: unknown, keys: Omit<RemoteKeysOptions, 'jwksUrl'> = {}) {
  const jwks = await startJwksServer(initial);
  servers.push(jwks);
  const verifier = createVerifier({
    // A long cache: only refreshKeys() can make the verifier see a change.
    keys: { jwksUrl: jwks.url, cacheMaxAgeMs: 3_600_000, cooldownMs: 3_600_000, ...keys },
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
  });
  return { jwks, verifier };
}

describe('verifier.refreshKeys()', () => {
  it('makes a key removed from the JWKS unusable at once, without waiting for the cache', async () => {
    const { jwks, verifier } = await setup(keySet(k1, k2));
    await verifier.warmup();
    expect((await verifier.verify(await sign(k1, nowSeconds()), call)).reason).toBe('ok');
    jwks.serve(keySet(k2)); // the operator revokes lite-2026-03
    // The cached set still trusts it...
    expect((await verifier.verify(await sign(k1, nowSeconds()), call)).reason).toBe('ok');
    expect(await verifier.refreshKeys()).toEqual({ refreshed: true, keys: true, kids: ['lite-2026-04'] });
    // ...until the refresh.
    expect((await verifier.verify(await sign(k1, nowSeconds()), call)).reason).toBe('unknown_kid');
    expect((await verifier.verify(await sign(k2, nowSeconds()), call)).reason).toBe('ok');
  });

  it('coalesces concurrent refreshes into one fetch', async () => {
    const { jwks, verifier } = await setup(keySet(k1));
    await verifier.warmup();
    const before = jwks.requests;
    const reports = await Promise.all(Array.from({ length: 20 }, () => verifier.refreshKeys()));
    expect(reports.every((r) => r.refreshed)).toBe(true);
    expect(jwks.requests - before).toBe(1);
  });

  it('is bounded by the fetch timeout and keeps the cached keys when the fetch fails', async () => {
    const { jwks, verifier } = await setup(keySet(k1), { timeoutMs: 200, failureBackoffMs: 0 });
    await verifier.warmup();
    jwks.respond(hang);
    expect(await verifier.refreshKeys()).toEqual({ refreshed: false, keys: true, kids: ['lite-2026-03'] });
    jwks.respond((_req: IncomingMessage, res: ServerResponse) => res.writeHead(500).end());
    expect((await verifier.refreshKeys()).refreshed).toBe(false);
    expect((await verifier.verify(await sign(k1, nowSeconds()), call)).reason).toBe('ok');
  });

  it('has nothing to fetch for a static keyset', async () => {
    const verifier = createVerifier({
      keys: { jwks: keySet(k1) },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
    });
    expect(await verifier.refreshKeys()).toEqual({ refreshed: true, keys: true, kids: ['lite-2026-03'] });
  });
});
