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

const remote = (url: string, extra: Record<string, unknown> = {}) =>
  createVerifier({
    keys: { jwksUrl: url, timeoutMs: 200, failureBackoffMs: 0 },
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
    const started = performance.now();
    expect(await remote(server.url, { logger: observed.logger }).warmup()).toEqual({ keys: false, kids: [] });
    expect(performance.now() - started).toBeLessThan(200 + 500);
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
    const started = performance.now();
    expect(await liveVerifier({ replayStore: stuckStore, replayTimeoutMs: 100 }).health()).toEqual({
      keys: true,
      replayStore: false,
    });
    expect(performance.now() - started).toBeLessThan(100 + 400);
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
