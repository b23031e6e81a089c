import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSigner, SignerConfigError, type SignerOptions } from '../src/index.js';
import { kmsLoadedAfter, packageDir } from './helpers/kms-probe.js';
import { AUDIENCE, EC_KEY, ISSUER, RSA_KEY, SUBJECT } from './helpers/vectors.js';

const pemKey = { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid };
const kmsName = 'projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
const fakeClient = { asymmetricSign: async () => [{}] as const, getPublicKey: async () => [{}] as const };
const base: SignerOptions = { key: pemKey, issuer: ISSUER, subject: SUBJECT, audience: AUDIENCE };

const pkcs8 = (key: { export(o: object): string | Buffer }) =>
  key.export({ format: 'pem', type: 'pkcs8' }) as string;
const rsa1024 = pkcs8(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
const p384 = pkcs8(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey);
const ed25519 = pkcs8(generateKeyPairSync('ed25519').privateKey);
const rsaPss = pkcs8(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey);
const rsaPublic = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
  format: 'pem',
  type: 'spki',
}) as string;
const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
  cipher: 'aes-256-cbc',
  passphrase: 'secret',
}) as string;

type Case = [name: string, field: string, options: unknown, message?: RegExp];

const cases: Case[] = [
  ['options that are not an object', 'options', null],
  ['a missing issuer', 'issuer', { ...base, issuer: undefined }],
  ['an empty issuer', 'issuer', { ...base, issuer: '' }],
  ['a non-string issuer', 'issuer', { ...base, issuer: 42 }],
  ['an empty subject', 'subject', { ...base, subject: '' }],
  ['a missing audience', 'audience', { ...base, audience: undefined }],
  [
    'ttlSeconds above 300',
    'ttlSeconds',
    { ...base, ttlSeconds: 301 },
    /^ttlSeconds: must be an integer from 1 to 300$/,
  ],
  ['ttlSeconds below 1', 'ttlSeconds', { ...base, ttlSeconds: 0 }],
  ['a negative ttlSeconds', 'ttlSeconds', { ...base, ttlSeconds: -60 }],
  ['a fractional ttlSeconds', 'ttlSeconds', { ...base, ttlSeconds: 1.5 }],
  ['a string ttlSeconds', 'ttlSeconds', { ...base, ttlSeconds: '60' }],
  ['a NaN ttlSeconds', 'ttlSeconds', { ...base, ttlSeconds: Number.NaN }],
  ['a now that is not a function', 'now', { ...base, now: 1 }],
  ['a jti that is not a function', 'jti', { ...base, jti: 'fixed' }],
  ['a logger without warn', 'logger', { ...base, logger: { info() {} } }],
  ['a missing key', 'key', { ...base, key: undefined }],
  ['a key with both a PEM and KMS', 'key', { ...base, key: { ...pemKey, kms: { keyVersionName: kmsName } } }],
  ['a key with neither a PEM nor KMS', 'key', { ...base, key: { kid: RSA_KEY.kid } }],
  ['a missing kid', 'key.kid', { ...base, key: { privateKeyPem: RSA_KEY.pkcs8Pem } }],
  [
    'a kid outside lite-YYYY-MM',
    'key.kid',
    { ...base, key: { ...pemKey, kid: 'prod-key-1' } },
    /lite-YYYY-MM/,
  ],
  ['a kid with month 13', 'key.kid', { ...base, key: { ...pemKey, kid: 'lite-2026-13' } }],
  ['a kid with a two-digit year', 'key.kid', { ...base, key: { ...pemKey, kid: 'lite-26-03' } }],
  ['an upper-case kid', 'key.kid', { ...base, key: { ...pemKey, kid: 'LITE-2026-03' } }],
  [
    'a shared secret in place of a PEM (HS256)',
    'key.privateKeyPem',
    { ...base, key: { ...pemKey, privateKeyPem: 'super-secret-hmac-key' } },
    /HMAC/,
  ],
  [
    'a secret KeyObject (HMAC)',
    'key.privateKeyPem',
    { ...base, key: { ...pemKey, privateKeyPem: createSecretKey(Buffer.alloc(32, 1)) } },
    /HMAC/,
  ],
  [
    'a file path in place of the PEM text',
    'key.privateKeyPem',
    { ...base, key: { ...pemKey, privateKeyPem: './lite-2026-07.pem' } },
    /not a file path/,
  ],
  ['an empty PEM', 'key.privateKeyPem', { ...base, key: { ...pemKey, privateKeyPem: '' } }],
  [
    'a public key PEM',
    'key.privateKeyPem',
    { ...base, key: { ...pemKey, privateKeyPem: rsaPublic } },
    /public key/,
  ],
  [
    'a garbled PEM',
    'key.privateKeyPem',
    {
      ...base,
      key: { ...pemKey, privateKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' },
    },
  ],
  ['an encrypted PEM', 'key.privateKeyPem', { ...base, key: { ...pemKey, privateKeyPem: encrypted } }],
  [
    'an RSA key under 2048 bits',
    'key.privateKeyPem',
    { ...base, key: { ...pemKey, privateKeyPem: rsa1024 } },
    /1024 bits/,
  ],
  ['an EC key on P-384', 'key.privateKeyPem', { ...base, key: { ...pemKey, privateKeyPem: p384 } }, /P-256/],
  ['an Ed25519 key', 'key.privateKeyPem', { ...base, key: { ...pemKey, privateKeyPem: ed25519 } }],
  ['an RSA-PSS key', 'key.privateKeyPem', { ...base, key: { ...pemKey, privateKeyPem: rsaPss } }],
  ['alg HS256', 'key.alg', { ...base, key: { ...pemKey, alg: 'HS256' } }],
  ['alg none', 'key.alg', { ...base, key: { ...pemKey, alg: 'none' } }],
  ['alg ES256 on an RSA key', 'key.alg', { ...base, key: { ...pemKey, alg: 'ES256' } }],
  [
    'alg RS256 on a P-256 key',
    'key.alg',
    { ...base, key: { privateKeyPem: EC_KEY.pkcs8Pem, kid: EC_KEY.kid, alg: 'RS256' } },
  ],
  [
    'alg HS256 on a KMS key',
    'key.alg',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient }, kid: RSA_KEY.kid, alg: 'HS256' },
    },
  ],
  [
    'a short KMS key name',
    'key.kms.keyVersionName',
    { ...base, key: { kms: { keyVersionName: 'projects/p/keys/k' }, kid: RSA_KEY.kid } },
  ],
  [
    'a KMS crypto key without a version',
    'key.kms.keyVersionName',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName.replace(/\/cryptoKeyVersions\/1$/, '') }, kid: RSA_KEY.kid },
    },
  ],
  [
    'a KMS client without asymmetricSign',
    'key.kms.client',
    { ...base, key: { kms: { keyVersionName: kmsName, client: {} }, kid: RSA_KEY.kid } },
  ],
  [
    'a zero KMS deadline',
    'key.kms.deadlineMs',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient, deadlineMs: 0 }, kid: RSA_KEY.kid },
    },
  ],
  [
    'a KMS deadline above a minute',
    'key.kms.deadlineMs',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient, deadlineMs: 600_000 }, kid: RSA_KEY.kid },
    },
  ],
  [
    'unbounded KMS retries',
    'key.kms.maxRetries',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient, maxRetries: 11 }, kid: RSA_KEY.kid },
    },
  ],
  [
    'a negative KMS backoff',
    'key.kms.retryBackoffMs',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient, retryBackoffMs: -1 }, kid: RSA_KEY.kid },
    },
  ],
  ['prefetch on a PEM key', 'prefetch', { ...base, prefetch: { size: 4, maxAgeSeconds: 10 } }, /KMS/],
  [
    'a prefetch size of 0',
    'prefetch.size',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient }, kid: RSA_KEY.kid },
      prefetch: { size: 0, maxAgeSeconds: 10 },
    },
  ],
  [
    'a prefetch maxAge that leaves no life',
    'prefetch.maxAgeSeconds',
    {
      ...base,
      key: { kms: { keyVersionName: kmsName, client: fakeClient }, kid: RSA_KEY.kid },
      ttlSeconds: 60,
      prefetch: { size: 4, maxAgeSeconds: 60 },
    },
  ],
];

