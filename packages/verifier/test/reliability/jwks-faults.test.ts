import { createPrivateKey, randomBytes } from 'node:crypto';
import { setImmediate as turn } from 'node:timers/promises';
import { MIN_JWKS_COOLDOWN_MS, type Reason } from '@hyper/s2s-contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { REFRESH_AHEAD_SHARE } from '../../src/keys/remote-jwks-set.js';
import type { JwksFetchOutcome } from '../../src/observe.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { createVerifier } from '../../src/verifier.js';
import { hang, json, type Responder, text } from '../harness/jwks-server.js';
import { file, VECTOR_ROUTE } from '../harness/vectors.js';
import { type BreakableJwks, endlessBody, startBreakableJwks } from './support/breakable-jwks.js';
import { checkDrained, checkResult, emissions } from './support/contract-checks.js';
import { b64url, conformingClaims, conformingToken, signTexts, vectorSigningKey } from './support/jws.js';
import { MiB, retainedHeapBytes } from './support/memory.js';

// The verifier's deadlines, cache age, cooldown and backoff all run on its monotonic clock
// (performance.now() and timers), which these tests drive with fake timers while the JWKS endpoint
// and fetch do real I/O. So every assertion is about when an answer comes *on that clock* and how
// many fetches happen, never about how fast the machine was.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});

const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };
const TIMEOUT_MS = 300;
const BACKOFF_MS = 2_000;
const CACHE_MAX_AGE_MS = 60_000;
const COOLDOWN_MS = MIN_JWKS_COOLDOWN_MS;
const KID = 'lite-2026-03';
const publicJwk = (kid: string) => file.jwks.keys.find((key) => key.kid === kid)!;
const KEYSET = { keys: [publicJwk(KID)] };

let jtis = 0;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const validToken = (kid = KID) => conformingToken(kid, nowSeconds(), `jwks-fault-${jtis++}`);

const servers: BreakableJwks[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function endpoint(initial: unknown = KEYSET): Promise<BreakableJwks> {
  const server = await startBreakableJwks(initial);
  servers.push(server);
  return server;
}

/** Moves the verifier's clock (and its timers) forward. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

/** Lets real I/O (fetch, the JWKS server) run until `done()`: bounded by event-loop turns, not time. */
async function until(done: () => boolean, what: string, turns = 100_000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (done()) return;
    await turn();
  }
  throw new Error(`never happened: ${what}`);
}

/** Turns an aborted fetch needs to reach the caller; far fewer than a real 300 ms timer would take. */
const SETTLE_TURNS = 1_000;

/** Real event-loop turns, for checking that something is still waiting. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 50; i++) await turn();
}

interface Tracked<T> {
  readonly promise: Promise<T>;
  readonly settled: () => boolean;
}
function tracked<T>(promise: Promise<T>): Tracked<T> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { promise, settled: () => settled };
}

interface Answer {
  readonly token: string;
  readonly reason: Reason;
}

function remoteVerifier(url: string) {
  const observed = emissions();
  let attempts = 0;
  const verifier = createVerifier({
    keys: {
      jwksUrl: url,
      timeoutMs: TIMEOUT_MS,
      failureBackoffMs: BACKOFF_MS,
      cacheMaxAgeMs: CACHE_MAX_AGE_MS,
      cooldownMs: COOLDOWN_MS,
    },
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
    logger: observed.logger,
    metrics: {
      ...observed.metrics,
      jwksFetch: (outcome) => {
        attempts++;
        observed.metrics.jwksFetch?.(outcome);
      },
    },
  });
  const answers: Answer[] = [];
  const answer = async (token: string): Promise<Reason> => {
    const reason = checkResult(token, await verifier.verify(token, CALL));
    answers.push({ token, reason });
    return reason;
  };
  /** `count` callers at once with fresh known-kid tokens. */
  const burst = (count: number) => Array.from({ length: count }, () => answer(validToken()));
  return {
    verifier,
    answer,
    burst,
    answers,
    drain: observed.drain,
    /** JWKS requests that went to the network (a fetch that failed fast within the backoff is not one). */
    attempts: () => attempts,
  };
}

