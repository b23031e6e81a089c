import { afterEach, describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { hang, type JwksServer, startJwksServer, text } from './harness/jwks-server.js';
import { recorder } from './harness/recorder.js';
import { file } from './harness/vectors.js';
import { downStore, liveVerifier, stuckStore } from './harness/verifiers.js';

let server: JwksServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

// A fetch timeout generous enough for a busy machine; the hanging-endpoint test passes a short one.
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
    const observed = recorder();
    const verifier = remote(server.url, { logger: observed.logger });
    expect(await verifier.warmup()).toEqual({
      keys: true,
      kids: ['lite-2026-03', 'lite-2026-04', 'lite-2026-05'],
    });
    expect(server.requests).toBe(1);
    expect(observed.logs.some((line) => (line.obj as { event: string }).event === 's2s_keys_ready')).toBe(
      true,
    );
  });

  it('reports an unreachable JWKS instead of throwing, within the fetch timeout', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(hang);
    const observed = recorder();
    // The endpoint never answers: only the fetch timeout can end warmup (the test timeout bounds it).
    const verifier = remote(server.url, { logger: observed.logger, metrics: observed.metrics }, 200);
    expect(await verifier.warmup()).toEqual({ keys: false, kids: [] });
    expect(observed.fetches).toEqual(['timeout']);
    expect(
      observed.logs.some((line) => (line.obj as { event: string }).event === 's2s_keys_unavailable'),
    ).toBe(true);
  });
});

describe('health', () => {
  it('is all true for a static keyset and a working store', async () => {
    expect(await liveVerifier().health()).toEqual({ keys: true, replayStore: true });
  });

  it('reports a replay store that fails or does not answer in time', async () => {
    expect(await liveVerifier({ replayStore: downStore }).health()).toEqual({
      keys: true,
      replayStore: false,
    });
    // The store never settles: only the replay timeout can produce this answer.
    expect(await liveVerifier({ replayStore: stuckStore, replayTimeoutMs: 100 }).health()).toEqual({
      keys: true,
      replayStore: false,
    });
  });

  it('follows the remote JWKS: down, then up, without a restart', async () => {
    server = await startJwksServer(file.jwks);
    server.respond(text('down', 503, 'text/plain'));
    const verifier = remote(server.url);
    expect(await verifier.health()).toEqual({ keys: false, replayStore: true });
    server.serve(file.jwks);
    expect(await verifier.health()).toEqual({ keys: true, replayStore: true });
    // A fresh cache answers without another fetch.
    const requests = server.requests;
    expect(await verifier.health()).toEqual({ keys: true, replayStore: true });
    expect(server.requests).toBe(requests);
  });
});
