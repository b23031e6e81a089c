import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { checkPublicJwk } from '@hyper/s2s-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { jwkProblems, runLiteChecks, vectorFile } from '../src/index.js';

// A signer passes the kit only if a Core would take it: its JWKS under the key policy every verifier
// applies (SPEC.md KEY1, checkPublicJwk) and the fetch rules (JWKS1), its tokens read strictly (T4).
const good = vectorFile.jwks.keys[0]!;
const fixture = fileURLToPath(new URL('./fixtures/sign-token.mjs', import.meta.url));

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('jwkProblems, against keys a verifier refuses (SPEC.md KEY1)', () => {
  const exponent3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey.export({
    format: 'jwk',
  });
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['key_ops beyond verify', { key_ops: ['verify', 'sign'] }, /key_ops/],
    ['a public exponent of 3', { n: exponent3.n, e: exponent3.e }, /\be\b.*exponent/],
    ['a non-minimal exponent', { e: 'AAEAAQ' }, /exponent/],
    ['ext that is not a boolean', { ext: 'yes' }, /ext/],
  ])('refuses %s', (_name, change, problem) => {
    const jwk = { ...good, ...change };
    expect(checkPublicJwk(jwk).ok).toBe(false);
    expect(jwkProblems(jwk).join('\n')).toMatch(problem);
  });

  it('still requires what a signer states beyond the policy: use, alg and the kid convention', () => {
    const { use: _use, alg: _alg, ...bare } = good as Record<string, unknown>;
    expect(checkPublicJwk(bare).ok).toBe(true);
    expect(jwkProblems(bare).join('\n')).toMatch(/use.*\n.*alg/);
    expect(jwkProblems(good)).toEqual([]);
  });
});

describe('runLiteChecks, against a JWKS a verifier would not load (SPEC.md JWKS1)', () => {
  it('fails `jwks reachable` for a JWKS behind a redirect, which a verifier does not follow', async () => {
    const body = JSON.stringify(vectorFile.jwks);
    server = createServer((req, res) => {
      if (req.url === '/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      else res.writeHead(302, { location: '/jwks.json' }).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const report = await runLiteChecks({
      jwksUrl: `${base}/.well-known/jwks.json`,
      tokenCommand: `node ${fixture}`,
      count: 1,
    });
    const reachable = report.checks.find((c) => c.name === 'jwks reachable');
    expect(reachable?.ok).toBe(false);
    expect(reachable?.got).toMatch(/HTTP 302/);
    expect(report.ok).toBe(false);
  }, 60_000);
});

describe('runLiteChecks, against tokens a verifier finds malformed', () => {
  it('fails `token command` for a signature segment with unused trailing bits set (SPEC.md T4)', async () => {
    const body = JSON.stringify(vectorFile.jwks);
    server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(body),
    );
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const report = await runLiteChecks({
      jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      tokenCommand: `node ${fixture} --non-canonical`,
      count: 2,
    });
    expect(report.checks.find((c) => c.name === 'token command')).toMatchObject({ ok: false });
    expect(report.ok).toBe(false);
  }, 60_000);

  const liteAgainst = async (flaw: string) => {
    const body = JSON.stringify(vectorFile.jwks);
    server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(body),
    );
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return runLiteChecks({
      jwksUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
      tokenCommand: `node ${fixture} --json-flaw=${flaw}`,
      count: 2,
    });
  };

  it.each([
    ['a lone surrogate', 'lone-surrogate', 'a string escapes a lone UTF-16 surrogate (SPEC.md J4)'],
    ['a duplicate claim', 'duplicate', 'a member name appears twice in one object (SPEC.md J5)'],
    ['a number overflowing a double', 'overflow', 'a number overflows a double (SPEC.md J6)'],
    ['nesting past 127', 'too-deep', 'objects and arrays nest deeper than 127 (SPEC.md J8)'],
  ])(
    'fails `token command` for claims holding %s, though correctly signed, naming the part and the rule',
    async (_name, flaw, problem) => {
      const report = await liteAgainst(flaw);
      expect(report.checks.find((c) => c.name === 'token command')).toMatchObject({
        ok: false,
        rule: 'T3 T4 J1-J8',
        got: `2 failed: not a token a verifier reads: the claims: ${problem}`,
      });
      // The checks that need a token say they could not run, not that the signer broke them too.
      const unchecked = report.checks.filter(
        (c) => !['jwks reachable', 'jwks key policy', 'token command'].includes(c.name),
      );
      expect(unchecked.map((c) => c.name)).toEqual([
        'header',
        'kid convention',
        'signature',
        'claims',
        'ttl',
        'issued now',
        'jti unique',
      ]);
      for (const check of unchecked) {
        expect(check).toMatchObject({ ok: false, got: expect.stringMatching(/^not checked: /) });
      }
      expect(report.ok).toBe(false);
    },
    60_000,
  );

  it('passes every check for claims re-signed the same way without a flaw (the control)', async () => {
    const report = await liteAgainst('harmless');
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  }, 60_000);
});
