import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV, PRIVATE_JWK_MEMBERS } from '@hyper/s2s-contracts';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner } from '../src/index.js';
import { runCli } from './helpers/cli.js';
import { EC_KEY, RSA_KEY, vectorFile } from './helpers/vectors.js';

let dir: string;
const path = (name: string) => join(dir, name);
const cli = (args: string[], extra: { env?: Record<string, string>; input?: string } = {}) =>
  runCli(args, { cwd: dir, ...extra });

const PRIVATE_MARKERS = /PRIVATE KEY|"d"\s*:/;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hyper-s2s-keys-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const writeJson = (name: string, value: unknown) => writeFileSync(path(name), JSON.stringify(value));
const keysetOf = (...keys: unknown[]) => ({ keys });
const jwkOf = (kid: string) => vectorFile.jwks.keys.find((k) => k.kid === kid)!;
/** A key of nobody's but this test's: unlike the contract's test keys, a keyset may trust it. */
const freshRsaJwk = (kid: string) => ({
  ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }),
  kid,
  alg: 'RS256',
  use: 'sig',
});

describe('hyper-s2s-keys --help', () => {
  it.each([
    [[], /Usage: hyper-s2s-keys <command>/],
    [['keygen'], /Usage: hyper-s2s-keys keygen/],
    [['jwks'], /Usage: hyper-s2s-keys jwks/],
    [['keyset'], /Usage: hyper-s2s-keys keyset <command>/],
    [['keyset', 'add'], /Usage: hyper-s2s-keys keyset add/],
    [['keyset', 'remove'], /Usage: hyper-s2s-keys keyset remove/],
    [['keyset', 'list'], /Usage: hyper-s2s-keys keyset list/],
    [['keyset', 'check'], /Usage: hyper-s2s-keys keyset check/],
    [['rotation'], /Usage: hyper-s2s-keys rotation <command>/],
    [['rotation', 'init'], /Usage: hyper-s2s-keys rotation init --kid/],
    [['rotation', 'publish-next'], /Usage: hyper-s2s-keys rotation publish-next --state FILE --kid ID/],
    [['rotation', 'switch'], /Usage: hyper-s2s-keys rotation switch --state FILE[\s\S]*--force/],
    [['rotation', 'retire'], /Usage: hyper-s2s-keys rotation retire --state FILE[\s\S]*--kid ID/],
    [['rotation', 'status'], /Usage: hyper-s2s-keys rotation status --state FILE/],
  ])('%j --help prints usage and exits 0', (command, usage) => {
    for (const flag of ['--help', '-h']) {
      const run = cli([...command, flag]);
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(usage);
    }
  });

  it('--version and -v print the package version and exit 0', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      expect(cli([flag])).toMatchObject({ status: 0, stdout: `@hyper/s2s-signer ${version}\n` });
    }
  });

  it('exits 2 with usage for no command, an unknown command and an unknown option', () => {
    expect(cli([])).toMatchObject({ status: 2, stderr: expect.stringMatching(/Usage/) });
    expect(cli(['rotate'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown command "rotate"/),
    });
    expect(cli(['keyset'])).toMatchObject({ status: 2 });
    expect(cli(['keyset', 'purge'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/unknown command "purge"/),
    });
    expect(cli(['keygen', '--kid', 'lite-2026-07', '--out', 'x.pem', '--bogus'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/bogus/),
    });
  });
});

describe('hyper-s2s-keys: a token pasted on the command line', () => {
  const token = `${Buffer.from('{"alg":"RS256","typ":"JWT","kid":"lite-2026-07"}').toString('base64url')}.${Buffer.from(
    '{"iss":"hyper-lite","sub":"hyper-lite-gateway","jti":"6f1c"}',
  ).toString('base64url')}.${'c2lnbmF0dXJl'.repeat(8)}`;
  it.each([
    ['as the command', [token]],
    ['as a keyset command', ['keyset', token]],
    ['as an extra argument', ['keygen', '--kid', 'lite-2026-07', '--out', 'x.pem', token]],
    ['as an option', ['keygen', '--kid', 'lite-2026-07', '--out', 'x.pem', `--${token}`]],
    ['as a kid', ['keygen', '--kid', token, '--out', 'x.pem']],
  ])('is never repeated when it is given %s', (_name, args) => {
    const run = cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('may hold a token');
    for (const part of token.split('.')) expect(run.stderr + run.stdout).not.toContain(part);
  });
});

