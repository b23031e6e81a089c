import { ENV } from '@hyper/s2s-contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TUNING_ENV, verifierFromEnv } from '../src/env.js';
import { VerifierConfigError } from '../src/errors.js';
import type { KeySource } from '../src/keys/source.js';
import { staticKeySource } from '../src/keys/static.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { hang, type JwksServer, startJwksServer, text } from './harness/jwks-server.js';
import { requestLogs } from './harness/recorder.js';
import { file } from './harness/vectors.js';
import { downStore, liveVerifier, stuckStore } from './harness/verifiers.js';

let server: JwksServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// A fetch timeout generous enough for a busy machine; the hanging-endpoint test passes a short one.
/** A verifier from the environment with S2S_WARMUP_REQUIRED=true, its JWKS at `url`. */
const requiredFromEnv = (url: string, extra: Record<string, string> = {}) =>
  verifierFromEnv({
    replayStore: memoryReplayStore(),
    env: {
      [ENV.jwksUrl]: url,
      [ENV.audience]: file.audience,
      [ENV.allowedIssuers]: file.issuer,
      [TUNING_ENV.warmupRequired]: 'true',
      ...extra,
    },
  });
const remote = (url: string, extra: Record<string, unknown> = {}, timeoutMs = 5000) =>
  createVerifier({
    keys: { jwksUrl: url, timeoutMs, failureBackoffMs: 0 },
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
    ...extra,
  });

describe('warmup', () => {
  it('imports a static keyset and lists its kids', async () => {
    expect(await liveVerifier().warmup()).toEqual({
      keys: true,
      kids: ['lite-2026-03', 'lite-2026-04', 'lite-2026-05'],
    });
  });

  it('fetches a remote JWKS ahead of traffic', async () => {
    server = await startJwksServer(file.jwks);
    const observed = requestLogs();
    const verifier = remote(server.url, { logger: observed.logger });
    expect(await verifier.warmup()).toEqual({
      keys: true,
      kids: ['lite-2026-03', 'lite-2026-04', 'lite-2026-05'],
    });
    expect(server.requests).toBe(1);
    expect(observed.logs).toContainEqual({
      level: 'info',
      obj: { event: 's2s_keys_ready', kids: ['lite-2026-03', 'lite-2026-04', 'lite-2026-05'] },
      msg: 'S2S verification keys ready',
    });
  });

  it('reports an unreachable JWKS instead of throwing, within the fetch timeout', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(hang);
    const observed = requestLogs();
    // The endpoint never answers: only the fetch timeout can end warmup (the test timeout bounds it).
    const verifier = remote(server.url, { logger: observed.logger, metrics: observed.metrics }, 200);
    expect(await verifier.warmup()).toEqual({ keys: false, kids: [], cause: 'timeout' });
    expect(observed.fetches).toEqual(['timeout']);
    expect(observed.logs).toContainEqual({
      level: 'warn',
      obj: { event: 's2s_keys_unavailable', cause: 'timeout' },
      msg: 'S2S verification keys unavailable',
    });
  });
});

describe('warmup({ required: true })', () => {
  it('throws a VerifierConfigError naming the key setting and the cause when no key loads', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('<html>maintenance</html>', 200, 'text/html'));
    const error = await remote(server.url)
      .warmup({ required: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifierConfigError);
    expect(error).toMatchObject({ field: 'keys.jwksUrl', code: 'ERR_S2S_VERIFIER_CONFIG' });
    expect((error as Error).message).toContain('invalid_body');
  });

  it('is the default with warmupRequired, and S2S_WARMUP_REQUIRED=true names S2S_JWKS_URL', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('down', 503, 'text/plain'));
    await expect(remote(server.url, { warmupRequired: true }).warmup()).rejects.toBeInstanceOf(
      VerifierConfigError,
    );
    const fromEnv = requiredFromEnv(server.url, { [TUNING_ENV.jwksFailureBackoffMs]: '0' });
    await expect(fromEnv.warmup()).rejects.toMatchObject({ field: ENV.jwksUrl });
    // Without the switch the same outage is only reported.
    expect(await remote(server.url).warmup()).toMatchObject({ keys: false, cause: 'http_status' });
    server.serve(file.jwks);
    expect((await fromEnv.warmup()).keys).toBe(true);
  });

  it('says which HTTP status the JWKS URL answered, without its query', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('<html>no such page</html>', 404, 'text/html'));
    const error = await remote(`${server.url}?access_token=s3cret`, { warmupRequired: true })
      .warmup()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifierConfigError);
    expect((error as Error).message).toBe(
      `keys.jwksUrl: no verification key could be loaded (cause: http_status, HTTP 404 from ${server.url})`,
    );
    expect((error as Error).message).not.toMatch(/s3cret|no such page/);
  });

  it("repeats the last failure's detail for a warmup within the failure backoff", async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('gone', 410, 'text/plain'));
    const verifier = createVerifier({
      keys: { jwksUrl: server.url, failureBackoffMs: 60_000 },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: memoryReplayStore(),
    });
    const expected = `(cause: http_status, HTTP 410 from ${server.url})`;
    await expect(verifier.warmup({ required: true })).rejects.toThrow(expected);
    await expect(verifier.warmup({ required: true })).rejects.toThrow(expected);
    expect(server.requests).toBe(1);
  });

  it('says which network error the JWKS URL gave; a URL with credentials is refused at start', async () => {
    server = await startJwksServer(file.jwks);
    const url = server.url;
    await server.close();
    server = undefined;
    // Nothing listens on the port any more: the connection is refused.
    const error = await remote(url)
      .warmup({ required: true })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `keys.jwksUrl: no verification key could be loaded (cause: unreachable, ECONNREFUSED from ${url})`,
    );
    // fetch refuses a URL with credentials: refused at construction, never echoing them.
    const withUser = url.replace('http://', 'http://ops:hunter2@');
    let refused: unknown;
    try {
      remote(withUser);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(VerifierConfigError);
    expect((refused as Error).message).toMatch(/^keys\.jwksUrl: must not hold a user name or password/);
    expect((refused as Error).message).not.toMatch(/ops|hunter2/);
  });

  it('keeps the detail through verifierFromEnv, under the variable', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('down', 503, 'text/plain'));
    const fromEnv = requiredFromEnv(server.url);
    await expect(fromEnv.warmup()).rejects.toThrow(
      `${ENV.jwksUrl}: no verification key could be loaded (cause: http_status, HTTP 503 from ${server.url})`,
    );
  });

  it('says what was wrong with a body that is no keyset, and what a timeout waited', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('<html>maintenance</html>', 200, 'text/html'));
    await expect(remote(server.url).warmup({ required: true })).rejects.toThrow(
      `(cause: invalid_body, a body that is not UTF-8 JSON from ${server.url})`,
    );
    server.serve({ keys: [] });
    await expect(remote(server.url).warmup({ required: true })).rejects.toThrow(
      `(cause: invalid_body, JWKS holds no key from ${server.url})`,
    );
    server.respond(hang);
    await expect(remote(server.url, {}, 200).warmup({ required: true })).rejects.toThrow(
      `(cause: timeout, no answer within 200 ms from ${server.url})`,
    );
  });
});