describe('createSigner validates its configuration at startup', () => {
  it.each(cases)('refuses %s with a SignerConfigError naming %s', (_name, field, options, message) => {
    let error: unknown;
    try {
      createSigner(options as SignerOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SignerConfigError);
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_CONFIG', field });
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
    if (message) expect((error as Error).message).toMatch(message);
  });

  it('never quotes key material in an error', () => {
    for (const privateKeyPem of [rsa1024, encrypted, `${RSA_KEY.pkcs8Pem.slice(0, 200)}garbage`]) {
      let error: unknown;
      try {
        createSigner({ ...base, key: { ...pemKey, privateKeyPem } });
      } catch (e) {
        error = e;
      }
      // Outside the try: a signer that accepted the key must fail here, not be swallowed by a catch.
      expect(error).toBeInstanceOf(SignerConfigError);
      const body = privateKeyPem.split('\n')[1]!;
      expect((error as Error).message).not.toContain(body);
      expect(String((error as Error).stack)).not.toContain(body);
      expect(String((error as Error).cause ?? '')).not.toContain(body);
    }
  });

  it.each([
    ['ttlSeconds 1', { ttlSeconds: 1 }],
    ['ttlSeconds 300', { ttlSeconds: 300 }],
    [
      'an RSA-3072 key',
      {
        key: {
          privateKeyPem: pkcs8(generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey),
          kid: 'lite-2027-01',
        },
      },
    ],
    ['a P-256 key (ES256 inferred)', { key: { privateKeyPem: EC_KEY.pkcs8Pem, kid: EC_KEY.kid } }],
    ['an explicit matching alg', { key: { ...pemKey, alg: 'RS256' } }],
    [
      'a KMS key with a client',
      { key: { kms: { keyVersionName: kmsName, client: fakeClient }, kid: RSA_KEY.kid } },
    ],
  ] as const)('accepts %s', (_name, overrides) => {
    expect(() => createSigner({ ...base, ...overrides } as SignerOptions)).not.toThrow();
  });

  it('accepts a KMS key without a client and does not load @google-cloud/kms until it is used', () => {
    const signer = createSigner({ ...base, key: { kms: { keyVersionName: kmsName }, kid: RSA_KEY.kid } });
    expect(signer.alg).toBe('RS256');
    // In a fresh process: this file's own imports must not mask (or fake) a load.
    const index = JSON.stringify(join(packageDir, 'src', 'index.ts'));
    const options = `{ key: { kms: { keyVersionName: ${JSON.stringify(kmsName)} }, kid: ${JSON.stringify(RSA_KEY.kid)} }, issuer: 'i', subject: 's', audience: 'a' }`;
    expect(
      kmsLoadedAfter(`const { createSigner } = await import(${index}); createSigner(${options});`, {
        source: true,
      }),
    ).toBe(false);
  }, 60_000);
});
