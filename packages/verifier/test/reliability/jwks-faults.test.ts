import { createPrivateKey, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { MIN_JWKS_COOLDOWN_MS, type Reason } from '@hyper/s2s-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import type { JwksFetchOutcome } from '../../src/observe.js';
import type { RemoteKeysOptions } from '../../src/options.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { createVerifier } from '../../src/verifier.js';
import { hang, json, type Responder, text } from '../harness/jwks-server.js';
import { file, VECTOR_ROUTE } from '../harness/vectors.js';
import { type BreakableJwks, endlessBody, startBreakableJwks } from './support/breakable-jwks.js';
import { checkDrained, checkResult, emissions } from './support/contract-checks.js';
import { b64url, conformingClaims, conformingToken, signTexts, vectorSigningKey } from './support/jws.js';
import { MiB, retainedHeapBytes } from './support/memory.js';
import { frozenMonotonicClock } from './support/monotonic-clock.js';
import { until } from './support/until.js';

const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };
const TIMEOUT_MS = 300;
const BACKOFF_MS = 200;
const CACHE_MAX_AGE_MS = 400;
/** Answers each phase waits for: phases are counted in answers, never timed. */
const PER_PHASE = 12;
const KID = 'lite-2026-03';
const publicJwk = (kid: string) => file.jwks.keys.find((key) => key.kid === kid)!;
const KEYSET = { keys: [publicJwk(KID)] };

let jtis = 0;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const validToken = (kid = KID) => conformingToken(kid, nowSeconds(), `jwks-fault-${jtis++}`);

const servers: BreakableJwks[] = [];
const clocks: ReturnType<typeof frozenMonotonicClock>[] = [];
afterEach(async () => {
  for (const clock of clocks.splice(0)) clock.restore();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
function frozenClock() {
  const clock = frozenMonotonicClock();
  clocks.push(clock);
  return clock;
}

/**
 * Warms the verifier up on a frozen clock. A cold first fetch on a loaded machine may miss the fetch
 * timeout; then the backoff is stepped over and it is tried again (no test here is about the warmup).
 */
async function warmedUp(
  verifier: { warmup(): Promise<{ kids: readonly string[] }> },
  clock: { advance(ms: number): void },
) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const { kids } = await verifier.warmup();
    if (kids.length > 0) return kids;
    clock.advance(BACKOFF_MS);
  }
  throw new Error('the JWKS endpoint never answered the warmup');
}
async function endpoint(initial: unknown = KEYSET): Promise<BreakableJwks> {
  const server = await startBreakableJwks(initial);
  servers.push(server);
  return server;
}

function remoteVerifier(url: string, keys: Omit<RemoteKeysOptions, 'jwksUrl'>) {
  const observed = emissions();
  // Fetch attempts, whatever their outcome (a refused connection never reaches the server's count).
  let fetchAttempts = 0;
  const verifier = createVerifier({
    keys: { jwksUrl: url, timeoutMs: TIMEOUT_MS, failureBackoffMs: BACKOFF_MS, ...keys },
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
    logger: observed.logger,
    metrics: {
      increment: observed.metrics.increment,
      jwksFetch: (outcome: JwksFetchOutcome) => {
        fetchAttempts++;
        observed.metrics.jwksFetch?.(outcome);
      },
    },
  });
  return {
    verifier,
    fetchAttempts: () => fetchAttempts,
    drain: observed.drain,
    verify: async (token: string) => checkResult(token, await verifier.verify(token, CALL)),
  };
}

type Phase = 'healthy' | 'fault' | 'fault, next backoff' | 'lifted, in backoff' | 'recovered';

interface Answered {
  readonly token: string;
  readonly reason: Reason;
  /** The phase when the request was presented, and when it was answered. */
  readonly phase: Phase;
  readonly answeredIn: Phase;
}

/** Known-kid traffic (fresh valid tokens) from a few callers until `signal` aborts, appended to `answers`. */
async function knownKidTraffic(
  verify: (token: string) => Promise<Reason>,
  phase: () => Phase,
  answers: Answered[],
  signal: AbortSignal,
): Promise<Answered[]> {
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!signal.aborted) {
        const token = validToken();
        const presentedIn = phase();
        const reason = await verify(token);
        answers.push({ token, reason, phase: presentedIn, answeredIn: phase() });
        await sleep(2);
      }
    }),
  );
  return answers;
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