const privateJwk = () => ({
  ...(createPrivateKey(file.testPrivateKeys.keys.find((key) => key.kid === KID)!.pkcs8Pem).export({
    format: 'jwk',
  }) as object),
  kid: KID,
  alg: 'RS256',
});

const FAULTS: [
  name: string,
  outcome: JwksFetchOutcome,
  inject: (server: BreakableJwks) => Promise<void> | void,
][] = [
  ['down (connection refused)', 'network', (server) => server.down()],
  ['slower than the fetch timeout', 'timeout', (server) => server.respond(hang)],
  ['HTTP 500', 'http_status', (server) => server.respond(text('{"error":"boom"}', 500, 'application/json'))],
  [
    'an HTML page',
    'invalid_json',
    (server) => server.respond(text('<!doctype html><p>Sign in</p>', 200, 'text/html')),
  ],
  [
    'a JWKS with private members',
    'invalid_keyset',
    (server) => server.respond(json({ keys: [privateJwk()] })),
  ],
  ['an endless body', 'too_large', (server) => server.respond(endlessBody)],
  [
    'a declared 1 GiB body',
    'too_large',
    (server) =>
      server.respond(((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 ** 30) });
        res.write('{"keys":[');
      }) as Responder),
  ],
];

describe('remote JWKS faults under known-kid traffic', () => {
  it.each(FAULTS)(
    '%s: cached keys serve until stale, then 503 jwks_unavailable within the timeout, one fetch per backoff, recovery on the next fetch',
    async (_name, outcome, inject) => {
      const server = await endpoint();
      const { verifier, answer, burst, answers, drain, attempts } = remoteVerifier(server.url);
      expect((await verifier.warmup()).kids).toEqual([KID]);
      expect(attempts()).toBe(1);
      await inject(server);
      const hangs = outcome === 'timeout';

      // Within the cache age the fault is invisible: every answer from the cache, nothing fetched.
      expect(await Promise.all(burst(8))).toEqual(Array(8).fill('ok'));
      expect(attempts()).toBe(1);

      // Stale: concurrent callers share one fetch, and the fault answers all of them with a 503.
      await advance(CACHE_MAX_AGE_MS);
      const stale = burst(8).map(tracked);
      if (hangs) {
        await until(() => server.requests === 2, 'the refetch reaches the endpoint');
        await advance(TIMEOUT_MS - 1);
        await quiesce();
        expect(stale.filter((call) => call.settled())).toEqual([]); // waiting, and only for the timeout
        await advance(1);
        // Settled by the verifier's own deadline on this clock, a few turns later (no other timer).
        await until(() => stale.every((call) => call.settled()), 'the timeout answers', SETTLE_TURNS);
      }
      // Without a hang nothing waits for a timer: these settle with the clock standing still.
      expect(await Promise.all(stale.map((call) => call.promise))).toEqual(Array(8).fill('jwks_unavailable'));
      expect(attempts()).toBe(2);

      // Within the backoff: answered at once, without touching the network.
      const requests = server.requests;
      expect(await Promise.all(burst(8))).toEqual(Array(8).fill('jwks_unavailable'));
      await advance(BACKOFF_MS - 1);
      expect(await answer(validToken())).toBe('jwks_unavailable');
      expect(attempts()).toBe(2);
      expect(server.requests).toBe(requests);

      // Backoff over, fault still there: exactly one more attempt.
      await advance(1);
      const retry = tracked(answer(validToken()));
      if (hangs) {
        await until(() => server.requests === requests + 1, 'the retry reaches the endpoint');
        await advance(TIMEOUT_MS);
      }
      expect(await retry.promise).toBe('jwks_unavailable');
      expect(attempts()).toBe(3);

      // The endpoint recovers: the first fetch after the next backoff restores service, and the
      // fresh cache answers from then on.
      if (outcome === 'network') await server.up();
      server.respond(json(KEYSET));
      await advance(BACKOFF_MS);
      expect(await answer(validToken())).toBe('ok');
      expect(await Promise.all(burst(8))).toEqual(Array(8).fill('ok'));
      expect(attempts()).toBe(4);

      const drained = drain();
      expect(drained.fetches).toEqual(['ok', outcome, outcome, 'ok']);
      // One metric and one rejection line per answer, no token material in any output.
      checkDrained(drained, CALL, answers);
      // Every 503 says why, with the cause of this fault.
      const causes = new Set(
        drained.logs
          .filter((line) => (line.obj as { event?: string }).event === 's2s_auth_rejected')
          .map((line) => (line.obj as { cause?: string }).cause),
      );
      expect(causes.size).toBe(1);
      expect(causes.has(undefined)).toBe(false);
    },
    20_000,
  );
});

