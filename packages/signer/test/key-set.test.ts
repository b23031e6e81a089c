import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CLOCK_SKEW_SECONDS, MAX_TTL_SECONDS } from '@hyper/s2s-contracts';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createJwksHandler,
  createKeySet,
  JWKS_PATH,
  type KeySet,
  KeySetError,
  keySetFromDocument,
  keySetToDocument,
  kmsPublishedKey,
  type PublicJwk,
  type PublishableKey,
  parseKeySetDocument,
  SignerConfigError,
} from '../src/index.js';
import { captureLogger } from './helpers/capture-logger.js';
import { type KmsTestServer, keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { RSA_KEY } from './helpers/vectors.js';

const kms = useKmsTestServer();
let client: ReturnType<KmsTestServer['client']>;
beforeAll(() => {
  client = kms.client();
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serveJwks(keySet: KeySet): Promise<() => Promise<Response>> {
  const server = createServer(createJwksHandler(keySet));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${JWKS_PATH}`;
  return () => fetch(url);
}

/** A new RSA key version in the KMS test server, published under `kid`. */
function kmsVersion(kid: string, recheckSeconds = 60) {
  const name = keyVersionName();
  const { publicKeyPem } = kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
  const key = kmsPublishedKey({
    kid,
    keyVersionName: name,
    client,
    retryBackoffMs: 1,
    maxRetries: 1,
    recheckSeconds,
  });
  return { name, key, modulus: createPublicKey(publicKeyPem).export({ format: 'jwk' }).n };
}

const rsaPublic = createPublicKey(RSA_KEY.pkcs8Pem).export({ format: 'jwk' });
/** A key that publishes `jwk` (default: a valid RSA-2048 public JWK under `kid`). */
const staticKey = (kid: string, jwk?: object): PublishableKey => ({
  kid,
  publicJwk: async () =>
    (jwk as PublicJwk | undefined) ?? {
      kty: 'RSA',
      kid,
      alg: 'RS256',
      use: 'sig',
      n: rsaPublic.n!,
      e: rsaPublic.e!,
    },
});

// RSA key generation and the first gRPC connection are slow on a loaded machine.
describe('a published key set from KMS key versions', { timeout: 30_000 }, () => {
  it('publishes current, next and previous, each kid with its own key version public key', async () => {
    const [a, b, c] = [kmsVersion('lite-2026-10'), kmsVersion('lite-2026-11'), kmsVersion('lite-2026-12')];
    const keySet = createKeySet({
      current: b.key,
      next: c.key,
      previous: [{ key: a.key, retireAt: Date.now() + 60_000 }],
    });
    const res = await (await serveJwks(keySet))();
    expect(res.status).toBe(200);
    const { keys } = (await res.json()) as { keys: PublicJwk[] };
    expect(keys.map((k) => [k.kid, k.n])).toEqual([
      ['lite-2026-11', b.modulus],
      ['lite-2026-12', c.modulus],
      ['lite-2026-10', a.modulus],
    ]);
  });

  it('never publishes a disabled or destroyed version, and says 503 when nothing is left', async () => {
    const [a, b] = [kmsVersion('lite-2026-10', 0), kmsVersion('lite-2026-11', 0)];
    const get = await serveJwks(
      createKeySet({ current: b.key, previous: [{ key: a.key, retireAt: Date.now() + 60_000 }] }),
    );
    kms.server.setKeyState(a.name, 'DISABLED');
    expect(((await (await get()).json()) as { keys: PublicJwk[] }).keys.map((k) => k.kid)).toEqual([
      'lite-2026-11',
    ]);
    kms.server.setKeyState(a.name, 'DESTROYED');
    kms.server.setKeyState(b.name, 'DESTROY_SCHEDULED');
    const res = await get();
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'jwks_unavailable' });
  });

  it('answers 503 with no-store while KMS is down, and 200 again once it answers', async () => {
    const [a, b] = [kmsVersion('lite-2026-10', 0), kmsVersion('lite-2026-11', 0)];
    const get = await serveJwks(createKeySet({ current: b.key, next: a.key }));
    expect((await get()).status).toBe(200);
    // Down for every call until reset: a counted fault would leave the 200 to depend on how many
    // attempts the 503 happened to use (one version's failure answers before the other's retry).
    kms.server.setFaults({ unavailableTimes: Number.POSITIVE_INFINITY });
    const res = await get();
    expect(res.status).toBe(503);
    expect(res.headers.get('cache-control')).toBe('no-store');
    kms.server.resetFaults();
    expect((await get()).status).toBe(200);
  });

  it('answers 503, never a partial set, when one key cannot be read', async () => {
    const readable = kmsVersion('lite-2026-11', 0);
    const missing = kmsPublishedKey({
      kid: 'lite-2026-12',
      keyVersionName: keyVersionName(), // never added: NOT_FOUND
      client,
      recheckSeconds: 0,
    });
    const get = await serveJwks(createKeySet({ current: readable.key, next: missing }));
    const res = await get();
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'jwks_unavailable' });
  });

  it('refuses a public key whose CRC32C does not match (503)', async () => {
    const get = await serveJwks(createKeySet({ current: kmsVersion('lite-2026-11', 0).key }));
    kms.server.setFaults({ wrongPemCrc: true });
    expect((await get()).status).toBe(503);
  });

  it('serves many JWKS requests with a bounded number of KMS calls', async () => {
    const [a, b] = [kmsVersion('lite-2026-10'), kmsVersion('lite-2026-11')];
    const get = await serveJwks(createKeySet({ current: b.key, next: a.key }));
    const before = kms.server.calls;
    const statuses = await Promise.all(Array.from({ length: 50 }, async () => (await get()).status));
    expect(statuses.every((s) => s === 200)).toBe(true);
    // One GetCryptoKeyVersion and one GetPublicKey per version, shared by every request.
    expect(kms.server.calls.getPublicKey - before.getPublicKey).toBe(2);
    expect(kms.server.calls.getCryptoKeyVersion - before.getCryptoKeyVersion).toBe(2);
  });
});

describe('the JWKS-mode rotation timeline', () => {
  it('allows the switch only once verifier caches hold the next key, then keeps the previous key for propagation + TTL + skew', async () => {
    let now = Date.parse('2026-11-20T10:00:00Z');
    const keySet = createKeySet({
      current: staticKey('lite-2026-11'),
      maxAgeSeconds: 300,
      verifierCacheSeconds: 600,
      now: () => now,
    });
    const { switchNotBefore } = keySet.publishNext(staticKey('lite-2026-12'));
    expect(switchNotBefore - now).toBe(600_000);
    now += 599_000;
    expect(() => keySet.switchToNext()).toThrow(
      /verifier caches may not hold it until .*; switch then, or force it \(switchToNext\(\{ force: true \}\), CLI: rotation switch --force\)/,
    );
    now += 1000;
    const { retireAt } = keySet.switchToNext();
    expect(retireAt - now).toBe((300 + MAX_TTL_SECONDS + CLOCK_SKEW_SECONDS) * 1000);
    expect(keySet.current.kid).toBe('lite-2026-12');
    expect((await keySet.jwks()).keys.map((k) => k.kid)).toEqual(['lite-2026-12', 'lite-2026-11']);
    now = retireAt - 1;
    expect((await keySet.jwks()).keys).toHaveLength(2);
    now = retireAt;
    expect((await keySet.jwks()).keys.map((k) => k.kid)).toEqual(['lite-2026-12']);
  });

  it('retire(kid) removes a previous key at once; the current key cannot be retired', async () => {
    const keySet = createKeySet({
      current: staticKey('lite-2026-12'),
      previous: [{ key: staticKey('lite-2026-11'), retireAt: Date.now() + 600_000 }],
    });
    keySet.retire('lite-2026-11');
    expect((await keySet.jwks()).keys.map((k) => k.kid)).toEqual(['lite-2026-12']);
    expect(() => keySet.retire('lite-2026-12')).toThrow(KeySetError);
    expect(() => keySet.publishNext(staticKey('lite-2026-12'))).toThrow(/already in the key set/);
  });
});

describe('the key set document (kid <-> KMS key version)', { timeout: 30_000 }, () => {
  const version = (n: number) =>
    `projects/p/locations/global/keyRings/r/cryptoKeys/lite/cryptoKeyVersions/${n}`;

  it('round-trips through a key set, publishing each kid from its own version', async () => {
    const a = kmsVersion('lite-2026-11');
    const b = kmsVersion('lite-2026-12');
    const doc = parseKeySetDocument({
      maxAgeSeconds: 300,
      current: { kid: 'lite-2026-11', kmsKeyVersion: a.name },
      next: { kid: 'lite-2026-12', kmsKeyVersion: b.name, publishedAt: '2026-11-20T10:00:00.000Z' },
    });
    const keySet = keySetFromDocument(doc, { kms: { client } });
    const { keys } = await keySet.jwks();
    expect(keys.map((k) => [k.kid, k.n])).toEqual([
      ['lite-2026-11', a.modulus],
      ['lite-2026-12', b.modulus],
    ]);
    expect(keySetToDocument(keySet)).toMatchObject({ current: doc.current, next: doc.next, previous: [] });
  });

  it('refuses repeated kids or versions and malformed members, naming them', () => {
    const current = { kid: 'lite-2026-11', kmsKeyVersion: version(1) };
    expect(() =>
      parseKeySetDocument({
        current,
        next: { ...current, kid: 'lite-2026-12', publishedAt: '2026-11-01T00:00:00Z' },
      }),
    ).toThrow(/kmsKeyVersion .* appears twice/);
    expect(() => parseKeySetDocument({ current: { kid: 'k1', kmsKeyVersion: version(1) } })).toThrow(
      SignerConfigError,
    );
    expect(() =>
      parseKeySetDocument({
        current,
        previous: [{ kid: 'lite-2026-10', kmsKeyVersion: version(2), retireAt: 'soon' }],
      }),
    ).toThrow(/keySet.previous\[0\].retireAt/);
  });

  it.each(['maxAgeSeconds', 'verifierCacheSeconds', 'switchPropagationSeconds'])(
    'refuses a %s that is not an integer from 0 to 86400, in the shared integer wording',
    (name) => {
      const current = { kid: 'lite-2026-11', kmsKeyVersion: version(1) };
      for (const value of [-1, 1.5, 86_401, '60']) {
        const attempt = () => parseKeySetDocument({ current, [name]: value });
        expect(attempt).toThrow(SignerConfigError);
        expect(attempt).toThrow(
          expect.objectContaining({
            field: `keySet.${name}`,
            message: `keySet.${name}: must be an integer from 0 to 86400`,
          }) as Error,
        );
      }
      expect(parseKeySetDocument({ current, [name]: 86_400 })).toMatchObject({ [name]: 86_400 });
    },
  );
});

describe('what a key set publishes', () => {
  const privateRsa = createPrivateKey(RSA_KEY.pkcs8Pem).export({ format: 'jwk' });
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const withKid = (kid: string, jwk: object) => ({ ...jwk, kid, alg: 'RS256', use: 'sig' });

  it.each([
    [
      'private members (d, p, q, ...)',
      'lite-2026-03',
      withKid('lite-2026-03', privateRsa),
      /lite-2026-03: d: private member/,
    ],
    [
      'an oct (HMAC) key',
      'lite-2026-04',
      { kty: 'oct', kid: 'lite-2026-04', k: 'c2VjcmV0LXNlY3JldA' },
      /lite-2026-04: kty: symmetric/,
    ],
    ['RSA-1024', 'lite-2026-05', withKid('lite-2026-05', rsa1024), /lite-2026-05: n: RSA key of 1024 bits/],
    [
      'an alg its kty cannot sign',
      'lite-2026-06',
      { ...withKid('lite-2026-06', rsaPublic), alg: 'ES256' },
      /lite-2026-06: alg/,
    ],
  ])(
    'refuses the whole set (503) when a key carries %s, naming the kid and the rule, never the value',
    async (_name, kid, jwk, rule) => {
      const log = captureLogger();
      const keySet = createKeySet({ current: staticKey('lite-2026-11'), next: staticKey(kid, jwk) });
      const error = (await keySet.jwks().catch((e: unknown) => e)) as KeySetError;
      expect(error).toBeInstanceOf(KeySetError);
      expect(error.code).toBe('ERR_S2S_INVALID_KEY_SET');
      expect(error.message).toMatch(rule);
      const server = createServer(createJwksHandler(keySet, { logger: log.logger }));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${JWKS_PATH}`);
      expect(res.status).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(log.entries[0]!.obj).toMatchObject({
        event: 'jwks_unavailable',
        error: expect.stringMatching(rule),
      });
      const logged = JSON.stringify(log.entries);
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const) {
        const value = (jwk as Record<string, unknown>)[member];
        if (typeof value === 'string') expect(logged).not.toContain(value);
      }
    },
  );

  it('refuses a key whose kid breaks the lite-YYYY-MM convention', async () => {
    const keySet = createKeySet({ current: staticKey('prod-key-1') });
    await expect(keySet.jwks()).rejects.toThrow(/prod-key-1.*lite-YYYY-MM/);
  });

  it('checks the keys once: while they stay the same, every request gets the same frozen document', async () => {
    // staticKey builds a new JWK object on every read, as a KMS key hands out copies.
    const keySet = createKeySet({ current: staticKey('lite-2026-11'), next: staticKey('lite-2026-12') });
    const first = await keySet.jwks();
    expect(first.keys.map((k) => k.kid)).toEqual(['lite-2026-11', 'lite-2026-12']);
    expect(await keySet.jwks()).toBe(first);
    // Shared between requests, so nobody can edit what the next request publishes.
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.keys)).toBe(true);
    expect(Object.isFrozen(first.keys[0])).toBe(true);
    const get = await serveJwks(keySet);
    const [a, b] = [await get(), await get()];
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await a.text()).toBe(JSON.stringify(first));
    expect(await b.text()).toBe(JSON.stringify(first));
  });

  it('checks a changed key list again: a bad key published later is refused on every request', async () => {
    const keySet = createKeySet({ current: staticKey('lite-2026-11') });
    const good = await keySet.jwks();
    keySet.publishNext(staticKey('lite-2026-12', withKid('lite-2026-12', privateRsa)));
    await expect(keySet.jwks()).rejects.toThrow(/lite-2026-12: d: private member/);
    await expect(keySet.jwks()).rejects.toThrow(/lite-2026-12: d: private member/);
    keySet.retire('lite-2026-12');
    expect(await keySet.jwks()).toBe(good);
    keySet.publishNext(staticKey('lite-2026-12'));
    const both = await keySet.jwks();
    expect(both).not.toBe(good);
    expect(both.keys.map((k) => k.kid)).toEqual(['lite-2026-11', 'lite-2026-12']);
  });
});

describe('createKeySet({ nextPublishedAt })', () => {
  it.each([
    ['NaN (Date.parse of a bad string)', Number.NaN],
    ['an ISO string', '2026-11-20T10:00:00Z'],
    ['a fractional number', 1.5],
    ['a negative number', -1],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])(
    'refuses nextPublishedAt %s at startup, naming it, so the switch guard cannot be turned off',
    (_name, value) => {
      const attempt = () =>
        createKeySet({
          current: staticKey('lite-2026-11'),
          next: staticKey('lite-2026-12'),
          nextPublishedAt: value as number,
        });
      expect(attempt).toThrow(SignerConfigError);
      expect(attempt).toThrow(expect.objectContaining({ field: 'keySet.nextPublishedAt' }) as Error);
    },
  );
});
