// The READMEs' `curl …/metrics | grep …` lines claim to show the auth counters. Run their grep, as
// written, over a real prom-client scrape: it must keep those counters and drop everything else (the
// latency histogram's s2s_auth_duration_seconds_bucket/_sum/_count lines share their prefix).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { METRIC_NAMES } from '@hyper/s2s-contracts';
import { Registry } from 'prom-client';
import { beforeAll, describe, expect, it } from 'vitest';
import { prometheusMetrics } from '../src/prometheus.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { liveVerifier } from './harness/verifiers.js';

const REPO = resolve(import.meta.dirname, '../../..');
const READMES = ['README.md', 'packages/verifier/README.md'];
const AUTH_COUNTERS = new Set<string>(Object.values(METRIC_NAMES));

/** Every `… /metrics | grep [-E] '<pattern>'` line: its README, line number, flags and pattern. */
function metricsGreps(): { where: string; args: string[] }[] {
  const found: { where: string; args: string[] }[] = [];
  for (const readme of READMES) {
    readFileSync(resolve(REPO, readme), 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const grep = /\/metrics \| grep (-E )?'([^']+)'/.exec(line);
        if (grep)
          found.push({ where: `${readme}:${index + 1}`, args: [...(grep[1] ? ['-E'] : []), grep[2]!] });
      });
  }
  return found;
}

let key: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});

async function scrape(): Promise<string> {
  const registry = new Registry();
  const verifier = liveVerifier({ metrics: prometheusMetrics({ registry }) });
  const call = { scope: 'spaces:create', path: '/integrations/spaces' };
  const token = await sign(key, nowSeconds());
  await verifier.verify(token, call); // 200
  await verifier.verify(token, call); // 401 replayed_token
  await verifier.verify(await sign(key, nowSeconds()), { ...call, scope: 'join_tokens:issue' }); // 403
  return registry.metrics();
}

describe('README metrics greps', () => {
  const greps = metricsGreps();

  it('the root README has one', () => {
    expect(greps.map((grep) => grep.where.split(':')[0])).toContain('README.md');
  });

  it.each(greps)('$where shows the auth counters and nothing else', async ({ args }) => {
    const text = await scrape();
    expect(text).toMatch(/^s2s_auth_duration_seconds_bucket\{/m);
    const counters = text.split('\n').filter((line) => AUTH_COUNTERS.has(line.split(/[{ ]/)[0] ?? ''));
    expect(counters.length).toBeGreaterThanOrEqual(3);
    const run = spawnSync('grep', args, { input: text, encoding: 'utf8' });
    expect(run.stdout.trimEnd().split('\n')).toEqual(counters);
  });
});