describe('remote JWKS: a key swapped under a known kid', () => {
  // The same kid, now naming the lite-2026-04 key material (a compromised or botched rotation).
  const swapped = { keys: [{ ...publicJwk('lite-2026-04'), kid: KID }] };
  const byOtherKey = () => {
    const key = vectorSigningKey('lite-2026-04');
    return signTexts(
      key,
      JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID }),
      JSON.stringify(conformingClaims(nowSeconds(), `swapped-${jtis++}`)),
    );
  };
  const REFRESH_AHEAD_MS = CACHE_MAX_AGE_MS * REFRESH_AHEAD_SHARE;

  async function swappedEndpoint() {
    const server = await endpoint();
    const remote = remoteVerifier(server.url);
    await remote.verifier.warmup();
    expect(await remote.answer(validToken())).toBe('ok');
    expect(await remote.answer(byOtherKey())).toBe('invalid_signature');
    server.respond(json(swapped));
    // Before the refresh-ahead point nothing changes, and a failed signature does not trigger a refetch.
    await advance(REFRESH_AHEAD_MS - 1);
    expect(await remote.answer(validToken())).toBe('ok');
    expect(await remote.answer(byOtherKey())).toBe('invalid_signature');
    await quiesce();
    expect(remote.attempts()).toBe(1);
    return remote;
  }

  it('with no traffic past the refresh-ahead point, the first call after expiry waits for the new keyset', async () => {
    const { answer, attempts } = await swappedEndpoint();
    await advance(CACHE_MAX_AGE_MS - REFRESH_AHEAD_MS + 1);
    expect(await answer(validToken())).toBe('invalid_signature');
    expect(await answer(byOtherKey())).toBe('ok');
    expect(attempts()).toBe(2);
  }, 10_000);

  it('with traffic past the refresh-ahead point, the cached key answers until the background fetch lands, never both keys at once', async () => {
    const { answer, attempts } = await swappedEndpoint();
    await advance(1);
    // Answered from the cache; this call starts the background refetch.
    expect(await answer(validToken())).toBe('ok');
    await until(() => attempts() === 2, 'the background refetch lands');
    expect(await answer(validToken())).toBe('invalid_signature');
    expect(await answer(byOtherKey())).toBe('ok');
    expect(attempts()).toBe(2);
  }, 10_000);
});

