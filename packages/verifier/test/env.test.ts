import { ENV, FORBIDDEN_ENV } from '@hyper/s2s-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { type Environment, TUNING_ENV, verifierFromEnv } from '../src/env.js';
import { VerifierConfigError } from '../src/errors.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { type JwksServer, startJwksServer } from './harness/jwks-server.js';
import { nowSeconds, sign, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';

const keysJson = JSON.stringify(file.jwks);
const base: Environment = {
  [ENV.publicKeysJson]: keysJson,
  [ENV.audience]: file.audience,
  [ENV.allowedIssuers]: `${file.issuer}, other-issuer`,
};
const call = { scope: 'spaces:create', path: '/integrations/spaces' };

function envError(env: Environment): VerifierConfigError {
  try {
    verifierFromEnv({ env, replayStore: memoryReplayStore() });
  } catch (error) {
    expect(error).toBeInstanceOf(VerifierConfigError);
    return error as VerifierConfigError;
  }
  throw new Error('expected a VerifierConfigError');
}

let server: JwksServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('verifierFromEnv', () => {
  it('builds a working verifier from a static keyset and a comma-separated issuer list', async () => {
    const verifier = verifierFromEnv({ env: base, replayStore: memoryReplayStore() });
    const key = await vectorKey('lite-2026-03');
    expect(await verifier.verify(await sign(key, nowSeconds()), call)).toMatchObject({ status: 200 });
    expect(await verifier.verify(await sign(key, nowSeconds(), { iss: 'other-issuer' }), call)).toMatchObject(
      {
        status: 200,
      },
    );
    expect(await verifier.verify(await sign(key, nowSeconds(), { iss: 'third' }), call)).toMatchObject({
      reason: 'invalid_issuer',
    });
  });

  it('builds a working verifier from S2S_JWKS_URL with tuning variables', async () => {
    server = await startJwksServer(file.jwks);
    const verifier = verifierFromEnv({
      env: {
        [ENV.jwksUrl]: server.url,
        [ENV.audience]: file.audience,
        [ENV.allowedIssuers]: file.issuer,
        [TUNING_ENV.algorithms]: 'RS256,ES256',
        [TUNING_ENV.jwksTimeoutMs]: '500',
        [TUNING_ENV.jwksCacheMaxAgeMs]: '60000',
        [TUNING_ENV.jwksCooldownMs]: '1000',
        [TUNING_ENV.jwksFailureBackoffMs]: '100',
        [TUNING_ENV.replayTimeoutMs]: '500',
      },
      replayStore: memoryReplayStore(),
    });
    const es = await vectorKey('lite-2026-05');
    expect(await verifier.verify(await sign(es, nowSeconds()), call)).toMatchObject({ status: 200 });
    expect(server.requests).toBe(1);
  });

  it('lets explicit options override the environment', async () => {
    const verifier = verifierFromEnv({
      env: { ...base, [ENV.audience]: undefined },
      audience: file.audience,
      replayStore: memoryReplayStore(),
    });
    const key = await vectorKey('lite-2026-03');
    expect(await verifier.verify(await sign(key, nowSeconds()), call)).toMatchObject({ status: 200 });
  });

  it.each<[string, Environment, string]>([
    ...FORBIDDEN_ENV.map((name): [string, Environment, string] => [
      `${name} is set`,
      { ...base, [name]: 'true' },
      name,
    ]),
    ...FORBIDDEN_ENV.map((name): [string, Environment, string] => [
      `${name} is set but empty`,
      { ...base, [name]: '' },
      name,
    ]),
    [
      'an HS* algorithm is configured',
      { ...base, [TUNING_ENV.algorithms]: 'RS256,HS256' },
      TUNING_ENV.algorithms,
    ],
    ['a legacy variable names HS256', { ...base, S2S_JWT_ALG: 'HS256' }, 'S2S_JWT_ALG'],
    ['none is configured', { ...base, [TUNING_ENV.algorithms]: 'none' }, TUNING_ENV.algorithms],
    ['neither key source is set', { ...base, [ENV.publicKeysJson]: undefined }, ENV.jwksUrl],
    ['both key sources are set', { ...base, [ENV.jwksUrl]: 'https://jwks.example.com/keys' }, ENV.jwksUrl],
    [
      'the JWKS URL is plain http on a public host',
      { ...base, [ENV.publicKeysJson]: undefined, [ENV.jwksUrl]: 'http://jwks.example.com' },
      ENV.jwksUrl,
    ],
    ['the keyset is not JSON', { ...base, [ENV.publicKeysJson]: '{keys:' }, ENV.publicKeysJson],
    [
      'the keyset holds a symmetric key',
      { ...base, [ENV.publicKeysJson]: '{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}' },
      ENV.publicKeysJson,
    ],
    ['the audience is missing', { ...base, [ENV.audience]: undefined }, ENV.audience],
    ['the audience is blank', { ...base, [ENV.audience]: '  ' }, ENV.audience],
    // One blank rule in both SDKs (contracts readEnv): set but blank is an error, never the default.
    [
      'an optional tuning variable is blank',
      { ...base, [TUNING_ENV.replayTimeoutMs]: '' },
      TUNING_ENV.replayTimeoutMs,
    ],
    ['the issuer list is missing', { ...base, [ENV.allowedIssuers]: undefined }, ENV.allowedIssuers],
    ['the issuer list has an empty entry', { ...base, [ENV.allowedIssuers]: 'a,,b' }, ENV.allowedIssuers],
    [
      'a timeout is not a number',
      {
        ...base,
        [ENV.publicKeysJson]: undefined,
        [ENV.jwksUrl]: 'https://j.example',
        [TUNING_ENV.jwksTimeoutMs]: '2s',
      },
      TUNING_ENV.jwksTimeoutMs,
    ],
    [
      'a timeout is out of bounds',
      {
        ...base,
        [ENV.publicKeysJson]: undefined,
        [ENV.jwksUrl]: 'https://j.example',
        [TUNING_ENV.jwksTimeoutMs]: '0',
      },
      TUNING_ENV.jwksTimeoutMs,
    ],
    [
      'the JWKS cooldown is below the 1000 ms floor',
      {
        ...base,
        [ENV.publicKeysJson]: undefined,
        [ENV.jwksUrl]: 'https://j.example',
        [TUNING_ENV.jwksCooldownMs]: '0',
      },
      TUNING_ENV.jwksCooldownMs,
    ],
    [
      'an allowed issuer is longer than the replay store records (257 bytes)',
      { ...base, [ENV.allowedIssuers]: `hyper-lite,${'i'.repeat(257)}` },
      ENV.allowedIssuers,
    ],
    [
      'an allowed issuer holds U+0000, which the replay store cannot record',
      { ...base, [ENV.allowedIssuers]: 'hyper-lite\u0000' },
      ENV.allowedIssuers,
    ],
    [
      'the replay timeout is out of bounds',
      { ...base, [TUNING_ENV.replayTimeoutMs]: '999999' },
      TUNING_ENV.replayTimeoutMs,
    ],
  ])('refuses to start when %s, naming the variable', (_name, env, variable) => {
    const error = envError(env);
    expect(error.field).toBe(variable);
    expect(error.message).toContain(variable);
  });

  it('names every variable at fault in one error, so one deploy shows them all', () => {
    const error = envError({ [TUNING_ENV.replayTimeoutMs]: '2s' });
    expect(error.field).toBe(TUNING_ENV.replayTimeoutMs);
    for (const variable of [TUNING_ENV.replayTimeoutMs, ENV.jwksUrl, ENV.audience, ENV.allowedIssuers]) {
      expect(error.message).toContain(`${variable}:`);
    }
    expect(error.message).toContain(`; also ${ENV.jwksUrl}: set exactly one of`);
  });

  it('refuses a variable in its own families that it does not read (a typo would leave the default in force)', () => {
    const error = envError({ ...base, S2S_JWKS_CACHE_MAX_AGE: '600000', S2S_JWT_AUDIENCES: 'x' });
    expect(error.field).toBe('S2S_JWKS_CACHE_MAX_AGE');
    expect(error.message).toMatch(
      /^S2S_JWKS_CACHE_MAX_AGE: is not a variable the verifier reads \(a typo\?\); known: .*S2S_JWKS_CACHE_MAX_AGE_MS/,
    );
    expect(error.message).toContain('; also S2S_JWT_AUDIENCES: is not a variable the verifier reads');
    // Other families are not the verifier's to judge: the signer's, a test harness's, an app's.
    const verifier = verifierFromEnv({
      env: { ...base, [ENV.signerTtlSeconds]: '60', S2S_REPLICA_DATABASE_URL: 'postgres://x', S2S_MODE: 'a' },
      replayStore: memoryReplayStore(),
    });
    expect(typeof verifier.verify).toBe('function');
  });

  it('names a misspelt static keyset variable, a JWKS fetch setting beside a static keyset, and a comma in the audience', () => {
    const typo = envError({
      [ENV.audience]: file.audience,
      [ENV.allowedIssuers]: file.issuer,
      HYPER_S2S_JWT_PUBLIC_KEY_JSON: keysJson,
    });
    expect(typo.message).toContain('HYPER_S2S_JWT_PUBLIC_KEY_JSON: is not a variable the verifier reads');
    const idle = envError({ ...base, [TUNING_ENV.jwksCacheMaxAgeMs]: '10m' });
    expect(idle.field).toBe(TUNING_ENV.jwksCacheMaxAgeMs);
    expect(idle.message).toContain(`applies to ${ENV.jwksUrl} only`);
    const listed = envError({ ...base, [ENV.audience]: `${file.audience},hyper-core-eu` });
    expect(listed.field).toBe(ENV.audience);
    expect(listed.message).toContain('must not hold a comma');
  });

  it('names the keyset member at fault inside HYPER_S2S_JWT_PUBLIC_KEYS_JSON', () => {
    const keys = { keys: [file.jwks.keys[0], { ...file.jwks.keys[0] }] };
    const error = envError({ ...base, [ENV.publicKeysJson]: JSON.stringify(keys) });
    expect(error.field).toBe(ENV.publicKeysJson);
    expect(error.message).toContain('keys[1].kid');
  });

  it('says what a static keyset must be when given a file path or a single JWK, and which key sources are set', () => {
    const path = envError({ ...base, [ENV.publicKeysJson]: './keyset.json' });
    expect(path.message).toContain('pass the JWK Set text itself ({"keys":[...]}), not a file path');
    const single = envError({ ...base, [ENV.publicKeysJson]: JSON.stringify(file.jwks.keys[0]) });
    expect(single.message).toContain('a JWK Set is {"keys":[...]}, even for one key');
    expect(envError({ ...base, [ENV.jwksUrl]: 'https://jwks.example.com/keys' }).message).toContain(
      '(both are set)',
    );
    expect(envError({ ...base, [ENV.publicKeysJson]: undefined }).message).toContain('(neither is set)');
  });

  it('reads process.env by default', () => {
    const saved = { ...process.env };
    try {
      for (const name of [ENV.jwksUrl, ENV.publicKeysJson, ...FORBIDDEN_ENV]) delete process.env[name];
      Object.assign(process.env, base);
      expect(() => verifierFromEnv({ replayStore: memoryReplayStore() })).not.toThrow();
      process.env.S2S_OPEN = '1';
      expect(() => verifierFromEnv({ replayStore: memoryReplayStore() })).toThrow(/S2S_OPEN/);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });
});

describe('verifierFromEnv: a refused variable says what would be accepted', () => {
  const remote: Environment = {
    ...base,
    [ENV.publicKeysJson]: undefined,
    [ENV.jwksUrl]: 'https://lite.example/jwks.json',
  };

  it.each([ENV.audience, ENV.allowedIssuers])(
    'blank %s is reported as required, not as "unset it"',
    (name) => {
      const error = envError({ ...base, [name]: '  ' });
      expect(error.field).toBe(name);
      expect(error.message).toBe(`${name}: is set but empty: it is required`);
    },
  );

  it.each<[string, string, string[]]>([
    [TUNING_ENV.jwksTimeoutMs, 'from 1 to 60000', ['-1', '0', '2s', '60001']],
    [TUNING_ENV.jwksFailureBackoffMs, 'from 0 to 60000', ['-1', '2s', '60001']],
    [TUNING_ENV.replayTimeoutMs, 'from 1 to 60000', ['-1', '0', '2s', '60001']],
  ])("%s: every refused value states the option's own range (%s)", (name, range, refused) => {
    for (const value of refused) {
      const error = envError({ ...remote, [name]: value });
      expect(error.field).toBe(name);
      expect(error.message).toContain(range);
    }
  });
});
