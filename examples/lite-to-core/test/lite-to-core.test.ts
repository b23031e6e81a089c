import type { Jwks } from '@hyper/s2s-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoreServer, HEALTH_PATH, startCore } from '../src/core.js';
import { type LiteGateway, liteAuthLog, startLiteGateway } from '../src/gateway.js';
import { generateLiteKey, kidForMonth } from '../src/keys.js';
import { runScenario, type StepResult } from '../src/scenario.js';

describe('the lite-to-core example (the README main command)', () => {
  let core: CoreServer;
  let lite: LiteGateway;
  let results: StepResult[];
  const key = generateLiteKey(kidForMonth(0));

  beforeAll(async () => {
    lite = await startLiteGateway(key);
    const published: Jwks = await lite.signer.jwks(); // in-process: no pooled connection idles while PGlite starts
    core = await startCore(published);
    results = await runScenario(core, lite, key);
  });
  afterAll(async () => {
    await core?.close();
    await lite?.close();
  });

  it('walks every contract step and the rotation runbook', () => {
    expect(results.map((r) => r.step)).toHaveLength(13);
    expect(results.filter((r) => !r.pass)).toEqual([]);
  });

  it('exports the contract counters on /metrics', async () => {
    const scrape = await core.metrics();
    expect(scrape).toMatch(
      /s2s_auth_success\{reason="ok",path="\/integrations\/spaces",scope="spaces:create"\} \d+/,
    );
    expect(scrape).toMatch(/s2s_auth_401\{reason="replayed_token",path="\/integrations\/spaces"/);
    expect(scrape).toMatch(/s2s_auth_403\{reason="insufficient_scope"/);
  });

  it('serves verifier.health() on /health', async () => {
    const res = await fetch(`${core.url}${HEALTH_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ keys: true, replayStore: true });
  });

  it('gives the verifier a logger: every rejection is logged, with no token', () => {
    const rejected = core.log.filter((entry) => entry.event === 's2s_auth_rejected');
    expect(rejected.map((entry) => entry.reason)).toEqual(
      expect.arrayContaining(['replayed_token', 'expired_signature', 'insufficient_scope', 'unknown_kid']),
    );
    expect(rejected.every((entry) => entry.level === 'warn')).toBe(true);
    expect(JSON.stringify(core.log)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('starts the purger with the metrics: each run is exported for the purge alerts', async () => {
    await core.purger.runNow();
    const scrape = await core.metrics();
    expect(scrape).toMatch(/^s2s_replay_purge_runs_total\{result="(idle|deleted)"\} [1-9]/m);
    expect(scrape).toMatch(/^s2s_replay_purged_rows_total \d+/m);
  });

  it('logs Lite-side rejections without the token', () => {
    expect(liteAuthLog.entries.length).toBeGreaterThan(0);
    expect(JSON.stringify(liteAuthLog.entries)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });
});
