import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryReplayStore } from '../src/replay/memory.js';
import type { ReplayStore } from '../src/replay/store.js';
import { createVerifier } from '../src/verifier.js';
import { type JwksServer, startJwksServer, text } from './harness/jwks-server.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';

// Deadlines, cooldowns and back-offs run on the monotonic clock; `Date` is stepped here the way NTP, a
// VM resume or an operator steps it. Only Date is faked (no fake timers): timers run for real.
const HOUR_MS = 3_600_000;
const call = { scope: 'spaces:create', path: '/integrations/spaces' };
const stepWallClock = (ms: number) => vi.setSystemTime(Date.now() + ms);
// Token time follows the stepped clock (the default captured the real Date.now at startup).
const wallClock = () => Date.now();

let k1: TestKey;
let k2: TestKey;
let server: JwksServer | undefined;
beforeAll(async () => {
  k1 = await vectorKey('lite-2026-03');
  k2 = await vectorKey('lite-2026-04');
});
afterEach(async () => {
  vi.useRealTimers(); // also restores the real Date
  await server?.close();
  server = undefined;
});

const keySet = (...keys: TestKey[]) => ({ keys: keys.map((key) => key.publicJwk) });

/** Settles like `promise`, or resolves 'pending' after `ms` (the test's own bound). */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, sleep(ms, 'pending' as const, { ref: false })]);

describe('a backward wall-clock step', () => {
  it('does not stretch the replay timeout: a hung store still gets its 503', async () => {
    const replayTimeoutMs = 200;
    // Never answers; the clock steps back an hour while the verifier waits on it.
    const hung: ReplayStore = {
      remember: () => {
        setTimeout(() => stepWallClock(-HOUR_MS), 20);
        return new Promise<boolean>(() => undefined);
      },
      purge: async () => 0,
    };
    const verifier = createVerifier({
      keys: { jwks: keySet(k1) },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: hung,
      replayTimeoutMs,
      now: wallClock,
    });
    const token = await sign(k1, nowSeconds());
    const result = await within(verifier.verify(token, call), 10 * replayTimeoutMs);
    expect(result).toMatchObject({ status: 503, reason: 'replay_store_unavailable' });
  });

  it('does not stretch the JWKS cache age or the unknown-kid cooldown', async () => {
    server = await startJwksServer(keySet(k1));
    const verifier = createVerifier({
      keys: { jwksUrl: server.url, cacheMaxAgeMs: 1000, cooldownMs: 1000 },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      now: wallClock,
    });
    expect((await verifier.warmup()).kids).toEqual(['lite-2026-03']);
    stepWallClock(-HOUR_MS);
    server.serve(keySet(k2));
    await sleep(1100);
    // Both the cache age and the cooldown have passed on the monotonic clock: the rotation is seen.
    expect((await verifier.verify(await sign(k2, nowSeconds()), call)).reason).toBe('ok');
    expect(server.requests).toBe(2);
  });

  it('does not stretch the JWKS failure back-off', async () => {
    server = await startJwksServer(keySet(k1));
    server.respond(text('<html>maintenance</html>', 503, 'text/html'));
    const verifier = createVerifier({
      keys: { jwksUrl: server.url, failureBackoffMs: 200 },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      now: wallClock,
    });
    expect((await verifier.warmup()).keys).toBe(false);
    stepWallClock(-HOUR_MS);
    server.serve(keySet(k1));
    await sleep(300);
    expect((await verifier.verify(await sign(k1, nowSeconds()), call)).reason).toBe('ok');
  });
});