describe('hyper-s2s-keys keygen', () => {
  it('writes an RSA-2048 PKCS#8 PEM with mode 0600 and prints only the public JWK', async () => {
    const run = cli(['keygen', '--kid', 'lite-2026-07', '--out', 'lite-2026-07.pem']);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(PRIVATE_MARKERS);
    const jwk = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(jwk).toMatchObject({ kty: 'RSA', kid: 'lite-2026-07', alg: 'RS256', use: 'sig' });
    for (const member of PRIVATE_JWK_MEMBERS) expect(jwk).not.toHaveProperty(member);
    expect(statSync(path('lite-2026-07.pem')).mode & 0o777).toBe(0o600);
    const pem = readFileSync(path('lite-2026-07.pem'), 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength).toBe(2048);
    // The key works with the signer, and the printed JWK verifies its tokens.
    const signer = createSigner({
      key: { privateKeyPem: pem, kid: 'lite-2026-07' },
      issuer: 'i',
      subject: 's',
      audience: 'a',
    });
    const token = await signer.sign({ scope: 'spaces:create' });
    await jose.jwtVerify(token, jose.createLocalJWKSet({ keys: [jwk as jose.JWK] }));
  });

  it('generates a P-256 key for --alg ES256', () => {
    const run = cli(['keygen', '--kid', 'lite-2026-08', '--out', 'ec.pem', '--alg', 'ES256']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
  });

  it('refuses to overwrite without --force, and replaces with it', () => {
    cli(['keygen', '--kid', 'lite-2026-09', '--out', 'rotate.pem']);
    const before = readFileSync(path('rotate.pem'), 'utf8');
    const refused = cli(['keygen', '--kid', 'lite-2026-09', '--out', 'rotate.pem']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/exists.*--force/);
    expect(readFileSync(path('rotate.pem'), 'utf8')).toBe(before);
    expect(cli(['keygen', '--kid', 'lite-2026-09', '--out', 'rotate.pem', '--force']).status).toBe(0);
    expect(readFileSync(path('rotate.pem'), 'utf8')).not.toBe(before);
    expect(statSync(path('rotate.pem')).mode & 0o777).toBe(0o600);
  });

  it('prints the private key on stdout only when asked with --out -', () => {
    const run = cli(['keygen', '--kid', 'lite-2026-10', '--out', '-']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(JSON.parse(run.stderr)).toMatchObject({ kid: 'lite-2026-10' });
  });

  it('refuses to overwrite an existing --jwk-out without --force, before writing any key', () => {
    cli(['keygen', '--kid', 'lite-2026-09', '--out', 'other.pem']);
    const before = readFileSync(path('other.pem'), 'utf8');
    const refused = cli(['keygen', '--kid', 'lite-2026-10', '--out', 'fresh.pem', '--jwk-out', 'other.pem']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/other\.pem exists; pass --force/);
    expect(readFileSync(path('other.pem'), 'utf8')).toBe(before);
    expect(existsSync(path('fresh.pem'))).toBe(false);

    const forced = ['--out', 'fresh.pem', '--jwk-out', 'other.pem', '--force'];
    expect(cli(['keygen', '--kid', 'lite-2026-10', ...forced]).status).toBe(0);
    expect(JSON.parse(readFileSync(path('other.pem'), 'utf8'))).toMatchObject({ kid: 'lite-2026-10' });
    expect(readFileSync(path('fresh.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('refuses --jwk-out naming the --out file however spelt, even with --force, writing nothing', () => {
    mkdirSync(path('keys'));
    symlinkSync(path('keys'), path('keys-link'));
    writeFileSync(path('keys/held.pem'), 'held');
    linkSync(path('keys/held.pem'), path('keys/hard-link.json'));
    for (const [out, jwkOut] of [
      ['keys/k.pem', './keys/k.pem'],
      ['keys/k.pem', 'keys/../keys/k.pem'],
      ['keys/k.pem', path('keys/k.pem')],
      ['keys/k.pem', 'keys-link/k.pem'],
      ['keys/held.pem', 'keys-link/held.pem'],
      ['keys/held.pem', 'keys/hard-link.json'],
    ]) {
      const run = cli(['keygen', '--kid', 'lite-2026-11', '--out', out!, '--jwk-out', jwkOut!, '--force']);
      expect(run.status, `${out} / ${jwkOut}`).toBe(2);
      expect(run.stderr).toContain(`--jwk-out ${jwkOut} and --out ${out} are the same file`);
      expect(existsSync(path('keys/k.pem'))).toBe(false);
      expect(readFileSync(path('keys/held.pem'), 'utf8')).toBe('held');
    }
  });

  it.each([['0x800'], [' 2048'], ['2048.0'], ['3e3'], ['']])(
    'reads --bits %j with the one integer parser: a usage error naming --bits',
    (bits) => {
      const run = cli(['keygen', '--kid', 'lite-2026-07', '--out', 'bits.pem', '--bits', bits]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('keygen: --bits must be an integer from 2048 to 16384, in decimal digits');
      expect(existsSync(path('bits.pem'))).toBe(false);
    },
  );

  it.each([
    ['a missing --kid', ['--out', 'a.pem'], 2, /--kid is required/],
    ['a missing --out', ['--kid', 'lite-2026-07'], 2, /--out is required/],
    ['a kid outside lite-YYYY-MM', ['--kid', 'prod', '--out', 'a.pem'], 2, /lite-YYYY-MM/],
    [
      'RSA under 2048 bits',
      ['--kid', 'lite-2026-07', '--out', 'a.pem', '--bits', '1024'],
      2,
      /--bits must be an integer from 2048 to 16384/,
    ],
    ['an HMAC algorithm', ['--kid', 'lite-2026-07', '--out', 'a.pem', '--alg', 'HS256'], 2, /RS256 or ES256/],
    ['an unwritable path', ['--kid', 'lite-2026-07', '--out', 'missing-dir/a.pem'], 1, /cannot write/],
  ])('fails on %s', (_name, args, status, message) => {
    const run = cli(['keygen', ...args]);
    expect(run.status).toBe(status);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });
});

describe('hyper-s2s-keys jwks', () => {
  it('prints the public JWKS of a private PEM, equal to the signer JWKS', async () => {
    writeFileSync(path('current.pem'), RSA_KEY.pkcs8Pem, { mode: 0o600 });
    const run = cli(['jwks', '--pem', 'current.pem', '--kid', RSA_KEY.kid]);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(PRIVATE_MARKERS);
    expect(JSON.parse(run.stdout)).toEqual({ keys: [jwkOf(RSA_KEY.kid)] });
  });

  it('reads the PEM from stdin with --pem - and prints one line with --compact', () => {
    const run = cli(['jwks', '--pem', '-', '--kid', EC_KEY.kid, '--compact'], { input: EC_KEY.pkcs8Pem });
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual({ keys: [jwkOf(EC_KEY.kid)] });
  });

  it('refuses a weak key, a secret and a missing file', () => {
    writeFileSync(
      path('weak.pem'),
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }),
    );
    writeFileSync(path('secret.txt'), 'hs256-shared-secret');
    expect(cli(['jwks', '--pem', 'weak.pem', '--kid', 'lite-2026-03'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/1024 bits/),
    });
    const secret = cli(['jwks', '--pem', 'secret.txt', '--kid', 'lite-2026-03']);
    expect(secret).toMatchObject({ status: 1, stderr: expect.stringMatching(/HMAC/) });
    expect(secret.stderr).not.toContain('hs256-shared-secret');
    expect(cli(['jwks', '--pem', 'nope.pem', '--kid', 'lite-2026-03'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/ENOENT/),
    });
  });
});

describe('hyper-s2s-keys keyset', () => {
  it('runs the rotation runbook: add the new key, list both, check, remove the old one', () => {
    writeJson('keyset.json', keysetOf(freshRsaJwk('lite-2026-03')));
    const generated = cli(['keygen', '--kid', 'lite-2026-11', '--out', 'next.pem']);
    writeFileSync(path('next.jwk.json'), generated.stdout);

    const added = cli([
      'keyset',
      'add',
      '--jwk',
      'next.jwk.json',
      '--keyset',
      'keyset.json',
      '--out',
      'keyset.json',
    ]);
    expect(added.status).toBe(0);
    const afterAdd = JSON.parse(readFileSync(path('keyset.json'), 'utf8')) as { keys: { kid: string }[] };
    expect(afterAdd.keys.map((k) => k.kid)).toEqual(['lite-2026-03', 'lite-2026-11']);

    const listed = cli(['keyset', 'list', '--keyset', 'keyset.json']);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toBe('lite-2026-03\tRSA\tRS256\t2048 bits\nlite-2026-11\tRSA\tRS256\t2048 bits\n');

    expect(cli(['keyset', 'check', '--keyset', 'keyset.json'])).toMatchObject({
      status: 0,
      stdout: 'ok: 2 key(s)\n',
    });

    const removed = cli(['keyset', 'remove', '--kid', 'lite-2026-03', '--keyset', 'keyset.json']);
    expect(removed.status).toBe(0);
    expect((JSON.parse(removed.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([
      'lite-2026-11',
    ]);
  });

  it('reads the keyset from HYPER_S2S_JWT_PUBLIC_KEYS_JSON when --keyset is absent', () => {
    const env = {
      [ENV.publicKeysJson]: JSON.stringify(keysetOf(jwkOf('lite-2026-03'), jwkOf('lite-2026-05'))),
    };
    const listed = cli(['keyset', 'list', '--json'], { env });
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      { kid: 'lite-2026-03', kty: 'RSA', alg: 'RS256', strength: '2048 bits' },
      { kid: 'lite-2026-05', kty: 'EC', alg: 'ES256', strength: 'P-256' },
    ]);
    const missing = cli(['keyset', 'list']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(ENV.publicKeysJson);
  });

  it('keyset list given a URL is a usage error saying it reads a file, and how to fetch the JWKS', () => {
    const url = 'https://gateway.internal/.well-known/jwks.json?token=secret-query';
    for (const run of [
      cli(['keyset', 'list', '--keyset', url]),
      cli(['keyset', 'list', '--keyset', 'HTTP://127.0.0.1:8081/.well-known/jwks.json']),
    ]) {
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(
        'keyset list: --keyset is a URL; it reads a keyset document file ({ "keys": [ ... ] }, "-" for stdin), not a URL.',
      );
      expect(run.stderr).toContain(
        'curl -fsS <url> -o jwks.json && hyper-s2s-keys keyset list --keyset jwks.json',
      );
      expect(run.stderr).not.toMatch(/ENOENT|secret-query/);
    }
    const fromEnv = cli(['keyset', 'list'], { env: { [ENV.publicKeysJson]: ` ${url}` } });
    expect(fromEnv.status).toBe(2);
    expect(fromEnv.stderr).toContain(`keyset list: ${ENV.publicKeysJson} holds a URL`);
    expect(fromEnv.stderr).not.toMatch(/not valid JSON|secret-query/);
    // The same rule for every keyset command: none of them fetches.
    expect(cli(['keyset', 'check', '--keyset', url])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('keyset check: --keyset is a URL'),
    });
  });

  it('adds a key from a PEM (public part only) and prints a compact document', () => {
    writeJson('one.json', keysetOf(jwkOf('lite-2026-03')));
    writeFileSync(
      path('rotated.pem'),
      vectorFile.testPrivateKeys.keys.find((k) => k.kid === 'lite-2026-04')!.pkcs8Pem,
    );
    const run = cli([
      'keyset',
      'add',
      '--pem',
      'rotated.pem',
      '--kid',
      'lite-2026-04',
      '--keyset',
      'one.json',
      '--compact',
      '--allow-test-keys',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toMatch(PRIVATE_MARKERS);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual(keysetOf(jwkOf('lite-2026-03'), jwkOf('lite-2026-04')));
  });

  it.each([
    ['a duplicate kid', () => jwkOf('lite-2026-03'), /already in the keyset/],
    ['a private JWK', () => ({ ...jwkOf('lite-2026-03'), kid: 'lite-2026-12', d: 'AAAA' }), /private member/],
    ['an HMAC (oct) key', () => ({ kty: 'oct', kid: 'lite-2026-12', k: 'c2VjcmV0' }), /symmetric/],
    [
      'a weak RSA key',
      () => ({
        ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }),
        kid: 'lite-2026-12',
      }),
      /1024 bits/,
    ],
    ['a bad kid', () => ({ ...jwkOf('lite-2026-04'), kid: 'next-key' }), /lite-YYYY-MM/],
  ])('keyset add refuses %s and leaves the keyset untouched', (_name, jwk, message) => {
    writeJson('base.json', keysetOf(jwkOf('lite-2026-03')));
    writeJson('candidate.json', jwk());
    const run = cli([
      'keyset',
      'add',
      '--jwk',
      'candidate.json',
      '--keyset',
      'base.json',
      '--out',
      'base.json',
    ]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(JSON.parse(readFileSync(path('base.json'), 'utf8'))).toEqual(keysetOf(jwkOf('lite-2026-03')));
  });

  it('keyset remove fails for an unknown kid and for the last key unless --allow-empty', () => {
    writeJson('single.json', keysetOf(jwkOf('lite-2026-03')));
    expect(cli(['keyset', 'remove', '--kid', 'lite-2030-01', '--keyset', 'single.json'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/not in the keyset/),
    });
    expect(cli(['keyset', 'remove', '--kid', 'lite-2026-03', '--keyset', 'single.json'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/last key/),
    });
    const emptied = cli([
      'keyset',
      'remove',
      '--kid',
      'lite-2026-03',
      '--keyset',
      'single.json',
      '--allow-empty',
    ]);
    expect(emptied.status).toBe(0);
    expect(JSON.parse(emptied.stdout)).toEqual({ keys: [] });
    expect(cli(['keyset', 'remove', '--keyset', 'single.json'])).toMatchObject({ status: 2 });
  });

  it('an option given twice is a usage error, not the last one silently winning', () => {
    const both = keysetOf(jwkOf('lite-2026-03'), jwkOf('lite-2026-04'));
    writeJson('pair.json', both);
    const run = cli([
      'keyset',
      'remove',
      '--kid',
      'lite-2026-03',
      '--kid',
      'lite-2026-04',
      '--keyset',
      'pair.json',
    ]);
    expect(run).toMatchObject({ status: 2, stdout: '' });
    expect(run.stderr).toMatch(/keyset remove: --kid is given more than once/);
    expect(JSON.parse(readFileSync(path('pair.json'), 'utf8'))).toEqual(both);
  });

  it('keyset add/remove refuse to rewrite a keyset that holds private members (never echo them)', () => {
    writeJson('leaky.json', keysetOf({ ...jwkOf('lite-2026-03'), d: 'c2VjcmV0LWQ' }, jwkOf('lite-2026-04')));
    const run = cli(['keyset', 'remove', '--kid', 'lite-2026-04', '--keyset', 'leaky.json']);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toContain('c2VjcmV0LWQ');
  });

  it('keyset check lists every problem and exits 1', () => {
    const weak = {
      ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }),
      kid: 'lite-2026-06',
    };
    const p384 = {
      ...generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }),
      kid: 'lite-2026-07',
    };
    writeJson(
      'bad.json',
      keysetOf(
        jwkOf('lite-2026-03'),
        jwkOf('lite-2026-03'),
        { ...jwkOf('lite-2026-04'), d: 'AAAA', p: 'AAAA' },
        weak,
        p384,
        { ...jwkOf('lite-2026-05'), kid: 'ec-key' },
        { kty: 'oct', kid: 'lite-2026-08', k: 'c2VjcmV0' },
        { ...jwkOf('lite-2026-05'), kid: 'lite-2026-09', alg: 'RS256' },
        { ...jwkOf('lite-2026-05'), kid: 'lite-2026-10', use: 'enc' },
        { kty: 'RSA', n: 'AQAB', e: 'AQAB' },
      ),
    );
    const run = cli(['keyset', 'check', '--keyset', 'bad.json']);
    expect(run.status).toBe(1);
    const lines = run.stdout.trim().split('\n');
    const expected = [
      /^lite-2026-03: duplicate kid/,
      /^lite-2026-04: d: private member/,
      /^lite-2026-06: n: RSA key of 1024 bits/,
      /^lite-2026-07: crv: must be "P-256"/,
      /^ec-key: kid "ec-key" does not follow lite-YYYY-MM/,
      /^lite-2026-08: kty: symmetric \(oct\/HMAC\) keys are refused/,
      /^lite-2026-09: alg: must be "ES256" for a EC key/,
      /^lite-2026-10: use: must be "sig"/,
      /^keys\[9\]: kid: must be a string/,
    ];
    for (const pattern of expected)
      expect(
        lines.some((line) => pattern.test(line)),
        String(pattern),
      ).toBe(true);
    expect(run.stdout).not.toContain('c2VjcmV0');
  });

  it('keyset check refuses a document that is not { keys: [...] }', () => {
    writeFileSync(path('not-json.json'), '{ keys: ');
    expect(cli(['keyset', 'check', '--keyset', 'not-json.json'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/not valid JSON/),
    });
    writeJson('array.json', [jwkOf('lite-2026-03')]);
    expect(cli(['keyset', 'check', '--keyset', 'array.json'])).toMatchObject({ status: 1 });
  });
});

describe("hyper-s2s-keys refuses the contract's public test keys unless --allow-test-keys", () => {
  const warningsIn = (stderr: string) =>
    stderr.split('\n').filter((line) => line.includes('public test key'));
  const freshJwk = (kid: string) => ({
    ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
    kid,
    alg: 'ES256',
    use: 'sig',
  });

  it('keyset check: exits 1 with one line per test key naming its kid and why', () => {
    writeJson(
      'with-test-keys.json',
      keysetOf(jwkOf('lite-2026-03'), jwkOf('lite-2026-05'), freshJwk('lite-2031-01')),
    );
    const run = cli(['keyset', 'check', '--keyset', 'with-test-keys.json']);
    expect(run.status).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^lite-2026-03: .*public test key lite-2026-03: its private key is published/);
    expect(lines[1]).toMatch(/^lite-2026-05: .*public test key lite-2026-05: its private key is published/);
    for (const line of lines) expect(line).toContain('--allow-test-keys');
    expect(run.stderr).toBe('2 problem(s)\n');

    writeJson('clean.json', keysetOf(freshJwk('lite-2031-02')));
    expect(cli(['keyset', 'check', '--keyset', 'clean.json'])).toMatchObject({
      status: 0,
      stdout: 'ok: 1 key(s)\n',
      stderr: '',
    });
  });

  it('keyset check: a test key under another kid fails too (by key material)', () => {
    writeJson('renamed.json', keysetOf({ ...jwkOf('lite-2026-04'), kid: 'lite-2031-05' }));
    const run = cli(['keyset', 'check', '--keyset', 'renamed.json']);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(
      /^lite-2031-05: .*public test key lite-2026-04 \(published as kid "lite-2031-05"\)/,
    );
  });

  it('keyset check --allow-test-keys: passes, warning once per test key on stderr', () => {
    writeJson(
      'with-test-keys.json',
      keysetOf(jwkOf('lite-2026-03'), jwkOf('lite-2026-05'), freshJwk('lite-2031-01')),
    );
    const run = cli(['keyset', 'check', '--keyset', 'with-test-keys.json', '--allow-test-keys']);
    expect(run).toMatchObject({ status: 0, stdout: 'ok: 3 key(s)\n' });
    const warnings = warningsIn(run.stderr);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('"lite-2026-03"');
    expect(warnings[1]).toContain('"lite-2026-05"');
  });

  it('keyset add: refuses a test key, even under another kid, and leaves the keyset untouched', () => {
    writeJson('renamed.jwk.json', { ...jwkOf('lite-2026-04'), kid: 'lite-2031-03' });
    const base = keysetOf(freshJwk('lite-2031-04'));
    writeJson('base.json', base);
    const run = cli([
      'keyset',
      'add',
      '--jwk',
      'renamed.jwk.json',
      '--keyset',
      'base.json',
      '--out',
      'base.json',
    ]);
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /keyset add: refused: key "lite-2031-03" is the contract's public test key lite-2026-04 .*--allow-test-keys/,
    );
    expect(JSON.parse(readFileSync(path('base.json'), 'utf8'))).toEqual(base);
  });

  it('keyset add --allow-test-keys: adds it, with one warning naming the kid', () => {
    writeJson('renamed.jwk.json', { ...jwkOf('lite-2026-04'), kid: 'lite-2031-03' });
    writeJson('base.json', keysetOf(freshJwk('lite-2031-04')));
    const run = cli([
      'keyset',
      'add',
      '--jwk',
      'renamed.jwk.json',
      '--keyset',
      'base.json',
      '--allow-test-keys',
    ]);
    expect(run.status).toBe(0);
    expect((JSON.parse(run.stdout) as { keys: { kid: string }[] }).keys.map((k) => k.kid)).toEqual([
      'lite-2031-04',
      'lite-2031-03',
    ]);
    const warnings = warningsIn(run.stderr);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"lite-2031-03"');
    expect(warnings[0]).toContain('lite-2026-04');
  });
});
