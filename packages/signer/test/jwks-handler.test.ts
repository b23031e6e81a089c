import { createPrivateKey, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PRIVATE_JWK_MEMBERS } from '@hyper/s2s-contracts';
import * as jose from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { unhandledRejectionsDuring } from '../../../test-support/unhandled-rejections.js';
import {
  createJwksHandler,
  createSigner,
  DEFAULT_JWKS_MAX_AGE_SECONDS,
  JWKS_PATH,
  type Signer,
  SignerConfigError,
} from '../src/index.js';
import { captureLogger } from './helpers/capture-logger.js';
import { keyVersionName, startKmsTestServer } from './helpers/kms-server.js';
import { AUDIENCE, EC_KEY, ISSUER, RSA_KEY, SUBJECT } from './helpers/vectors.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const pemSigner = (): Signer =>
  createSigner({
    key: { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
  });

describe('JWKS handler at /.well-known/jwks.json', () => {
  it('serves the public JWKS with Cache-Control and a JWK Set media type', async () => {
    const signer = pemSigner();
    const base = await serve(createJwksHandler(signer));
    const res = await fetch(`${base}${JWKS_PATH}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe(`public, max-age=${DEFAULT_JWKS_MAX_AGE_SECONDS}`);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    const body = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(body).toEqual(await signer.jwks());
    for (const member of PRIVATE_JWK_MEMBERS) expect(body.keys[0]).not.toHaveProperty(member);
  });

  it.each([
    [
      'a publishable key (no jwks())',
      () => createJwksHandler({ kid: RSA_KEY.kid, publicJwk: async () => undefined } as never),
      'source',
    ],
    ['no source', () => createJwksHandler(undefined as never), 'source'],
    [
      'a path without its leading slash',
      () => createJwksHandler(pemSigner(), { path: '.well-known/jwks.json' }),
      'path',
    ],
  ])('refuses %s at construction with the typed config error', (_name, attempt, field) => {
    expect(attempt).toThrow(expect.objectContaining({ code: 'ERR_S2S_INVALID_CONFIG', field }));
  });

  it.each([-1, 1.5, Number.NaN])('refuses maxAgeSeconds %s with the typed config error', (maxAgeSeconds) => {
    const attempt = () => createJwksHandler(pemSigner(), { maxAgeSeconds });
    expect(attempt).toThrow(SignerConfigError);
    expect(attempt).toThrow(
      expect.objectContaining({
        code: 'ERR_S2S_INVALID_CONFIG',
        field: 'maxAgeSeconds',
        message: 'maxAgeSeconds: must be an integer of at least 0',
      }) as Error,
    );
  });

  it('explains a 503 on stderr when no logger is given', async () => {
    const failing = { jwks: () => Promise.reject(new Error('KMS down')) };
    const lines: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      const base = await serve(createJwksHandler(failing));
      expect((await fetch(`${base}${JWKS_PATH}`)).status).toBe(503);
    } finally {
      process.stderr.write = write;
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'warn', event: 'jwks_unavailable', error: 'KMS down' }),
    ]);
  });

  it('answers 503 and leaves no unhandled rejection when the key source fails and the logger throws', async () => {
    let calls = 0;
    const failing = { jwks: () => Promise.reject(new Error('KMS down')) };
    const logger = {
      info: () => undefined,
      warn: () => {
        calls++;
        throw new Error('log sink closed');
      },
    };
    const unhandled = await unhandledRejectionsDuring(async () => {
      const base = await serve(createJwksHandler(failing, { logger }));
      expect((await fetch(`${base}${JWKS_PATH}`)).status).toBe(503);
    });
    expect(calls).toBe(1);
    expect(unhandled).toEqual([]);
  });

  it('lets jose createRemoteJWKSet verify the signer tokens', async () => {
    const signer = pemSigner();
    const base = await serve(createJwksHandler(signer, { maxAgeSeconds: 60 }));
    const token = await signer.sign({ scope: 'spaces:create' });
    const { payload } = await jose.jwtVerify(token, jose.createRemoteJWKSet(new URL(`${base}${JWKS_PATH}`)), {
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(payload.scope).toBe('spaces:create');
  });

  it('answers HEAD without a body, 405 for other methods, 404 elsewhere; ignores the query string', async () => {
    const base = await serve(createJwksHandler(pemSigner()));
    const head = await fetch(`${base}${JWKS_PATH}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(`${base}${JWKS_PATH}`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(`${base}/jwks.json`)).status).toBe(404);
    expect((await fetch(`${base}${JWKS_PATH}?v=2`)).status).toBe(200);
  });

  it('passes other paths to next() when mounted as middleware', async () => {
    const handler = createJwksHandler(pemSigner());
    const base = await serve((req, res) => handler(req, res, () => res.writeHead(418).end()));
    expect((await fetch(`${base}/other`)).status).toBe(418);
    expect((await fetch(`${base}${JWKS_PATH}`)).status).toBe(200);
  });

  it('fails closed with 503 and no-store when the KMS public key cannot be read', async () => {
    const kms = await startKmsTestServer();
    try {
      const name = keyVersionName();
      kms.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
      const signer = createSigner({
        key: { kms: { keyVersionName: name, client: kms.client(), maxRetries: 0 }, kid: 'lite-2026-03' },
        issuer: ISSUER,
        subject: SUBJECT,
        audience: AUDIENCE,
      });
      const log = captureLogger();
      const base = await serve(createJwksHandler(signer, { logger: log.logger }));
      kms.setFaults({ wrongPemCrc: true });
      const res = await fetch(`${base}${JWKS_PATH}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'jwks_unavailable' });
      expect(log.entries[0]!.obj).toMatchObject({ event: 'jwks_unavailable' });
      kms.resetFaults();
      const recovered = await fetch(`${base}${JWKS_PATH}`);
      expect(recovered.status).toBe(200);
      expect(((await recovered.json()) as { keys: unknown[] }).keys).toHaveLength(1);
      await signer.close();
    } finally {
      await kms.close();
    }
  });
});

describe('JWKS handler: what any key source may publish', () => {
  const publicJwk = (pem: string, kid: string) => ({
    ...createPublicKey(pem).export({ format: 'jwk' }),
    kid,
    use: 'sig',
  });
  const rsa = publicJwk(RSA_KEY.pkcs8Pem, 'lite-2026-03');
  const ec = publicJwk(EC_KEY.pkcs8Pem, 'lite-2026-05');
  const privateRsa = { ...createPrivateKey(RSA_KEY.pkcs8Pem).export({ format: 'jwk' }), kid: 'lite-2026-03' };

  it.each([
    ['a key with private members', [privateRsa, ec], /lite-2026-03: d: private member/],
    [
      'an oct (HMAC) key',
      [rsa, { kty: 'oct', kid: 'lite-2026-04', k: 'c2VjcmV0LXNlY3JldA' }],
      /lite-2026-04: kty/,
    ],
    ['a repeated kid', [rsa, { ...ec, kid: 'lite-2026-03' }], /lite-2026-03: duplicate kid/],
    ['a kid outside lite-YYYY-MM', [{ ...rsa, kid: 'prod-key-1' }], /prod-key-1.*lite-YYYY-MM/],
  ])(
    'answers 503 for a set holding %s, logging the kid and the rule, never the value',
    async (_name, keys, rule) => {
      const log = captureLogger();
      const source = { jwks: async () => ({ keys }) as never };
      const base = await serve(createJwksHandler(source, { logger: log.logger }));
      const res = await fetch(`${base}${JWKS_PATH}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ error: 'jwks_unavailable' });
      expect(log.entries).toHaveLength(1);
      expect(log.entries[0]!.obj.error).toMatch(rule);
      const logged = JSON.stringify(log.entries);
      for (const member of [...PRIVATE_JWK_MEMBERS, 'n'] as const) {
        for (const key of keys as Record<string, unknown>[]) {
          if (typeof key[member] === 'string') expect(logged).not.toContain(key[member]);
        }
      }
    },
  );

  it('judges the document it serves: a source whose toJSON writes private members gets 503, never its JSON', async () => {
    const source = {
      jwks: async () => ({ keys: [rsa], toJSON: () => ({ keys: [privateRsa] }) }) as never,
    };
    const base = await serve(createJwksHandler(source));
    const res = await fetch(`${base}${JWKS_PATH}`);
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain(privateRsa.d!);
  });

  it('checks each new key list: a source that turns bad after serving good keys gets 503, then 200 again', async () => {
    let keys: unknown[] = [rsa];
    // A new document on every call, as signer.jwks() gives.
    const source = { jwks: async () => ({ keys: keys.map((k) => ({ ...(k as object) })) }) as never };
    const base = await serve(createJwksHandler(source));
    const body = async () => {
      const res = await fetch(`${base}${JWKS_PATH}`);
      return [res.status, await res.text()];
    };
    const good = await body();
    expect(good[0]).toBe(200);
    expect(await body()).toEqual(good);
    keys = [privateRsa, ec];
    expect((await body())[0]).toBe(503);
    expect((await body())[0]).toBe(503);
    keys = [rsa];
    expect(await body()).toEqual(good);
  });

  it.each([
    [
      'throws synchronously',
      () => {
        throw new Error('key source not ready');
      },
    ],
    ['returns a JWKS instead of a promise', () => ({ keys: [rsa] })],
    ['returns undefined', () => undefined],
  ])('answers 503, and the process stays up, when jwks() %s', async (_name, jwks) => {
    const unhandled = await unhandledRejectionsDuring(async () => {
      const base = await serve(createJwksHandler({ jwks } as never));
      const res = await fetch(`${base}${JWKS_PATH}`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: 'jwks_unavailable' });
    });
    expect(unhandled).toEqual([]);
  });
});
