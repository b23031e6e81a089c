import { createPrivateKey, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
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

const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };
const TIMEOUT_MS = 300;
const BACKOFF_MS = 200;
/** Timers, TLS-free loopback HTTP and RS256 checks on a shared 2-core machine. */
const SLACK_MS = 500;
const KID = 'lite-2026-03';
const publicJwk = (kid: string) => file.jwks.keys.find((key) => key.kid === kid)!;
const KEYSET = { keys: [publicJwk(KID)] };

let jtis = 0;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const validToken = (kid = KID) => conformingToken(kid, nowSeconds(), `jwks-fault-${jtis++}`);

const servers: BreakableJwks[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function endpoint(initial: unknown = KEYSET): Promise<BreakableJwks> {
  const server = await startBreakableJwks(initial);
  servers.push(server);
  return server;
}

function remoteVerifier(url: string, keys: Omit<RemoteKeysOptions, 'jwksUrl'>) {
  const observed = emissions();
  const verifier = createVerifier({
    keys: { jwksUrl: url, timeoutMs: TIMEOUT_MS, failureBackoffMs: BACKOFF_MS, ...keys },
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
    logger: observed.logger,
    metrics: observed.metrics,
  });
  return {
    verifier,
    drain: observed.drain,
    verify: async (token: string) => checkResult(token, await verifier.verify(token, CALL)),
  };
}

interface Timed {
  readonly token: string;
  readonly reason: Reason;
  readonly at: number;
  readonly ms: number;
}

/** Known-kid traffic (fresh valid tokens) from a few callers until `signal` aborts. */
async function knownKidTraffic(
  verify: (token: string) => Promise<Reason>,
  signal: AbortSignal,
): Promise<Timed[]> {
  const answers: Timed[] = [];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (!signal.aborted) {
        const token = validToken();
        const at = performance.now();
        const reason = await verify(token);
        answers.push({ token, reason, at, ms: performance.now() - at });
        await sleep(5);
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
    '%s: 503 jwks_unavailable within the timeout, bounded fetches, then recovery',
    async (name, outcome, inject) => {
      const server = await endpoint();
      const cacheMaxAgeMs = 400;
      const { verify, verifier, drain } = remoteVerifier(server.url, {
        cacheMaxAgeMs,
        cooldownMs: MIN_JWKS_COOLDOWN_MS,
      });
      expect((await verifier.warmup()).kids).toEqual([KID]);
      const stop = new AbortController();
      const traffic = knownKidTraffic(verify, stop.signal);
      await sleep(300);
      const requestsBefore = server.requests;
      const from = performance.now();
      await inject(server);
      await sleep(1000);
      if (name.startsWith('down')) await server.up();
      server.respond(json(KEYSET));
      const to = performance.now();
      const requestsDuring = server.requests - requestsBefore;
      await sleep(BACKOFF_MS + TIMEOUT_MS + 600);
      stop.abort();
      const answers = await traffic;

      for (const answer of answers) {
        expect(['ok', 'jwks_unavailable']).toContain(answer.reason);
        expect(answer.ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
      }
      const unavailable = answers.filter((answer) => answer.reason === 'jwks_unavailable');
      expect(unavailable.length).toBeGreaterThan(0);
      // Refused only around the fault: none before it, none after one backoff and one fetch past its end.
      expect(
        unavailable.every(
          (answer) => answer.at + answer.ms >= from && answer.at <= to + BACKOFF_MS + TIMEOUT_MS,
        ),
      ).toBe(true);
      // One fetch per backoff at most while failing (plus the one in flight when the fault began).
      expect(requestsDuring).toBeLessThanOrEqual(Math.ceil((to - from) / BACKOFF_MS) + 2);
      const firstOkAfter = answers.find((answer) => answer.reason === 'ok' && answer.at >= to);
      expect(firstOkAfter).toBeDefined();
      expect(firstOkAfter!.at - to).toBeLessThan(BACKOFF_MS + TIMEOUT_MS + SLACK_MS);
      const drained = drain();
      expect(drained.fetches).toContain(outcome);
      checkDrained(drained, CALL, answers);
      console.info(`[jwks-faults] ${name}:`, {
        requests: answers.length,
        unavailable: unavailable.length,
        maxMs: Math.round(Math.max(...answers.map((answer) => answer.ms))),
        fetchesDuringFault: requestsDuring,
        outcomes: [...new Set(drained.fetches)],
      });
    },
    20_000,
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
    let maxMs = 0;
    let next = 0;
    const payload = claims();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < count) {
          const i = next++;
          const isValid = i % validEvery === 0;
          const token = isValid ? validToken() : randomKidToken(payload);
          const at = performance.now();
          const reason = await verify(token);
          maxMs = Math.max(maxMs, performance.now() - at);
          if (isValid) valid.push(reason);
          else reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
        }
      }),
    );
    return { reasons: Object.fromEntries(reasons), valid, maxMs: Math.round(maxMs) };
  }

  it('keeps fetches to one per cooldown, keeps memory flat and keeps known kids working', async () => {
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
    await verifier.warmup();
    await flood(verify, 5_000, 500); // JIT and pools warm before the baseline
    const heapBefore = retainedHeapBytes();
    const requestsBefore = server.requests;
    const started = performance.now();
    const healthy = await flood(verify, FLOOD, 500);
    const elapsed = performance.now() - started;
    const fetches = server.requests - requestsBefore;
    const heapGrowth = retainedHeapBytes() - heapBefore;

    expect(healthy.reasons).toEqual({ unknown_kid: FLOOD - FLOOD / 500 });
    expect(new Set(healthy.valid)).toEqual(new Set(['ok']));
    expect(fetches).toBeLessThanOrEqual(Math.ceil(elapsed / cooldownMs) + 1);
    expect(heapGrowth).toBeLessThan(4 * MiB);

    // The same flood against an endpoint that hangs: unknown kids wait at most the timeout, known kids
    // are still answered from the fresh cache.
    server.respond(hang);
    let attemptsBefore = attempts;
    let phaseStarted = performance.now();
    const slow = await flood(verify, 10_000, 200);
    const slowAttempts = attempts - attemptsBefore;
    // After a failed (timed-out) fetch the failure backoff, not the cooldown, spaces the next attempt.
    expect(slowAttempts).toBeLessThanOrEqual(
      Math.ceil((performance.now() - phaseStarted) / (Math.min(cooldownMs, BACKOFF_MS) + TIMEOUT_MS)) + 1,
    );
    expect(new Set(slow.valid)).toEqual(new Set(['ok']));
    expect(
      Object.keys(slow.reasons).every((reason) => ['unknown_kid', 'jwks_unavailable'].includes(reason)),
    ).toBe(true);
    expect(slow.maxMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);

    // And against an endpoint that is gone: failed fetches back off.
    await server.down();
    attemptsBefore = attempts;
    phaseStarted = performance.now();
    const down = await flood(verify, 10_000, 200);
    const downMs = performance.now() - phaseStarted;
    const downAttempts = attempts - attemptsBefore;
    expect(new Set(down.valid)).toEqual(new Set(['ok']));
    expect(downAttempts).toBeLessThanOrEqual(Math.ceil(downMs / BACKOFF_MS) + 1);
    expect(down.maxMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);

    console.info('[jwks-faults] random-kid flood:', {
      tokens: FLOOD,
      ms: Math.round(elapsed),
      fetches,
      heapGrowthKiB: Math.round(heapGrowth / 1024),
      hanging: { ...slow.reasons, fetches: slowAttempts, maxMs: slow.maxMs },
      down: { ...down.reasons, fetches: downAttempts, ms: Math.round(downMs), maxMs: down.maxMs },
    });
  }, 60_000);
});