describe('health', () => {
  it('is all true for a static keyset and a working store, with no cause members', async () => {
    expect(await liveVerifier().health()).toStrictEqual({ keys: true, replayStore: true });
  });

  it('reports a replay store that fails or does not answer in time', async () => {
    expect(await liveVerifier({ replayStore: downStore }).health()).toEqual({
      keys: true,
      replayStore: false,
      replayStoreCause: 'error',
    });
    // The store never settles: only the replay timeout can produce this answer.
    expect(await liveVerifier({ replayStore: stuckStore, replayTimeoutMs: 100 }).health()).toEqual({
      keys: true,
      replayStore: false,
      replayStoreCause: 'timeout',
    });
  });

  it('follows the remote JWKS: down, then up, without a restart', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('down', 503, 'text/plain'));
    const verifier = remote(server.url);
    expect(await verifier.health()).toEqual({ keys: false, replayStore: true, keysCause: 'http_status' });
    server.respond(text('<html>maintenance</html>', 200, 'text/html'));
    expect(await verifier.health()).toEqual({ keys: false, replayStore: true, keysCause: 'invalid_body' });
    server.serve(file.jwks);
    expect(await verifier.health()).toEqual({ keys: true, replayStore: true });
    // A fresh cache answers without another fetch.
    const requests = server.requests;
    expect(await verifier.health()).toEqual({ keys: true, replayStore: true });
    expect(server.requests).toBe(requests);
  });
});

describe('warmup, health and refreshKeys never reject, even when the key source fails unexpectedly', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // Fault injection into the verifier's own key source (the static one): no keyset or endpoint can
  // make it throw, which is why the verifier's own guard needs this to be seen working.
  // Built inside each test, not at collection: mutation testing attributes the key checks per test.
  const fail = (method: 'warmup' | 'healthy' | 'refresh') => {
    const prototype = Object.getPrototypeOf(staticKeySource(file.jwks, 'keys.jwks')) as KeySource;
    return vi.spyOn(prototype, method).mockRejectedValue(new Error('key source bug'));
  };

  it('warmup reports no keys with cause error, logged as s2s_keys_unavailable', async () => {
    fail('warmup');
    const observed = requestLogs();
    expect(await liveVerifier({ logger: observed.logger }).warmup()).toEqual({
      keys: false,
      kids: [],
      cause: 'error',
    });
    expect(observed.logs).toEqual([
      {
        level: 'warn',
        obj: { event: 's2s_keys_unavailable', cause: 'error' },
        msg: 'S2S verification keys unavailable',
      },
    ]);
  });

  it('warmup({ required: true }) turns it into a VerifierConfigError naming keys.jwks', async () => {
    fail('warmup');
    await expect(liveVerifier().warmup({ required: true })).rejects.toMatchObject({
      name: 'VerifierConfigError',
      field: 'keys.jwks',
    });
  });

  it('health reports the keys as down with cause error', async () => {
    fail('healthy');
    expect(await liveVerifier().health()).toEqual({ keys: false, replayStore: true, keysCause: 'error' });
  });

  it('a key report without a cause is reported with cause error', async () => {
    const prototype = Object.getPrototypeOf(staticKeySource(file.jwks, 'keys.jwks')) as KeySource;
    vi.spyOn(prototype, 'warmup').mockResolvedValue({ keys: false, kids: [] });
    vi.spyOn(prototype, 'healthy').mockResolvedValue({ ok: false });
    const observed = requestLogs();
    const verifier = liveVerifier({ logger: observed.logger });
    expect(await verifier.warmup()).toEqual({ keys: false, kids: [] });
    expect(observed.logs[0]?.obj).toEqual({ event: 's2s_keys_unavailable', cause: 'error' });
    await expect(verifier.warmup({ required: true })).rejects.toThrow('(cause: error)');
    expect(await verifier.health()).toEqual({ keys: false, replayStore: true, keysCause: 'error' });
  });

  it('refreshKeys reports refreshed: false and no keys', async () => {
    fail('refresh');
    expect(await liveVerifier().refreshKeys()).toEqual({ refreshed: false, keys: false, kids: [] });
  });
});
