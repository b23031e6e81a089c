import { beforeAll, describe, expect, it } from 'vitest';
import { type Report, runCoreChecks } from '../src/index.js';
import { ENDPOINTS, type Flaws, startCore } from './support/core.js';

async function checkCore(flaws: Flaws, only?: (name: string) => boolean): Promise<Report> {
  const core = await startCore(flaws);
  try {
    return await runCoreChecks({
      baseUrl: core.url,
      endpoints: ENDPOINTS,
      concurrency: 8,
      ...(only ? { only } : {}),
    });
  } finally {
    await core.close();
  }
}

const failed = (report: Report) => report.checks.filter((c) => !c.ok).map((c) => c.name);

describe('hyper-s2s-conformance core, against our own Core (@hyper/s2s-verifier on node:http)', () => {
  let report: Report;
  beforeAll(async () => {
    report = await checkCore({});
  }, 120_000);

  it('passes every check', () => {
    expect(failed(report)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('ran the vectors, the sequences, the replay and the concurrency checks', () => {
    const names = report.checks.map((c) => c.name);
    expect(names.filter((n) => n.startsWith('vector ')).length).toBeGreaterThanOrEqual(100);
    expect(names).toEqual(
      expect.arrayContaining([
        'vector alg-hs256-public-key',
        'vector exp-within-skew',
        'vector ttl-301',
        'vector insufficient-scope',
        'sequence replay-same-jti-two-issuers',
        'sequence replay-403-spends-jti',
        'replay',
        'concurrency',
        'concurrency across exps',
      ]),
    );
    expect(report.checks.find((c) => c.name === 'replay')!.got).toMatch(/^\d+ refused$/);
  });

  it('says why each vector it could not run is not applicable', () => {
    for (const skip of report.skipped) expect(skip.why.length).toBeGreaterThan(0);
    expect(report.skipped.map((s) => s.name)).toContain('vector valid-es256-when-allowed');
  });
});

describe('hyper-s2s-conformance core, against a Core whose routes answer 201 (a create)', () => {
  it('counts any 2xx as an authorised call: every check passes and the replays are refused', async () => {
    const report = await checkCore({ successStatus: 201 });
    expect(failed(report)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'replay')!.got).toMatch(/^[1-9]\d* refused$/);
    expect(report.checks.find((c) => c.name === 'concurrency')!.got).toMatch(/^1 x 2xx, 7 x replayed_token/);
  }, 120_000);

  it('does not count a redirect as one: the valid vectors fail and the replay check says why', async () => {
    const report = await checkCore({ successStatus: 302 }, (name) =>
      ['vector valid-spaces-create', 'vector expired', 'replay'].includes(name),
    );
    expect(failed(report).sort()).toEqual(['replay', 'vector valid-spaces-create']);
    expect(report.checks.find((c) => c.name === 'replay')!.got).toMatch(/no token was accepted/);
  }, 60_000);
});

// Each defect is caught by the check that names it (and the report as a whole fails).
const BROKEN: [string, Flaws, string[]][] = [
  [
    'no replay store',
    { noReplayStore: true },
    [
      'replay',
      'concurrency',
      'concurrency across exps',
      'vector replayed-jti',
      'sequence replay-same-iss-jti-two-tokens',
    ],
  ],
  [
    '401 for a missing scope',
    { forbiddenAs401: true },
    ['vector insufficient-scope', 'vector insufficient-scope-case'],
  ],
  ['HS256 accepted', { acceptHs256: true }, ['vector alg-hs256-public-key']],
  ['skew 0', { skewZero: true }, ['vector exp-within-skew', 'vector nbf-at-skew', 'vector iat-at-skew']],
  ['no exp - iat bound', { noTtlBound: true }, ['vector ttl-301']],
  [
    'a replay store that checks (iss, jti) but records (iss, jti, exp) without a lock between',
    { racyAcrossExps: true },
    ['concurrency across exps'],
  ],
];

describe('hyper-s2s-conformance core, against deliberately broken Cores', () => {
  it.each(BROKEN)(
    '%s is caught by %j',
    async (_name, flaws, catching) => {
      // Checks every defect here must pass; the replay ones show a store defect is caught by its own check.
      const controls = [
        'vector valid-spaces-create',
        'vector expired',
        'concurrency',
        'sequence replay-same-iss-jti-two-tokens',
      ];
      const report = await checkCore(flaws, (name) => catching.includes(name) || controls.includes(name));
      expect(report.ok).toBe(false);
      expect(failed(report).sort()).toEqual([...catching].sort());
    },
    60_000,
  );
});

describe('hyper-s2s-conformance core, against a Core whose rejection bodies use its own words', () => {
  it('fails every rejection vector: a reason outside the vocabulary is exposed and matches none', async () => {
    const checks = ['vector valid-spaces-create', 'vector expired', 'vector insufficient-scope', 'replay'];
    const report = await checkCore({ ownReasonWords: true }, (name) => checks.includes(name));
    expect(failed(report).sort()).toEqual(['replay', 'vector expired', 'vector insufficient-scope']);
    const expired = report.checks.find((c) => c.name === 'vector expired')!;
    expect(expired.got).toBe('401 (a reason outside the contract vocabulary)');
    // The Core's text is never copied into the report.
    expect(JSON.stringify(report)).not.toContain('token_rejected');
  }, 60_000);
});
