import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLOCK_SKEW_SECONDS, DEFAULT_JWKS_CACHE_MAX_AGE_MS, MAX_TTL_SECONDS } from '@hyper/s2s-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KeySetDocument, parseKeySetDocument } from '../src/index.js';
import { runCli } from './helpers/cli.js';

let dir: string;
const path = (name: string) => join(dir, name);
const cli = (args: string[]) => runCli(args, { cwd: dir });
const read = (name: string) =>
  parseKeySetDocument(JSON.parse(readFileSync(path(name), 'utf8'))) as KeySetDocument;
const VERSION = (n: number) =>
  `projects/hyper/locations/europe-west1/keyRings/lite/cryptoKeys/s2s-jwt/cryptoKeyVersions/${n}`;
const T0 = Date.parse('2026-11-25T09:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

/** `rotation init` of lite-2026-11 on version 1, written to `out`. */
const initArgs = (out: string, ...extra: string[]) => [
  'rotation',
  'init',
  '--kid',
  'lite-2026-11',
  '--kms-key-version',
  VERSION(1),
  '--out',
  path(out),
  ...extra,
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyper-s2s-rotation-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each step spawns the CLI: slow on a loaded machine.
describe('hyper-s2s-keys rotation (JWKS mode, KMS key versions)', { timeout: 60_000 }, () => {
  it('walks init -> publish-next -> switch -> retire with the timeline arithmetic', () => {
    const init = cli(initArgs('keyset.json', '--verifier-cache', '600'));
    expect(init.status).toBe(0);
    expect(read('keyset.json').current).toEqual({ kid: 'lite-2026-11', kmsKeyVersion: VERSION(1) });

    const publish = cli([
      'rotation',
      'publish-next',
      '--state',
      path('keyset.json'),
      '--kid',
      'lite-2026-12',
      '--kms-key-version',
      VERSION(2),
      '--now',
      at(0),
      '--out',
      path('keyset.json'),
    ]);
    expect(publish.status).toBe(0);
    expect(publish.stderr).toContain(`kid lite-2026-12 is ${VERSION(2)}, published next`);
    expect(publish.stderr).toContain(`not before ${at(600)}`);
    expect(read('keyset.json').next).toEqual({
      kid: 'lite-2026-12',
      kmsKeyVersion: VERSION(2),
      publishedAt: at(0),
    });

    // Before the verifier cache age has passed the switch is refused, and the file is untouched.
    const early = cli([
      'rotation',
      'switch',
      '--state',
      path('keyset.json'),
      '--now',
      at(599),
      '--out',
      path('keyset.json'),
    ]);
    expect(early.status).toBe(1);
    expect(read('keyset.json').current.kid).toBe('lite-2026-11');

    const status = cli(['rotation', 'status', '--state', path('keyset.json'), '--now', at(10)]);
    expect(status.stdout).toMatch(/next +lite-2026-12 {2}<- {2}.*cryptoKeyVersions\/2/);

    const switched = cli([
      'rotation',
      'switch',
      '--state',
      path('keyset.json'),
      '--now',
      at(600),
      '--out',
      path('keyset.json'),
    ]);
    expect(switched.status).toBe(0);
    const retireAt = at(600 + 300 + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS);
    expect(read('keyset.json')).toMatchObject({
      current: { kid: 'lite-2026-12', kmsKeyVersion: VERSION(2) },
      previous: [{ kid: 'lite-2026-11', kmsKeyVersion: VERSION(1), retireAt }],
    });
    expect(read('keyset.json').next).toBeUndefined();

    const notYet = cli([
      'rotation',
      'retire',
      '--state',
      path('keyset.json'),
      '--now',
      at(1259),
      '--out',
      path('keyset.json'),
    ]);
    expect(read('keyset.json').previous).toHaveLength(1);
    expect(notYet.stderr).toBe(
      'no previous key is past its retire time; previous keys still published: lite-2026-11\n',
    );
    const due = cli([
      'rotation',
      'retire',
      '--state',
      path('keyset.json'),
      '--now',
      at(1260),
      '--out',
      path('keyset.json'),
    ]);
    expect(read('keyset.json').previous).toEqual([]);
    expect(due.stderr).toBe('retired: lite-2026-11; previous keys still published: none\n');
    // Atomic writes leave no temp files behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('retire --kid removes a key now and says how long verifiers may still trust it', () => {
    cli(initArgs('r.json'));
    cli([
      'rotation',
      'publish-next',
      '--state',
      path('r.json'),
      '--kid',
      'lite-2026-12',
      '--kms-key-version',
      VERSION(2),
      '--now',
      at(0),
      '--out',
      path('r.json'),
    ]);
    // The default verifier cache (600 s) has passed: the switch is allowed.
    const switched = cli([
      'rotation',
      'switch',
      '--state',
      path('r.json'),
      '--now',
      at(600),
      '--out',
      path('r.json'),
    ]);
    expect(switched.status).toBe(0);
    const run = cli([
      'rotation',
      'retire',
      '--state',
      path('r.json'),
      '--kid',
      'lite-2026-11',
      '--now',
      at(601),
      '--out',
      path('r.json'),
    ]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/refreshKeys/);
    expect(read('r.json').previous).toEqual([]);
  });

  it('refuses a version published twice, a bad kid and an unknown command, writing nothing', () => {
    cli(initArgs('x.json'));
    const before = readFileSync(path('x.json'), 'utf8');
    const twice = cli([
      'rotation',
      'publish-next',
      '--state',
      path('x.json'),
      '--kid',
      'lite-2026-12',
      '--kms-key-version',
      VERSION(1),
      '--out',
      path('x.json'),
    ]);
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(/appears twice/);
    const badKid = cli([
      'rotation',
      'publish-next',
      '--state',
      path('x.json'),
      '--kid',
      'next',
      '--kms-key-version',
      VERSION(2),
      '--out',
      path('x.json'),
    ]);
    expect(badKid.status).toBe(1);
    expect(readFileSync(path('x.json'), 'utf8')).toBe(before);
    expect(cli(['rotation', 'rotate']).status).toBe(2);
  });

  it('init refuses to replace an existing document without --force, naming the file', () => {
    expect(cli(initArgs('live.json')).status).toBe(0);
    const live = readFileSync(path('live.json'), 'utf8');
    const again = cli([...initArgs('live.json').map((a) => (a === VERSION(1) ? VERSION(7) : a))]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain(path('live.json'));
    expect(again.stderr).toContain('--force');
    expect(readFileSync(path('live.json'), 'utf8')).toBe(live);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const forced = cli([...initArgs('live.json', '--force').map((a) => (a === VERSION(1) ? VERSION(7) : a))]);
    expect(forced.status).toBe(0);
    expect(read('live.json').current.kmsKeyVersion).toBe(VERSION(7));
  });

  it("rotation --help and rotation init --help list init's flags, --force included (exit 0)", () => {
    const rotationHelp = cli(['rotation', '--help']);
    expect(rotationHelp.status).toBe(0);
    expect(rotationHelp.stdout).toMatch(/init .*--force/);
    for (const flag of ['-h', '--help']) {
      const initHelp = cli(['rotation', 'init', flag]);
      expect(initHelp.status).toBe(0);
      for (const option of [
        '--kid',
        '--kms-key-version',
        '--max-age',
        '--verifier-cache',
        '--switch-propagation',
        '--out',
        '--force',
      ]) {
        expect(initHelp.stdout).toContain(option);
      }
    }
  });

  it.each(['max-age', 'verifier-cache', 'switch-propagation'])(
    'init reads --%s with the one integer parser: blank, hex, exponent, padded are usage errors',
    (option) => {
      for (const value of ['', '0x10', '1e3', ' 5', '5 ', '-1', '1.5', '86401']) {
        // --option=VALUE: a separate "-1" would be refused by the argument parser, before the value is read.
        const run = cli(initArgs('spelt.json', `--${option}=${value}`));
        expect(run.status, JSON.stringify(value)).toBe(2);
        expect(run.stderr).toMatch(new RegExp(`rotation init: --${option} must be .* to 86400`));
        expect(readdirSync(dir)).not.toContain('spelt.json');
      }
    },
  );

  it('init refuses --verifier-cache 0 even with --force (it would only drop the switch wait)', () => {
    for (const extra of [[], ['--force']]) {
      const run = cli(initArgs('zero.json', '--verifier-cache', '0', ...extra));
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('rotation init: --verifier-cache must be an integer from 1 to 86400');
      expect(readdirSync(dir)).not.toContain('zero.json');
    }
    expect(cli(initArgs('zero.json', '--max-age', '0', '--switch-propagation', '0')).status).toBe(0);
    expect(read('zero.json')).toMatchObject({ maxAgeSeconds: 0, switchPropagationSeconds: 0 });
    expect(cli(initArgs('one.json', '--verifier-cache', '1')).status).toBe(0);
    expect(read('one.json').verifierCacheSeconds).toBe(1);
  });

  it("init's default verifier cache is the verifier's default JWKS cache age", () => {
    expect(cli(initArgs('defaults.json')).status).toBe(0);
    const expected = DEFAULT_JWKS_CACHE_MAX_AGE_MS / 1000;
    expect(read('defaults.json').verifierCacheSeconds).toBe(expected);
    const help = cli(['rotation', 'init', '--help']);
    expect(help.stdout).toContain(`(default ${expected}, the verifier's own default)`);
  });
});
