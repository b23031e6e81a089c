import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { VerifierConfigError } from '../src/errors.js';
import type { VerifierOptions } from '../src/options.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { startJwksServer } from './harness/jwks-server.js';
import { file } from './harness/vectors.js';

const rsa = file.jwks.keys.find((key) => key.kid === 'lite-2026-03') as JWK;
const ec = file.jwks.keys.find((key) => key.kid === 'lite-2026-05') as JWK;
const privatePem = file.testPrivateKeys.keys.find((key) => key.kid === 'lite-2026-03')?.pkcs8Pem ?? '';
const privateRsa = { ...createPrivateKey(privatePem).export({ format: 'jwk' }), kid: 'lite-2026-03' } as JWK;
const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
  format: 'jwk',
}) as JWK;
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }) as JWK;

const valid = (): Record<string, unknown> => ({
  keys: { jwks: { keys: [rsa] } },
  audience: 'hyper-core',
  issuers: ['hyper-lite'],
  replayStore: memoryReplayStore(),
});

function configError(options: unknown): VerifierConfigError {
  try {
    createVerifier(options as VerifierOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(VerifierConfigError);
    expect((error as VerifierConfigError).code).toBe('ERR_S2S_VERIFIER_CONFIG');
    return error as VerifierConfigError;
  }
  throw new Error('expected a VerifierConfigError');
}

const withKeys = (keys: unknown) => ({ ...valid(), keys });
const withJwks = (...keys: unknown[]) => withKeys({ jwks: { keys } });
const without = (field: string) => {
  const options = valid();
  delete options[field];
  return options;
};

describe('createVerifier refuses configuration it cannot run safely, naming the field', () => {
  it.each<[string, unknown, string]>([
    ['no options at all', undefined, 'options'],
    ['an unknown option (typo or an "open" switch)', { ...valid(), open: true }, 'open'],
    ['no keys', without('keys'), 'keys'],
    ['keys with neither jwksUrl nor jwks', withKeys({}), 'keys'],
    [
      'keys with both jwksUrl and jwks',
      withKeys({ jwksUrl: 'https://a.example/jwks', jwks: { keys: [rsa] } }),
      'keys',
    ],
    [
      'an unknown remote option',
      withKeys({ jwksUrl: 'https://a.example/jwks', headers: {} }),
      'keys.headers',
    ],
    ['a jwksUrl that is not a URL', withKeys({ jwksUrl: 'not a url' }), 'keys.jwksUrl'],
    [
      'a plain-http jwksUrl on a public host',
      withKeys({ jwksUrl: 'http://jwks.example.com/keys' }),
      'keys.jwksUrl',
    ],
    ['a jwksUrl with another scheme', withKeys({ jwksUrl: 'ftp://jwks.example.com/keys' }), 'keys.jwksUrl'],
    [
      'a jwksUrl with credentials (fetch refuses it)',
      withKeys({ jwksUrl: 'https://ops:hunter2@jwks.example.com/keys' }),
      'keys.jwksUrl',
    ],
    [
      'a loopback jwksUrl with a user name',
      withKeys({ jwksUrl: 'http://ops@127.0.0.1:8081/keys' }),
      'keys.jwksUrl',
    ],
    ['a zero fetch timeout', withKeys({ jwksUrl: 'https://a.example/jwks', timeoutMs: 0 }), 'keys.timeoutMs'],
    [
      'an unbounded fetch timeout',
      withKeys({ jwksUrl: 'https://a.example/jwks', timeoutMs: 600_000 }),
      'keys.timeoutMs',
    ],
    [
      'a fractional fetch timeout',
      withKeys({ jwksUrl: 'https://a.example/jwks', timeoutMs: 1.5 }),
      'keys.timeoutMs',
    ],
    [
      'a cache max age over a day',
      withKeys({ jwksUrl: 'https://a.example/jwks', cacheMaxAgeMs: 86_400_001 }),
      'keys.cacheMaxAgeMs',
    ],
    [
      'a negative cooldown',
      withKeys({ jwksUrl: 'https://a.example/jwks', cooldownMs: -1 }),
      'keys.cooldownMs',
    ],
    [
      // Below the floor every unknown kid (attacker-chosen) would become a JWKS fetch.
      'a zero cooldown',
      withKeys({ jwksUrl: 'https://a.example/jwks', cooldownMs: 0 }),
      'keys.cooldownMs',
    ],
    [
      'a cooldown just below the 1000 ms floor',
      withKeys({ jwksUrl: 'https://a.example/jwks', cooldownMs: 999 }),
      'keys.cooldownMs',
    ],
    [
      'a string backoff',
      withKeys({ jwksUrl: 'https://a.example/jwks', failureBackoffMs: '10' }),
      'keys.failureBackoffMs',
    ],
    ['a keyset that is not { keys: [] }', withKeys({ jwks: [rsa] }), 'keys.jwks.keys'],
    ['an empty keyset', withJwks(), 'keys.jwks.keys'],
    ['a key with private members', withJwks(privateRsa), 'keys.jwks.keys[0].d'],
    ['an RSA key under 2048 bits', withJwks({ ...weakRsa, kid: 'weak' }), 'keys.jwks.keys[0].n'],
    // SPEC KEY1 step 13: with e = 1 anyone can sign for the key.
    ['an RSA key with public exponent 1', withJwks({ ...rsa, e: 'AQ' }), 'keys.jwks.keys[0].e'],
    ['an RSA key with public exponent 3', withJwks({ ...rsa, e: 'Aw' }), 'keys.jwks.keys[0].e'],
    ['a symmetric key', withJwks({ kty: 'oct', kid: 'hmac', alg: 'HS256' }), 'keys.jwks.keys[0].kty'],
    ['an RSA key declaring ES256', withJwks({ ...rsa, alg: 'ES256' }), 'keys.jwks.keys[0].alg'],
    ['an RSA key declaring RS512', withJwks({ ...rsa, alg: 'RS512' }), 'keys.jwks.keys[0].alg'],
    ['an EC key on P-384', withJwks({ ...p384, kid: 'p384' }), 'keys.jwks.keys[0].crv'],
    ['an encryption key', withJwks({ ...rsa, use: 'enc' }), 'keys.jwks.keys[0].use'],
    ['key_ops without verify', withJwks({ ...rsa, key_ops: ['encrypt'] }), 'keys.jwks.keys[0].key_ops'],
    ['a key without kid', withJwks({ ...rsa, kid: undefined }), 'keys.jwks.keys[0].kid'],
    // 40 characters, 80 UTF-8 bytes: no token header could name it (SPEC.md H2, KEY3).
    ['a kid over 64 UTF-8 bytes', withJwks({ ...rsa, kid: '\u00e9'.repeat(40) }), 'keys.jwks.keys[0].kid'],
    ['broken key material', withJwks({ ...rsa, n: 'AQAB' }), 'keys.jwks.keys[0].n'],
    ['two keys with one kid', withJwks(rsa, { ...ec, kid: rsa.kid }), 'keys.jwks.keys[1].kid'],
    ['no audience', without('audience'), 'audience'],
    ['an empty audience', { ...valid(), audience: '' }, 'audience'],
    ['a blank audience', { ...valid(), audience: '  ' }, 'audience'],
    ['an audience padded with whitespace', { ...valid(), audience: 'hyper-core ' }, 'audience'],
    ['no issuers', without('issuers'), 'issuers'],
    ['issuers as a string', { ...valid(), issuers: 'hyper-lite' }, 'issuers'],
    ['an empty issuer list', { ...valid(), issuers: [] }, 'issuers'],
    ['an empty issuer', { ...valid(), issuers: ['hyper-lite', ''] }, 'issuers'],
    ['a blank issuer', { ...valid(), issuers: ['hyper-lite', ' \t'] }, 'issuers'],
    ['an issuer padded with whitespace', { ...valid(), issuers: [' hyper-lite'] }, 'issuers'],
    ['an issuer over 256 UTF-8 bytes', { ...valid(), issuers: ['\u00e9'.repeat(129)] }, 'issuers'],
    ['an issuer with U+0000', { ...valid(), issuers: ['hyper-lite\u0000'] }, 'issuers'],
    ['an empty algorithm list', { ...valid(), algorithms: [] }, 'algorithms'],
    ['HS256', { ...valid(), algorithms: ['RS256', 'HS256'] }, 'algorithms'],
    ['none', { ...valid(), algorithms: ['none'] }, 'algorithms'],
    ['RS512', { ...valid(), algorithms: ['RS512'] }, 'algorithms'],
    ['algorithms as a string', { ...valid(), algorithms: 'RS256' }, 'algorithms'],
    ['no replay store', without('replayStore'), 'replayStore'],
    ['a replay store without remember', { ...valid(), replayStore: { purge: async () => 0 } }, 'replayStore'],
    [
      'a clock tolerance above the contract',
      { ...valid(), clockToleranceSeconds: 61 },
      'clockToleranceSeconds',
    ],
    ['a negative clock tolerance', { ...valid(), clockToleranceSeconds: -1 }, 'clockToleranceSeconds'],
    ['a max TTL above the contract', { ...valid(), maxTtlSeconds: 301 }, 'maxTtlSeconds'],
    ['a zero max TTL', { ...valid(), maxTtlSeconds: 0 }, 'maxTtlSeconds'],
    ['a zero replay timeout', { ...valid(), replayTimeoutMs: 0 }, 'replayTimeoutMs'],
    ['a clock that is not a function', { ...valid(), now: 1773360000000 }, 'now'],
    ['metrics without increment', { ...valid(), metrics: { inc: () => undefined } }, 'metrics'],
    ['a logger without warn', { ...valid(), logger: { info: () => undefined } }, 'logger'],
  ])('%s', (_name, options, field) => {
    const error = configError(options);
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a misspelt option', { ...valid(), audiance: 'hyper-core' }, 'audiance', 'is not a verifier option'],
    [
      'a JWKS URL setting beside a static keyset',
      withKeys({ jwks: file.jwks, timeoutMs: 5 }),
      'keys.timeoutMs',
      'applies to keys.jwksUrl only: a static keyset (keys.jwks) is never fetched',
    ],
    [
      'a JWKS URL with credentials, never echoing them',
      withKeys({ jwksUrl: 'https://ops:hunter2@jwks.example.com/keys' }),
      'keys.jwksUrl',
      'must not hold a user name or password (user:pass@host): fetch refuses such URLs; serve the JWKS without credentials',
    ],
  ])('says what is wrong with %s', (_name, options, field, problem) => {
    expect(configError(options).message).toBe(`${field}: ${problem}`);
  });

  it.each<[string, Record<string, unknown>]>([
    ['the minimal static configuration', valid()],
    ['an issuer of exactly 256 UTF-8 bytes', { ...valid(), issuers: ['\u00e9'.repeat(128)] }],
    ['both contract algorithms', { ...valid(), algorithms: ['RS256', 'ES256'], keys: { jwks: file.jwks } }],
    ['an https JWKS URL', withKeys({ jwksUrl: 'https://jwks.example.com/.well-known/jwks.json' })],
    ['a URL object', withKeys({ jwksUrl: new URL('https://jwks.example.com/jwks') })],
    ['plain http on localhost', withKeys({ jwksUrl: 'http://localhost:8080/jwks' })],
    ['plain http on 127.0.0.1', withKeys({ jwksUrl: 'http://127.0.0.1:8080/jwks' })],
    ['plain http on [::1]', withKeys({ jwksUrl: 'http://[::1]:8080/jwks' })],
    ['a stricter skew and TTL', { ...valid(), clockToleranceSeconds: 0, maxTtlSeconds: 60 }],
  ])('accepts %s', (_name, options) => {
    expect(() => createVerifier(options as unknown as VerifierOptions)).not.toThrow();
  });

  it('does not fetch anything when configured with a URL (bootstrap never blocks on the JWKS)', async () => {
    const server = await startJwksServer(file.jwks);
    // A pass-through spy (the real fetch still runs): an eager fetch would show up as a call here
    // synchronously, before any network round trip could hide it.
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      const verifier = createVerifier(withKeys({ jwksUrl: server.url }) as unknown as VerifierOptions);
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(fetchSpy).not.toHaveBeenCalled();
      expect(server.requests).toBe(0);
      // warmup is what fetches: the spy and the server do see a fetch when there is one.
      await verifier.warmup();
      expect(fetchSpy).toHaveBeenCalledTimes(1);
      expect(server.requests).toBe(1);
    } finally {
      fetchSpy.mockRestore();
      await server.close();
    }
  });
});

describe('defaults shared with the signer', () => {
  it("the JWKS cache age default is the contracts' DEFAULT_JWKS_CACHE_MAX_AGE_MS (the signer's key set assumes it)", async () => {
    const { DEFAULT_JWKS_CACHE_MAX_AGE_MS } = await import('@hyper/s2s-contracts');
    const { DEFAULTS } = await import('../src/options.js');
    expect(DEFAULTS.jwksCacheMaxAgeMs).toBe(DEFAULT_JWKS_CACHE_MAX_AGE_MS);
  });
});