describe('remote JWKS faults under steady known-kid traffic', () => {
  it.each(FAULTS)(
    '%s: 503 jwks_unavailable while it holds, one fetch per backoff, then recovery',
    async (name, outcome, inject) => {
      // Cache age and backoff run on this clock: they expire when the test advances it, not with load.
      const clock = frozenClock();
      const server = await endpoint();
      const { verify, verifier, drain, fetchAttempts } = remoteVerifier(server.url, {
        cacheMaxAgeMs: CACHE_MAX_AGE_MS,
        cooldownMs: MIN_JWKS_COOLDOWN_MS,
      });
      expect(await warmedUp(verifier, clock)).toEqual([KID]);
      const warm = fetchAttempts();
      let phase: Phase = 'healthy';
      const answers: Answered[] = [];
      const stop = new AbortController();
      const traffic = knownKidTraffic(verify, () => phase, answers, stop.signal);
      const settledIn = (p: Phase, reason?: Reason) =>
        answers.filter(
          (a) => a.phase === p && a.answeredIn === p && (reason === undefined || a.reason === reason),
        ).length;
      const step = async (next: Phase, reason: Reason) => {
        phase = next;
        await until(() => settledIn(next, reason) >= PER_PHASE, `${PER_PHASE} ${reason} answers: ${next}`);
      };

      // A fresh cache answers without fetching.
      await step('healthy', 'ok');
      expect(fetchAttempts() - warm).toBe(0);

      // The fault, then the cache goes stale: the next request must fetch, and is refused. Within the
      // backoff the failure stands for every request, so one fetch however many are refused.
      await inject(server);
      clock.advance(CACHE_MAX_AGE_MS);
      await step('fault', 'jwks_unavailable');
      expect(fetchAttempts() - warm).toBe(1);
      clock.advance(BACKOFF_MS);
      await step('fault, next backoff', 'jwks_unavailable');
      expect(fetchAttempts() - warm).toBe(2);

      // The endpoint is back, but the backoff still holds: refused, nothing fetched.
      if (name.startsWith('down')) await server.up();
      server.respond(json(KEYSET));
      await step('lifted, in backoff', 'jwks_unavailable');
      expect(fetchAttempts() - warm).toBe(2);

      // One backoff on: one fetch, and every request from then on is answered from the fresh cache.
      clock.advance(BACKOFF_MS);
      await step('recovered', 'ok');
      stop.abort();
      await traffic;
      expect(fetchAttempts() - warm).toBe(3);

      for (const answer of answers) expect(['ok', 'jwks_unavailable']).toContain(answer.reason);
      const expected: Record<Phase, Reason> = {
        healthy: 'ok',
        fault: 'jwks_unavailable',
        'fault, next backoff': 'jwks_unavailable',
        'lifted, in backoff': 'jwks_unavailable',
        recovered: 'ok',
      };
      // A request that spans a phase change may get either phase's answer, and nothing else.
      for (const answer of answers) {
        expect([expected[answer.phase], expected[answer.answeredIn]], answer.phase).toContain(answer.reason);
      }
      const drained = drain();
      expect(drained.fetches.slice(warm, warm + 2)).toEqual([outcome, outcome]);
      expect(drained.fetches.at(-1)).toBe('ok');
      checkDrained(drained, CALL, answers);
      console.info(`[jwks-faults] ${name}:`, {
        requests: answers.length,
        unavailable: answers.filter((answer) => answer.reason === 'jwks_unavailable').length,
        fetches: fetchAttempts(),
        outcomes: [...new Set(drained.fetches)],
      });
    },
    30_000,
  );
});

describe('remote JWKS: a key swapped under a known kid', () => {
  it('follows the endpoint once the cache expires, and never accepts both keys at once', async () => {
    const server = await endpoint();
    const { verify, verifier } = remoteVerifier(server.url, {
      cacheMaxAgeMs: 500,
      cooldownMs: MIN_JWKS_COOLDOWN_MS,
    });
    await verifier.warmup();
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
    expect(await verify(validToken())).toBe('ok');
    expect(await verify(byOtherKey())).toBe('invalid_signature');
    server.respond(json(swapped));
    // Within the cache age nothing changes, and a failed signature does not trigger a refetch.
    expect(await verify(validToken())).toBe('ok');
    expect(await verify(byOtherKey())).toBe('invalid_signature');
    expect(server.requests).toBe(1);
    await sleep(600);
    expect(await verify(validToken())).toBe('invalid_signature');
    expect(await verify(byOtherKey())).toBe('ok');
    expect(server.requests).toBe(2);
  }, 10_000);
});

