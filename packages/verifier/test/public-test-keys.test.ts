import { generateKeyPairSync } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { type JwksServer, startJwksServer } from './harness/jwks-server.js';
import { recorder } from './harness/recorder.js';
import { file } from './harness/vectors.js';

const jwkOf = (kid: string) => file.jwks.keys.find((key) => key.kid === kid)!;
const freshJwk = (kid: string) => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid,
  alg: 'ES256',
  use: 'sig',
});
const base = { audience: file.audience, issuers: [file.issuer], replayStore: memoryReplayStore() };
const testKeyWarnings = (logs: ReturnType<typeof recorder>['logs']) =>
  logs.filter((line) => (line.obj as { event?: string }).event === 's2s_public_test_key');

const servers: JwksServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe("the verifier warns when it trusts one of the contract's public test keys", () => {
  it('static keys: one warning per test key, naming the kid, by key material', async () => {
    const observed = recorder();
    const jwks = {
      keys: [
        jwkOf('lite-2026-03'),
        { ...jwkOf('lite-2026-05'), kid: 'lite-2031-01' },
        freshJwk('lite-2031-02'),
      ],
    };
    const verifier = createVerifier({
      ...base,
      keys: { jwks: jwks as JSONWebKeySet },
      logger: observed.logger,
    });
    await verifier.warmup();
    await verifier.refreshKeys();
    const warnings = testKeyWarnings(observed.logs);
    expect(warnings.map((line) => line.obj)).toEqual([
      { event: 's2s_public_test_key', kid: 'lite-2026-03', testKid: 'lite-2026-03' },
      { event: 's2s_public_test_key', kid: 'lite-2031-01', testKid: 'lite-2026-05' },
    ]);
    expect(warnings.every((line) => line.level === 'warn')).toBe(true);
    expect(warnings[1]!.msg).toContain('"lite-2031-01"');
  });

  it('static keys without a logger: a process warning (stderr), once per kid in the process', () => {
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const jwks = { keys: [{ ...jwkOf('lite-2026-04'), kid: 'lite-2031-05' }] } as JSONWebKeySet;
    createVerifier({ ...base, keys: { jwks } });
    createVerifier({ ...base, keys: { jwks } });
    expect(emitted).toHaveBeenCalledTimes(1);
    expect(String(emitted.mock.calls[0]![0])).toContain('"lite-2031-05"');
  });

  it('a fetched JWKS: warned on the first fetch that holds it, not again on every refetch', async () => {
    const observed = recorder();
    const server = await startJwksServer({ keys: [jwkOf('lite-2026-03'), freshJwk('lite-2031-06')] });
    servers.push(server);
    const verifier = createVerifier({
      ...base,
      keys: { jwksUrl: server.url },
      logger: observed.logger,
    });
    await verifier.warmup();
    await verifier.refreshKeys();
    await verifier.refreshKeys();
    expect(testKeyWarnings(observed.logs).map((line) => line.obj)).toEqual([
      { event: 's2s_public_test_key', kid: 'lite-2026-03', testKid: 'lite-2026-03' },
    ]);
  });

  it('a keyset without test keys: no warning', async () => {
    const observed = recorder();
    const verifier = createVerifier({
      ...base,
      keys: { jwks: { keys: [freshJwk('lite-2031-07')] } as JSONWebKeySet },
      logger: observed.logger,
    });
    await verifier.warmup();
    expect(testKeyWarnings(observed.logs)).toEqual([]);
  });
});
