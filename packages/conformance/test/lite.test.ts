import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createSigner } from '@hyper/s2s-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwkProblems, runLiteChecks, vectorFile } from '../src/index.js';

const fixture = fileURLToPath(new URL('./fixtures/sign-token.mjs', import.meta.url));
const key = vectorFile.testPrivateKeys.keys.find((k) => k.kid === 'lite-2026-03')!;
let jwksUrl: string;
let close: () => void;

beforeAll(async () => {
  // The signer's own JWKS output, served as Lite would serve it.
  const signer = createSigner({
    key: { privateKeyPem: key.pkcs8Pem, kid: key.kid },
    issuer: 'hyper-lite',
    subject: 'hyper-lite-gateway',
    audience: 'hyper-core',
  });
  const body = JSON.stringify(await signer.jwks());
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(body),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  close = () => server.close();
});
afterAll(() => close());

describe('hyper-s2s-conformance lite', () => {
  it('passes every check against our own signer', async () => {
    const report = await runLiteChecks({ jwksUrl, tokenCommand: `node ${fixture}`, count: 3 });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'jwks key policy',
        'header',
        'kid convention',
        'signature',
        'claims',
        'ttl',
        'jti unique',
      ]),
    );
    expect(report.ok).toBe(true);
  }, 60_000);

  it('catches a signer reusing jtis with the jti unique check, and only that', async () => {
    const report = await runLiteChecks({ jwksUrl, tokenCommand: `node ${fixture} --reuse-jti`, count: 3 });
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['jti unique']);
    expect(report.ok).toBe(false);
  }, 60_000);

  it('counts one token in the singular', async () => {
    const report = await runLiteChecks({ jwksUrl, tokenCommand: `node ${fixture}`, count: 1 });
    const row = report.checks.find((c) => c.name === 'token command')!;
    expect([row.expected, row.got]).toEqual(['1 compact JWT', '1 token']);
  }, 60_000);

  it('never puts a token in the report', async () => {
    const report = await runLiteChecks({ jwksUrl, tokenCommand: `node ${fixture}`, count: 2 });
    expect(JSON.stringify(report)).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  }, 60_000);

  it.each([
    ['a private member', { d: 'x' }, /private member d/],
    ['a short kid', { kid: 'k1' }, /lite-YYYY-MM/],
    ['use enc', { use: 'enc' }, /use/],
    ['key_ops without verify', { key_ops: ['sign'] }, /key_ops/],
  ])('the key policy refuses %s', (_name, change, problem) => {
    const jwk = { ...vectorFile.jwks.keys[0]!, ...change };
    expect(jwkProblems(jwk).join('\n')).toMatch(problem);
    expect(jwkProblems(vectorFile.jwks.keys[0]!)).toEqual([]);
  });
});
