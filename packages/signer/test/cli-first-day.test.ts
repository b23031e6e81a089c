// The rotation runbook from zero: a first keyset, files written atomically through --out, and a kid
// derived from the PEM's name.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '@hyper/s2s-contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './helpers/cli.js';
import { RSA_KEY } from './helpers/vectors.js';

// Each case spawns node a few times; on a loaded machine that outlasts the 5 s default.
vi.setConfig({ testTimeout: 60_000 });

let dir: string;
const path = (name: string) => join(dir, name);
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: dir, env });
const kidsOf = (file: string) =>
  (JSON.parse(readFileSync(path(file), 'utf8')) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
const leftovers = () => readdirSync(dir).filter((name) => name.endsWith('.tmp'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyper-s2s-keys-first-day-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keygen --jwk-out', () => {
  it('writes the PEM (0600) and the public JWK to files, nothing on stdout', () => {
    const run = cli([
      'keygen',
      '--kid',
      'lite-2026-12',
      '--out',
      'lite-2026-12.pem',
      '--jwk-out',
      'lite-2026-12.jwk.json',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('');
    expect(statSync(path('lite-2026-12.pem')).mode & 0o777).toBe(0o600);
    const jwk = JSON.parse(readFileSync(path('lite-2026-12.jwk.json'), 'utf8')) as Record<string, unknown>;
    expect(jwk).toMatchObject({ kid: 'lite-2026-12', kty: 'RSA', alg: 'RS256' });
    expect(jwk).not.toHaveProperty('d');
    expect(leftovers()).toEqual([]);
  });
});

describe('keyset add from zero', () => {
  it('starts a new keyset without --keyset or the variable, and says so on stderr', () => {
    const run = cli(['keyset', 'add', '--jwk', 'lite-2026-12.jwk.json', '--out', 'keyset.json']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('starting a new keyset');
    expect(run.stderr).toContain(ENV.publicKeysJson);
    expect(kidsOf('keyset.json')).toEqual(['lite-2026-12']);
  });

  it('refuses a --keyset that does not exist, naming the first-time form, and writes nothing', () => {
    const run = cli([
      'keyset',
      'add',
      '--jwk',
      'lite-2026-12.jwk.json',
      '--keyset',
      'missing.json',
      '--out',
      'missing.json',
    ]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(
      'keyset add: keyset missing.json does not exist; to start a new keyset, leave out --keyset (keyset add --jwk FILE --out missing.json)',
    );
    expect(readdirSync(dir)).not.toContain('missing.json');
  });

  it("adds to the variable's keyset when it is set, without the notice", () => {
    const env = { [ENV.publicKeysJson]: readFileSync(path('keyset.json'), 'utf8') };
    cli(['keygen', '--kid', 'lite-2027-01', '--out', 'lite-2027-01.pem', '--jwk-out', 'next.jwk.json']);
    const run = cli(['keyset', 'add', '--jwk', 'next.jwk.json', '--out', 'two.json'], env);
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain('starting a new keyset');
    expect(kidsOf('two.json')).toEqual(['lite-2026-12', 'lite-2027-01']);
  });
});

describe('atomic --out', () => {
  it('leaves the target as it was when the command fails (no empty file, unlike `>`)', () => {
    const before = readFileSync(path('keyset.json'), 'utf8');
    writeFileSync(path('broken.jwk.json'), '{"kty":');
    const run = cli([
      'keyset',
      'add',
      '--jwk',
      'broken.jwk.json',
      '--keyset',
      'keyset.json',
      '--out',
      'keyset.json',
    ]);
    expect(run.status).toBe(1);
    expect(readFileSync(path('keyset.json'), 'utf8')).toBe(before);
    const fresh = cli(['keyset', 'add', '--jwk', 'broken.jwk.json', '--out', 'never.json']);
    expect(fresh.status).toBe(1);
    expect(readdirSync(dir)).not.toContain('never.json');
  });

  it('removes its temp file when the final rename fails', () => {
    mkdirSync(path('a-directory'));
    const run = cli([
      'keyset',
      'remove',
      '--kid',
      'lite-2026-12',
      '--keyset',
      'two.json',
      '--out',
      'a-directory',
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/cannot write a-directory/);
    expect(leftovers()).toEqual([]);
  });
});

describe('jwks --pem', () => {
  it('derives the kid from a PEM named lite-YYYY-MM.pem and writes --out', () => {
    writeFileSync(path('lite-2026-03.pem'), RSA_KEY.pkcs8Pem, { mode: 0o600 });
    const run = cli(['jwks', '--pem', 'lite-2026-03.pem', '--out', 'jwks.json']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('kid lite-2026-03 taken from the file name');
    expect(kidsOf('jwks.json')).toEqual(['lite-2026-03']);
  });

  it('asks for --kid, naming why, when the file name is no kid', () => {
    writeFileSync(path('current.pem'), RSA_KEY.pkcs8Pem, { mode: 0o600 });
    const run = cli(['jwks', '--pem', 'current.pem']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--kid is required: current\.pem is not named lite-YYYY-MM\.pem/);
    expect(run.stdout).toBe('');
  });
});
