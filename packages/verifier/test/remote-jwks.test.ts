import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { MIN_JWKS_COOLDOWN_MS } from '@hyper/s2s-contracts';
import { type JWK, SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_JWKS_BYTES } from '../src/keys/remote.js';
import type { RemoteKeysOptions } from '../src/options.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { hang, type JwksServer, json, startJwksServer, text } from './harness/jwks-server.js';
import { recorder } from './harness/recorder.js';
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
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/**
 * For tests whose answer depends on where the keyset's age stands against cacheMaxAgeMs and its
 * refresh-ahead point: the verifier's clock (performance.now and its timers) moves only when the test
 * moves it, while the JWKS server and fetch do real I/O. A real sleep leaves a margin a loaded machine
 * can overrun.
 */
function monotonicClockByHand(): (ms: number) => Promise<void> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  return (ms) => vi.advanceTimersByTimeAsync(ms).then(() => undefined);
}

/** Lets real I/O run until `done()`: bounded by event-loop turns, not by time. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (done()) return;
    await turn();
  }
  throw new Error(`never happened: ${what}`);
}

/** Real event-loop turns, enough for a fetch to reach the local JWKS server had one started. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 200; i++) await turn();
}

async function server(initial: unknown): Promise<JwksServer> {
  const started = await startJwksServer(initial);
  servers.push(started);
  return started;
}

function remoteVerifier(url: string, keys: Omit<RemoteKeysOptions, 'jwksUrl'> = {}) {
  const observed = recorder();
  const verifier = createVerifier({
    keys: { jwksUrl: url, ...keys },
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
    logger: observed.logger,
    metrics: observed.metrics,
  });
  return { verifier, observed };
}

const keySet = (...keys: TestKey[]) => ({ keys: keys.map((key) => key.publicJwk) });
const reasonOf = async (verifier: ReturnType<typeof remoteVerifier>['verifier'], token: string) =>
  (await verifier.verify(token, call)).reason;

describe('remote JWKS: rotation', () => {
  it('picks up a new kid once the unknown-kid cooldown has passed', async () => {
    const jwks = await server(keySet(k1));
    const { verifier } = remoteVerifier(jwks.url, { cooldownMs: 1000 });
    const [old, rotated, later] = await Promise.all([k1, k2, k2].map((key) => sign(key, nowSeconds())));
    expect(await verifier.warmup()).toEqual({ keys: true, kids: ['lite-2026-03'] });
    expect(await reasonOf(verifier, old as string)).toBe('ok');

    jwks.serve(keySet(k1, k2));
    // Within the cooldown the cache answers, without a fetch.
    expect(await verifier.verify(rotated as string, call)).toMatchObject({
      status: 401,
      reason: 'unknown_kid',
    });
    expect(jwks.requests).toBe(1);
    await sleep(1050);
    expect(await reasonOf(verifier, later as string)).toBe('ok');
    expect(jwks.requests).toBe(2);
  });

  it('answers unknown_kid for a removed kid once the cache has expired', async () => {
    const jwks = await server(keySet(k1, k2));
    const { verifier } = remoteVerifier(jwks.url, { cacheMaxAgeMs: 1000, cooldownMs: MIN_JWKS_COOLDOWN_MS });
    const cached = await sign(k1, nowSeconds());
    await verifier.warmup();
    jwks.serve(keySet(k2));
    // Still cached: removal takes effect within cacheMaxAgeMs.
    expect(await reasonOf(verifier, cached)).toBe('ok');
    await sleep(1050);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('unknown_kid');
    expect(await reasonOf(verifier, await sign(k2, nowSeconds()))).toBe('ok');
  });
});

describe('remote JWKS: refetched ahead of expiry, so an outage warns before it refuses', () => {
  it('a keyset in use past half its max age is refetched in the background; a success renews it', async () => {
    const advance = monotonicClockByHand();
    const jwks = await server(keySet(k1));
    const { verifier, observed } = remoteVerifier(jwks.url, { cacheMaxAgeMs: 1000 });
    await verifier.warmup();
    expect(jwks.requests).toBe(1);
    // Before the refresh-ahead point: answered from the cache, no fetch.
    await advance(499);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
    await quiesce();
    expect(jwks.requests).toBe(1);
    await advance(351);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
    await until(() => observed.fetches.length === 2, 'the background refetch');
    expect(observed.fetches).toEqual(['ok', 'ok']);
    // Past the first fetch's max age (and before the renewed one's refresh point): the renewed cache
    // answers without another fetch.
    await advance(300);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
    await quiesce();
    expect(jwks.requests).toBe(2);
  });

  it('a failing endpoint is counted and logged while the cached keys still verify, once per backoff', async () => {
    const advance = monotonicClockByHand();
    const jwks = await server(keySet(k1));
    const { verifier, observed } = remoteVerifier(jwks.url, { cacheMaxAgeMs: 600, failureBackoffMs: 60_000 });
    await verifier.warmup();
    await advance(350);
    jwks.respond(text('down', 500, 'text/plain'));
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await reasonOf(verifier, await sign(k1, nowSeconds())));
    expect(answers).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    await until(() => observed.fetches.length === 2, 'the background refetch');
    expect(observed.fetches).toEqual(['ok', 'http_status']);
    expect(jwks.requests).toBe(2);
    expect(observed.logs.map((line) => (line.obj as { event?: string }).event)).toContain(
      's2s_jwks_fetch_failed',
    );
    expect(await verifier.health()).toMatchObject({ keys: true });
  });
});

describe('remote JWKS: a failed fetch is logged with what tells a wrong URL from a down endpoint', () => {
  const failures = (observed: ReturnType<typeof remoteVerifier>['observed']) =>
    observed.logs
      .map((line) => line.obj as Record<string, unknown>)
      .filter((obj) => obj.event === 's2s_jwks_fetch_failed');

  it('the HTTP status the endpoint answered', async () => {
    const jwks = await server(keySet(k1));
    jwks.respond(text('<html>not found</html>', 404, 'text/html'));
    const { verifier, observed } = remoteVerifier(jwks.url);
    expect(await verifier.warmup()).toMatchObject({ keys: false, cause: 'http_status' });
    expect(failures(observed)).toEqual([expect.objectContaining({ outcome: 'http_status', status: 404 })]);
    expect(JSON.stringify(observed.logs)).not.toContain('not found');
  });

  it('the network error code of a refused connection', async () => {
    const closed = await server(keySet(k1));
    const url = closed.url;
    await closed.close();
    const { verifier, observed } = remoteVerifier(url);
    expect(await verifier.warmup()).toMatchObject({ keys: false, cause: 'unreachable' });
    expect(failures(observed)).toEqual([
      expect.objectContaining({ outcome: 'network', code: 'ECONNREFUSED' }),
    ]);
  });
});

describe('remote JWKS: no fetch storms', () => {
  it('answers a flood of unknown kids from the cache within the cooldown', async () => {
    const jwks = await server(keySet(k1));
    const { verifier, observed } = remoteVerifier(jwks.url, { cooldownMs: 60_000 });
    await verifier.warmup();
    const flood = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const token = await sign({ ...k1, kid: `attacker-${i}` }, nowSeconds());
        return reasonOf(verifier, token);
      }),
    );
    expect(new Set(flood)).toEqual(new Set(['unknown_kid']));
    expect(jwks.requests).toBe(1);
    expect(observed.fetches).toEqual(['ok']);
  });

  it('shares one fetch among concurrent cold-cache verifications', async () => {
    const jwks = await server(keySet(k1));
    const { verifier } = remoteVerifier(jwks.url);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => sign(k1, nowSeconds())));
    const reasons = await Promise.all(tokens.map((token) => reasonOf(verifier, token)));
    expect(new Set(reasons)).toEqual(new Set(['ok']));
    expect(jwks.requests).toBe(1);
  });

  it('backs off after a failure, then recovers without a restart', async () => {
    const jwks = await server(keySet(k1));
    jwks.respond(text('down', 500, 'text/plain'));
    const { verifier } = remoteVerifier(jwks.url, { failureBackoffMs: 1000 });
    const tokens = await Promise.all(Array.from({ length: 21 }, () => sign(k1, nowSeconds())));
    expect(await reasonOf(verifier, tokens[0] as string)).toBe('jwks_unavailable');
    expect(jwks.requests).toBe(1);
    // Within the backoff: refused again, without touching the endpoint.
    const again = await Promise.all(tokens.slice(1).map((token) => reasonOf(verifier, token)));
    expect(new Set(again)).toEqual(new Set(['jwks_unavailable']));
    expect(jwks.requests).toBe(1);
    jwks.serve(keySet(k1));
    await sleep(1050);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
    expect(jwks.requests).toBe(2);
  });
});

describe('remote JWKS: failures fail closed with 503 jwks_unavailable', () => {
  it('times out within the configured bound', async () => {
    const jwks = await server(keySet(k1));
    jwks.respond(hang);
    const { verifier, observed } = remoteVerifier(jwks.url, { timeoutMs: 200 });
    const token = await sign(k1, nowSeconds());
    const result = await verifier.verify(token, call);
    expect(result).toEqual({ ok: false, status: 503, reason: 'jwks_unavailable' });
    // The endpoint never answers, so an answer at all means the fetch was cut; the 'timeout' outcome
    // says it was the configured deadline that cut it. No elapsed time is asserted.
    expect(observed.fetches).toEqual(['timeout']);
  });

  const bad: [string, Parameters<JwksServer['respond']>[0], string][] = [
    ['a 500', text('{"error":"boom"}', 500, 'application/json'), 'http_status'],
    ['a 404', text('not found', 404, 'text/plain'), 'http_status'],
    [
      'a redirect (never followed)',
      (_req, res) => {
        res.writeHead(302, { location: 'https://attacker.invalid/jwks.json' });
        res.end();
      },
      'http_status',
    ],
    ['garbage', text('\u0000\u0001garbage', 200, 'application/json'), 'invalid_json'],
    [
      'an HTML page',
      text('<!doctype html><html><body>Login</body></html>', 200, 'text/html'),
      'invalid_json',
    ],
    ['JSON that is not a JWKS', json({ hello: 'world' }), 'invalid_keyset'],
    [
      'a JWKS carrying private key material',
      json({ keys: [{ ...k1Private(), kid: 'lite-2026-03' }] }),
      'invalid_keyset',
    ],
    [
      'a JWKS repeating a kid',
      json({ keys: [publicOf('lite-2026-03'), publicOf('lite-2026-03')] }),
      'invalid_keyset',
    ],
    [
      'a body over the size cap',
      text(JSON.stringify({ keys: [], pad: 'x'.repeat(MAX_JWKS_BYTES) }), 200, 'application/json'),
      'too_large',
    ],
  ];

  it.each(bad)('%s', async (_name, responder, outcome) => {
    const jwks = await server(keySet(k1));
    jwks.respond(responder);
    const { verifier, observed } = remoteVerifier(jwks.url);
    expect(await verifier.verify(await sign(k1, nowSeconds()), call)).toEqual({
      ok: false,
      status: 503,
      reason: 'jwks_unavailable',
    });
    expect(observed.fetches).toEqual([outcome]);
    expect(
      observed.logs.some((line) => line.level === 'warn' && JSON.stringify(line.obj).includes(outcome)),
    ).toBe(true);
  });

  it('refuses to fetch when the endpoint is unreachable (connection refused)', async () => {
    const jwks = await server(keySet(k1));
    const url = jwks.url;
    await jwks.close();
    servers.splice(servers.indexOf(jwks), 1);
    const { verifier, observed } = remoteVerifier(url);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('jwks_unavailable');
    expect(observed.fetches).toEqual(['network']);
  });

  it('keeps verifying with a fresh cache while the endpoint is down', async () => {
    const jwks = await server(keySet(k1));
    const { verifier } = remoteVerifier(jwks.url, { cacheMaxAgeMs: 60_000 });
    await verifier.warmup();
    jwks.respond(text('down', 503, 'text/plain'));
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
    expect(jwks.requests).toBe(1);
  });

  it('stops using a cache past its max age when the refetch fails', async () => {
    const jwks = await server(keySet(k1));
    const { verifier } = remoteVerifier(jwks.url, { cacheMaxAgeMs: 100 });
    await verifier.warmup();
    jwks.respond(text('down', 503, 'text/plain'));
    await sleep(150);
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('jwks_unavailable');
  });
});

describe('remote JWKS: key policy on fetched keys', () => {
  it('skips keys that do not fit and keeps the usable ones', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const jwks = await server({
      keys: [
        k1.publicJwk,
        { ...weak, kid: 'weak-rsa', alg: 'RS256' },
        { kty: 'oct', kid: 'hmac', alg: 'HS256' },
        { ...k2.publicJwk, use: 'enc' },
      ],
    });
    const { verifier, observed } = remoteVerifier(jwks.url, { cooldownMs: 60_000 });
    expect(await verifier.warmup()).toEqual({ keys: true, kids: ['lite-2026-03'] });
    expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
    expect(await reasonOf(verifier, await sign(k2, nowSeconds()))).toBe('unknown_kid');
    const skipped = observed.logs.filter(
      (line) => (line.obj as { event?: string }).event === 's2s_jwks_key_skipped',
    );
    expect(skipped.map((line) => (line.obj as { kid?: string }).kid)).toEqual([
      'weak-rsa',
      'hmac',
      'lite-2026-04',
    ]);
  });

  it.each([
    ['no key', () => ({ keys: [] })],
    [
      'only keys it skips',
      () => ({
        keys: [
          {
            ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }),
            kid: 'weak-rsa',
            alg: 'RS256',
          },
        ],
      }),
    ],
  ])(
    'refuses a refetched JWKS holding %s: the cached keys stand, then 503, never 401',
    async (_what, bad) => {
      const advance = monotonicClockByHand();
      const jwks = await server(keySet(k1));
      const { verifier, observed } = remoteVerifier(jwks.url, { cacheMaxAgeMs: 300 });
      await verifier.warmup();
      jwks.respond(json(bad()));
      const refresh = await verifier.refreshKeys();
      expect(refresh.refreshed).toBe(false);
      expect(refresh.kids).toEqual(['lite-2026-03']);
      expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('ok');
      expect(
        observed.logs.some((line) => (line.obj as { event?: string }).event === 's2s_jwks_refused'),
      ).toBe(true);
      await advance(350);
      expect(await reasonOf(verifier, await sign(k1, nowSeconds()))).toBe('jwks_unavailable');
      expect(await verifier.health()).toMatchObject({ keys: false, keysCause: 'invalid_body' });
    },
  );

  it('answers invalid_algorithm when the fetched key is for another algorithm', async () => {
    const es = await vectorKey('lite-2026-05');
    const jwks = await server(keySet(es));
    const verifier = createVerifier({
      keys: { jwksUrl: jwks.url },
      audience: file.audience,
      issuers: [file.issuer],
      algorithms: ['RS256', 'ES256'],
      replayStore: memoryReplayStore(),
    });
    // RS256 token naming the EC key's kid: refused before any signature work.
    expect(await reasonOf(verifier, await sign({ ...k1, kid: es.kid }, nowSeconds()))).toBe(
      'invalid_algorithm',
    );
    expect(await reasonOf(verifier, await sign(es, nowSeconds()))).toBe('ok');
  });

  it('never fetches a jku the token names', async () => {
    const jwks = await server(keySet(k1));
    const attacker = await server(keySet(k2));
    const { verifier } = remoteVerifier(jwks.url);
    const now = nowSeconds();
    const token = await new SignJWT({
      iss: file.issuer,
      sub: 's',
      aud: file.audience,
      exp: now + 60,
      iat: now,
      nbf: now,
      scope: 'spaces:create',
      jti: 'jku-test',
    })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: k2.kid, jku: attacker.url })
      .sign(k2.privateKey);
    expect(await reasonOf(verifier, token)).toBe('unknown_kid');
    expect(attacker.requests).toBe(0);
  });
});

function k1Private(): JWK {
  const entry = file.testPrivateKeys.keys.find((key) => key.kid === 'lite-2026-03');
  if (!entry) throw new Error('missing test key');
  return createPrivateKey(entry.pkcs8Pem).export({ format: 'jwk' }) as JWK;
}

function publicOf(kid: string): JWK {
  return file.jwks.keys.find((key) => key.kid === kid) as JWK;
}

describe('remote JWKS: the anticipate hint to the replay store', () => {
  it('announces a token only when its key is known without a fetch', async () => {
    const jwks = await server(keySet(k1));
    const hints = { announced: 0, ended: 0 };
    const replayStore = {
      ...memoryReplayStore(),
      anticipate: () => {
        hints.announced++;
        return () => {
          hints.ended++;
        };
      },
    };
    const verifier = createVerifier({
      keys: { jwksUrl: jwks.url },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore,
    });
    const [first, second, otherKid] = await Promise.all([k1, k1, k2].map((key) => sign(key, nowSeconds())));
    // No keyset yet: this token's check fetches it, so it is not announced.
    expect(await reasonOf(verifier, first as string)).toBe('ok');
    expect(hints).toEqual({ announced: 0, ended: 0 });
    // A kid the fresh keyset lacks would need a refetch: not announced either.
    expect(await reasonOf(verifier, otherKid as string)).toBe('unknown_kid');
    expect(hints).toEqual({ announced: 0, ended: 0 });
    // The key is in the fresh keyset: announced, and the announcement ended.
    expect(await reasonOf(verifier, second as string)).toBe('ok');
    expect(hints).toEqual({ announced: 1, ended: 1 });
  });
});