describe('remote JWKS: a flood of tokens with random kids', () => {
  /** A token for a kid nobody publishes; its signature is junk, since the kid already decides. */
  const randomKidToken = () => {
    const kid = randomBytes(9).toString('base64url');
    const claims = b64url(JSON.stringify(conformingClaims(nowSeconds(), `flood-${jtis++}`)));
    return `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${claims}.${randomBytes(256).toString('base64url')}`;
  };

  /** `count` tokens from 32 callers, one known-kid token in every `validEvery`. */
  async function flood(verify: (token: string) => Promise<Reason>, count: number, validEvery: number) {
    const reasons = new Map<Reason, number>();
    const valid: Reason[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < count) {
          const isValid = next++ % validEvery === 0;
          const reason = await verify(isValid ? validToken() : randomKidToken());
          if (isValid) valid.push(reason);
          else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }),
    );
    return { reasons: Object.fromEntries(reasons), valid: [...new Set(valid)] };
  }

  /** `unknown` random-kid tokens and `known` valid ones, all at once. */
  function wave(verify: (token: string) => Promise<Reason>, unknown: number, known: number) {
    return {
      unknown: Array.from({ length: unknown }, () => tracked(verify(randomKidToken()))),
      known: Array.from({ length: known }, () => verify(validToken())),
    };
  }
  const all = async (calls: Tracked<Reason>[]) => [
    ...new Set(await Promise.all(calls.map((c) => c.promise))),
  ];

  it('fetches at most once per cooldown, keeps memory flat, and keeps known kids working when the endpoint hangs or goes', async () => {
    const FLOOD = 50_000;
    const server = await endpoint();
    let attempts = 0; // JWKS requests that went to the network, whatever their outcome
    const verifier = createVerifier({
      keys: {
        jwksUrl: server.url,
        timeoutMs: TIMEOUT_MS,
        failureBackoffMs: BACKOFF_MS,
        cacheMaxAgeMs: CACHE_MAX_AGE_MS,
        cooldownMs: COOLDOWN_MS,
      },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      // Counting only: a recorder would itself grow with the flood.
      logger: { info: () => undefined, warn: () => undefined },
      metrics: { increment: () => undefined, jwksFetch: () => void attempts++ },
    });
    const verify = async (token: string) => checkResult(token, await verifier.verify(token, CALL));
    await verifier.warmup();
    expect(attempts).toBe(1);

    // Within the cooldown of the last fetch an unknown kid is answered from the cache: no fetch at all.
    await flood(verify, 5_000, 500); // JIT and pools warm before the heap baseline
    const heapBefore = retainedHeapBytes();
    const healthy = await flood(verify, FLOOD, 500);
    const heapGrowth = retainedHeapBytes() - heapBefore;
    expect(healthy).toEqual({ reasons: { unknown_kid: FLOOD - FLOOD / 500 }, valid: ['ok'] });
    expect(attempts).toBe(1);
    expect(heapGrowth).toBeLessThan(4 * MiB);

    // Cooldown over: the whole flood shares one refetch, and its answer starts the next cooldown.
    await advance(COOLDOWN_MS);
    expect(await flood(verify, 10_000, 500)).toEqual({
      reasons: { unknown_kid: 10_000 - 10_000 / 500 },
      valid: ['ok'],
    });
    expect(attempts).toBe(2);

    // The endpoint hangs. Unknown kids wait on one shared fetch, for the timeout and no longer;
    // known kids are answered from the fresh cache meanwhile.
    server.respond(hang);
    await advance(COOLDOWN_MS);
    const requests = server.requests;
    const hanging = wave(verify, 500, 50);
    expect([...new Set(await Promise.all(hanging.known))]).toEqual(['ok']);
    await until(() => server.requests === requests + 1, 'the refetch reaches the endpoint');
    await advance(TIMEOUT_MS - 1);
    await quiesce();
    expect(hanging.unknown.filter((call) => call.settled())).toEqual([]);
    await advance(1);
    await until(() => hanging.unknown.every((call) => call.settled()), 'the timeout answers', SETTLE_TURNS);
    expect(await all(hanging.unknown)).toEqual(['jwks_unavailable']);
    expect(attempts).toBe(3);
    expect(server.requests).toBe(requests + 1);

    // Within the failure backoff (not the cooldown): refused at once, nothing fetched.
    const backingOff = wave(verify, 500, 50);
    expect(await all(backingOff.unknown)).toEqual(['jwks_unavailable']);
    expect([...new Set(await Promise.all(backingOff.known))]).toEqual(['ok']);
    expect(attempts).toBe(3);

    // The endpoint is gone: one attempt per backoff, each failing at once.
    await server.down();
    await advance(BACKOFF_MS);
    const down = wave(verify, 500, 50);
    expect(await all(down.unknown)).toEqual(['jwks_unavailable']);
    expect([...new Set(await Promise.all(down.known))]).toEqual(['ok']);
    expect(attempts).toBe(4);
    expect(await all(wave(verify, 500, 0).unknown)).toEqual(['jwks_unavailable']);
    expect(attempts).toBe(4);
    await advance(BACKOFF_MS);
    expect(await all(wave(verify, 500, 0).unknown)).toEqual(['jwks_unavailable']);
    expect(attempts).toBe(5);

    console.info('[jwks-faults] random-kid flood:', {
      tokens: FLOOD,
      fetches: attempts,
      heapGrowthKiB: Math.round(heapGrowth / 1024),
    });
  }, 60_000);
});
