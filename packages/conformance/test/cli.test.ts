import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '@hyper/s2s-contracts';
import { afterAll, describe, expect, it } from 'vitest';
import { main, serveKitJwks, vectorFile } from '../src/index.js';
import { startCore } from './support/core.js';

const work = mkdtempSync(join(tmpdir(), 's2s-conformance-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += t), err: (t) => (err += t), errIsTty: true });
  return { code, out, err };
}

const dotenv = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => /^([A-Z0-9_]+)='(.*)'$/.exec(line)!.slice(1, 3)),
  );

describe('hyper-s2s-conformance CLI', () => {
  it('--version and -v print the package version and exit 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-v']) {
      expect(await run(flag)).toEqual({ code: 0, out: `@hyper/s2s-conformance ${version}\n`, err: '' });
    }
  });

  it('--help lists the three commands and exits 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(0);
    for (const command of ['env', 'core', 'lite']) expect(out).toContain(`hyper-s2s-conformance ${command}`);
  });

  // Every subcommand answers --help / -h with its own usage (before checking its required flags), exit 0.
  it.each([
    ['env', ['--serve-jwks', '--port']],
    ['core', ['--base-url', '--endpoint', '--method', '--concurrency', '--json', '--junit']],
    ['lite', ['--jwks-url', '--token-command', '--count', '--json', '--junit']],
  ])('%s --help and -h print its usage and exit 0', async (command, flags) => {
    for (const help of ['--help', '-h']) {
      const { code, out, err } = await run(command, help);
      expect(code).toBe(0);
      expect(err).toBe('');
      expect(out).toContain(`hyper-s2s-conformance ${command}`);
      for (const flag of flags) expect(out).toContain(flag);
      // Only this command's usage, not the others'.
      for (const other of ['env', 'core', 'lite'].filter((name) => name !== command)) {
        expect(out).not.toContain(`hyper-s2s-conformance ${other}`);
      }
    }
  });

  it.each([
    [['core'], /--base-url/],
    [['core', '--base-url', 'http://127.0.0.1:1'], /--endpoint/],
    [['core', '--base-url', 'http://127.0.0.1:1', '--endpoint', 'spaces=spaces:create'], /\/path=scope/],
    [['lite', '--jwks-url', 'http://127.0.0.1:1/j'], /--token-command/],
    [['frobnicate'], /unknown command/],
    [['core', '--bogus'], /bogus/],
  ])('%j is a usage error (exit 2)', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
  });

  // Integer options are read by the contracts' parseInteger: its words, and only digits.
  const core = [
    'core',
    '--base-url',
    'http://127.0.0.1:1',
    '--endpoint',
    '/integrations/spaces=spaces:create',
  ];
  it.each([
    [[...core, '--concurrency', '0'], '--concurrency must be an integer from 1 to 1000'],
    [[...core, '--concurrency', '1001'], '--concurrency must be an integer from 1 to 1000'],
    [[...core, '--concurrency', '1e2'], '--concurrency must be an integer from 1 to 1000, in decimal digits'],
    [[...core, '--concurrency', ' 4'], '--concurrency must be an integer from 1 to 1000, in decimal digits'],
    [
      ['lite', '--jwks-url', 'http://127.0.0.1:1/j', '--token-command', 'true', '--count', '0x10'],
      '--count must be an integer from 1 to 1000, in decimal digits',
    ],
    [['env', '--serve-jwks', '--port', '65536'], '--port must be an integer from 0 to 65535'],
    [['env', '--serve-jwks', '--port=-1'], '--port must be an integer from 0 to 65535, in decimal digits'],
  ])('%j is a usage error naming the option and its bounds', async (argv, message) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(2);
    expect(err.split('\n')[0]).toBe(message);
  });

  it('env prints, in dotenv form, the keyset, audience and every issuer the vectors need', async () => {
    const { code, out } = await run('env');
    expect(code).toBe(0);
    const env = dotenv(out);
    expect(JSON.parse(env[ENV.publicKeysJson]!)).toEqual(vectorFile.jwks);
    expect(env[ENV.audience]).toBe(vectorFile.audience);
    expect(env[ENV.allowedIssuers]!.split(',')).toEqual(['hyper-lite', 'hyper-lite-eu']);
    expect(out).not.toContain('PRIVATE KEY');
  });

  it('serves the same public keys as a JWKS on a local port', async () => {
    const server = await serveKitJwks(0);
    try {
      const response = await fetch(server.url);
      expect(await response.json()).toEqual(vectorFile.jwks);
    } finally {
      await server.close();
    }
  });

  it('core: exit 0 with a table, a progress line, JSON and JUnit reports against our Core', async () => {
    const core = await startCore();
    try {
      const json = join(work, 'core.json');
      const junit = join(work, 'core.xml');
      const { code, out, err } = await run(
        'core',
        '--base-url',
        core.url,
        '--endpoint',
        '/integrations/spaces=spaces:create',
        '--endpoint',
        '/integrations/join-tokens=join_tokens:issue',
        '--concurrency',
        '4',
        '--json',
        json,
        '--junit',
        junit,
      );
      expect(code).toBe(0);
      expect(out).toMatch(/^result\s+check\s+rule\s+expected\s+got/);
      expect(out).toMatch(/core: \d+ passed, 0 failed, \d+ not applicable -> CONFORMS/);
      expect(err).toMatch(/\[\s*\d+\/\d+\] vector /);
      const report = JSON.parse(readFileSync(json, 'utf8'));
      expect(report.ok).toBe(true);
      expect(readFileSync(junit, 'utf8')).toMatch(
        /<testsuite name="hyper-s2s-conformance core" tests="\d+" failures="0">/,
      );
    } finally {
      await core.close();
    }
  }, 120_000);

  it('core: exit 1 when a check fails (HS256 accepted), naming it in the table', async () => {
    const core = await startCore({ acceptHs256: true });
    try {
      const { code, out } = await run(
        'core',
        '--base-url',
        core.url,
        '--endpoint',
        '/integrations/spaces=spaces:create',
      );
      expect(code).toBe(1);
      expect(out).toMatch(/^FAIL\s+vector alg-hs256-public-key\s+H3/m);
      expect(out).toContain('DOES NOT CONFORM');
    } finally {
      await core.close();
    }
  }, 120_000);
});