describe('remote JWKS: a flood of tokens with random kids', () => {
  const FLOOD = 50_000;
  /** A token for a kid nobody publishes; its signature is junk, since the kid already decides. */
  const randomKidToken = (header: string) => {
    const kid = randomBytes(9).toString('base64url');
    return `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }))}.${header}.${randomBytes(256).toString('base64url')}`;
  };
  const claims = () => b64url(JSON.stringify(conformingClaims(nowSeconds(), `flood-${jtis++}`)));

  async function flood(verify: (token: string) => Promise<Reason>, count: number, validEvery: number) {
    const reasons = new Map<Reason, number>();
    const valid: Reason[] = [];
    let next = 0;
    const payload = claims();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < count) {
          const i = next++;
          const isValid = i % validEvery === 0;
          const token = isValid ? validToken() : randomKidToken(payload);
          const reason = await verify(token);
          if (isValid) valid.push(reason);
          else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }),
    );
    return { reasons: Object.fromEntries(reasons), valid };
  }

  it('keeps fetches to one per cooldown, keeps memory flat and keeps known kids working', async () => {
    // Cooldown and backoff run on this clock: each phase gets exactly the fetches the policy allows.
    const clock = frozenClock();
    const server = await endpoint();
    const cooldownMs = MIN_JWKS_COOLDOWN_MS;
    let attempts = 0; // JWKS requests that went to the network, whatever their outcome
    const verifier = createVerifier({
      keys: { jwksUrl: server.url, timeoutMs: TIMEOUT_MS, failureBackoffMs: BACKOFF_MS, cooldownMs },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
      // Counting only: a recorder would itself grow with the flood.
      logger: { info: () => undefined, warn: () => undefined },
      metrics: { increment: () => undefined, jwksFetch: () => void attempts++ },
    });
    const verify = async (token: string) => checkResult(token, await verifier.verify(token, CALL));
    await warmedUp(verifier, clock);
    const warm = attempts;
    // Within the cooldown of the warmup fetch, unknown kids are answered from the cache: no fetch.
    await flood(verify, 5_000, 500); // JIT and pools warm before the baseline
    expect(attempts - warm, 'fetches within the warmup cooldown').toBe(0);
    const heapBefore = retainedHeapBytes();
    const requestsBefore = server.requests;
    clock.advance(cooldownMs);
    const healthy = await flood(verify, FLOOD, 500);
    const fetches = server.requests - requestsBefore;
    const heapGrowth = retainedHeapBytes() - heapBefore;

    expect(healthy.reasons).toEqual({ unknown_kid: FLOOD - FLOOD / 500 });
    expect(new Set(healthy.valid)).toEqual(new Set(['ok']));
    // One cooldown passed: one fetch for 50,000 unknown kids.
    expect(fetches, 'fetches after one cooldown').toBe(1);
    expect(heapGrowth).toBeLessThan(4 * MiB);

    // The same flood against an endpoint that hangs: the first unknown kid past the cooldown fetches and
    // is cut at the timeout; from then on the failure backoff answers without touching the network, and
    // known kids are still answered from the fresh cache.
    server.respond(hang);
    let attemptsBefore = attempts;
    const requestsBeforeFault = server.requests;
    clock.advance(cooldownMs);
    const slow = await flood(verify, 10_000, 200);
    // The flood may be answered before the hanging fetch is cut: wait for the cut (the endpoint itself
    // never answers), then count. Only then may the clock move, or the backoff would start after it.
    await until(() => attempts > attemptsBefore, 'the hanging fetch cut by its timeout');
    expect(server.requests - requestsBeforeFault, 'hanging: first fetch').toBe(1);
    clock.advance(BACKOFF_MS);
    const slowAgain = await flood(verify, 2_000, 200);
    await until(() => attempts > attemptsBefore + 1, 'the second hanging fetch cut by its timeout');
    const slowAttempts = attempts - attemptsBefore;
    expect(slowAttempts, 'hanging: one more per backoff').toBe(2);
    expect(server.requests - requestsBeforeFault, 'hanging: requests').toBe(2);
    for (const phase of [slow, slowAgain]) {
      expect(new Set(phase.valid)).toEqual(new Set(['ok']));
      expect(
        Object.keys(phase.reasons).every((reason) => ['unknown_kid', 'jwks_unavailable'].includes(reason)),
      ).toBe(true);
    }

    // And against an endpoint that is gone: one refused connection per backoff.
    await server.down();
    attemptsBefore = attempts;
    clock.advance(BACKOFF_MS);
    const down = await flood(verify, 10_000, 200);
    await until(() => attempts > attemptsBefore, 'the refused fetch');
    const downAttempts = attempts - attemptsBefore;
    expect(new Set(down.valid)).toEqual(new Set(['ok']));
    expect(downAttempts, 'down: one per backoff').toBe(1);

    console.info('[jwks-faults] random-kid flood:', {
      tokens: FLOOD,
      fetches,
      heapGrowthKiB: Math.round(heapGrowth / 1024),
      hanging: { ...slow.reasons, fetches: slowAttempts },
      down: { ...down.reasons, fetches: downAttempts },
    });
  }, 60_000);
});
