import { ENV, FORBIDDEN_ENV } from '@hyper/s2s-contracts';
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import { SIGNER_ENV, SignerConfigError, signerFromEnv } from '../src/index.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { decodeToken } from './helpers/tokens.js';
import { AUDIENCE, EC_KEY, ISSUER, RSA_KEY, SUBJECT } from './helpers/vectors.js';

const pemEnv = {
  [ENV.privateKeyPem]: RSA_KEY.pkcs8Pem,
  [ENV.kid]: RSA_KEY.kid,
  [SIGNER_ENV.issuer]: ISSUER,
  [SIGNER_ENV.subject]: SUBJECT,
  [SIGNER_ENV.audience]: AUDIENCE,
  HYPER_S2S_JWT_SCOPE_SPACES_CREATE: 'spaces:create',
  HYPER_S2S_JWT_SCOPE_JOIN_TOKENS_ISSUE: 'join_tokens:issue',
  UNRELATED: 'ignored',
};

function configError(env: Record<string, string | undefined>): SignerConfigError {
  try {
    signerFromEnv({ env });
  } catch (error) {
    expect(error).toBeInstanceOf(SignerConfigError);
    return error as SignerConfigError;
  }
  throw new Error('signerFromEnv accepted the environment');
}

describe('signerFromEnv with a PEM key', () => {
  it('a scope looked up for an operation with no HYPER_S2S_JWT_SCOPE_ variable is refused saying where to look', async () => {
    const signer = signerFromEnv({ env: pemEnv });
    const missing = (signer.scopes as Record<string, string | undefined>).SPACE_CREATE;
    await expect(signer.sign({ scope: missing as never })).rejects.toThrow(
      /scope: is required and was undefined: .*HYPER_S2S_JWT_SCOPE_<OPERATION>/,
    );
    await signer.close();
  });

  it('signs with the key, kid, issuer, subject and audience from the environment', async () => {
    const signer = signerFromEnv({ env: pemEnv });
    const token = await signer.sign({ scope: signer.scopes.SPACES_CREATE! });
    const { payload, protectedHeader } = await jose.jwtVerify(
      token,
      jose.createLocalJWKSet(await signer.jwks()),
      {
        issuer: ISSUER,
        audience: AUDIENCE,
        subject: SUBJECT,
      },
    );
    expect(protectedHeader.kid).toBe(RSA_KEY.kid);
    expect(payload.scope).toBe('spaces:create');
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  it('exposes per-operation scopes from HYPER_S2S_JWT_SCOPE_*', () => {
    expect(
      signerFromEnv({ env: { ...pemEnv, HYPER_S2S_JWT_SCOPE_BOTH: 'spaces:create join_tokens:issue' } })
        .scopes,
    ).toEqual({
      SPACES_CREATE: 'spaces:create',
      JOIN_TOKENS_ISSUE: 'join_tokens:issue',
      BOTH: 'spaces:create join_tokens:issue',
    });
  });

  it('reads the TTL and accepts a PEM written on one line with literal \\n', async () => {
    const signer = signerFromEnv({
      env: {
        ...pemEnv,
        [ENV.privateKeyPem]: RSA_KEY.pkcs8Pem.replaceAll('\n', '\\n'),
        [SIGNER_ENV.ttlSeconds]: '120',
      },
    });
    const { claims } = decodeToken(await signer.sign({ scope: 'spaces:create' }));
    expect((claims.exp as number) - (claims.iat as number)).toBe(120);
  });

  it('takes ES256 from the key, or checks HYPER_S2S_JWT_ALG against it', () => {
    const ecEnv = { ...pemEnv, [ENV.privateKeyPem]: EC_KEY.pkcs8Pem, [ENV.kid]: EC_KEY.kid };
    expect(signerFromEnv({ env: ecEnv }).alg).toBe('ES256');
    expect(signerFromEnv({ env: { ...ecEnv, [SIGNER_ENV.alg]: 'ES256' } }).alg).toBe('ES256');
  });
});

describe('signerFromEnv refuses a bad environment, naming the variable', () => {
  it.each(FORBIDDEN_ENV.flatMap((name) => [[name, '1'] as const, [name, ''] as const]))(
    'refuses the legacy %s (even set to %j)',
    (name, value) => {
      const error = configError({ ...pemEnv, [name]: value });
      expect(error.field).toBe(name);
      expect(error.message).toMatch(/ADR 0031/);
    },
  );

  const without = (name: string) => ({ ...pemEnv, [name]: undefined });
  it.each([
    ['no key at all', without(ENV.privateKeyPem), ENV.privateKeyPem],
    ['an empty PEM variable', { ...pemEnv, [ENV.privateKeyPem]: '  ' }, ENV.privateKeyPem],
    [
      'both a PEM and a KMS key version',
      {
        ...pemEnv,
        [SIGNER_ENV.kmsKeyVersion]: 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
      },
      ENV.privateKeyPem,
    ],
    ['a missing kid', without(ENV.kid), ENV.kid],
    ['a kid outside lite-YYYY-MM', { ...pemEnv, [ENV.kid]: 'key-1' }, ENV.kid],
    ['a missing issuer', without(SIGNER_ENV.issuer), SIGNER_ENV.issuer],
    ['a missing subject', without(SIGNER_ENV.subject), SIGNER_ENV.subject],
    ['a missing audience', without(SIGNER_ENV.audience), SIGNER_ENV.audience],
    ['a non-numeric TTL', { ...pemEnv, [SIGNER_ENV.ttlSeconds]: '60s' }, SIGNER_ENV.ttlSeconds],
    ['a TTL above 300', { ...pemEnv, [SIGNER_ENV.ttlSeconds]: '301' }, SIGNER_ENV.ttlSeconds],
    ['a TTL of 0', { ...pemEnv, [SIGNER_ENV.ttlSeconds]: '0' }, SIGNER_ENV.ttlSeconds],
    // One blank rule in both SDKs (contracts readEnv): set but blank is an error, never the default.
    ['a blank optional TTL', { ...pemEnv, [SIGNER_ENV.ttlSeconds]: '' }, SIGNER_ENV.ttlSeconds],
    [
      'a blank KMS key version next to a PEM',
      { ...pemEnv, [SIGNER_ENV.kmsKeyVersion]: ' ' },
      SIGNER_ENV.kmsKeyVersion,
    ],
    ['an HMAC secret as the key', { ...pemEnv, [ENV.privateKeyPem]: 'my-shared-secret' }, ENV.privateKeyPem],
    ['an RSA key with HYPER_S2S_JWT_ALG=ES256', { ...pemEnv, [SIGNER_ENV.alg]: 'ES256' }, SIGNER_ENV.alg],
    ['HYPER_S2S_JWT_ALG=HS256', { ...pemEnv, [SIGNER_ENV.alg]: 'HS256' }, SIGNER_ENV.alg],
    ['an unknown scope', { ...pemEnv, HYPER_S2S_JWT_SCOPE_ADMIN: 'admin:all' }, 'HYPER_S2S_JWT_SCOPE_ADMIN'],
    [
      'a scope with a tab',
      { ...pemEnv, HYPER_S2S_JWT_SCOPE_X: 'spaces:create\tjoin_tokens:issue' },
      'HYPER_S2S_JWT_SCOPE_X',
    ],
    ['an empty scope', { ...pemEnv, HYPER_S2S_JWT_SCOPE_X: '' }, 'HYPER_S2S_JWT_SCOPE_X'],
    [
      'a scope variable with no operation',
      { ...pemEnv, HYPER_S2S_JWT_SCOPE_: 'spaces:create' },
      'HYPER_S2S_JWT_SCOPE_',
    ],
    [
      'a bad KMS key version name',
      { ...without(ENV.privateKeyPem), [SIGNER_ENV.kmsKeyVersion]: 'my-key' },
      SIGNER_ENV.kmsKeyVersion,
    ],
    // Checks made when createSigner builds the signer name the variable that fed the option too.
    ['an issuer over 256 bytes', { ...pemEnv, [SIGNER_ENV.issuer]: 'i'.repeat(257) }, SIGNER_ENV.issuer],
    [
      'a subject holding a lone surrogate',
      { ...pemEnv, [SIGNER_ENV.subject]: 'gateway-\ud800' },
      SIGNER_ENV.subject,
    ],
    [
      'an audience that would push tokens over MAX_TOKEN_LENGTH',
      { ...pemEnv, [SIGNER_ENV.audience]: 'a'.repeat(9000) },
      SIGNER_ENV.audience,
    ],
  ])('refuses %s', (_name, env, variable) => {
    const error = configError(env);
    expect(error.field).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
  });

  it.each([SIGNER_ENV.issuer, SIGNER_ENV.audience, ENV.kid])(
    'a blank %s is reported as required, not as "unset it" (it has no default)',
    (name) => {
      const error = configError({ ...pemEnv, [name]: ' ' });
      expect(error.field).toBe(name);
      expect(error.message).toBe(`${name}: is set but empty: it is required`);
    },
  );

  it('names every variable at fault in one error, so one deploy shows them all', () => {
    const error = configError({ [SIGNER_ENV.ttlSeconds]: '5m' });
    expect(error.field).toBe(ENV.privateKeyPem);
    for (const name of [
      ENV.privateKeyPem,
      ENV.kid,
      SIGNER_ENV.ttlSeconds,
      SIGNER_ENV.issuer,
      SIGNER_ENV.subject,
      SIGNER_ENV.audience,
    ]) {
      expect(error.message).toContain(name === ENV.privateKeyPem ? `${name}:` : `; also ${name}:`);
    }
    expect(error.message).toContain(`; also ${ENV.kid}: is required`);
  });

  it("refuses a HYPER_S2S_JWT_* variable no SDK reads (a typo), naming it; the verifier's shared names pass", () => {
    for (const typo of ['HYPER_S2S_JWT_TTL', 'HYPER_S2S_JWT_ISSUR', 'HYPER_S2S_JWT_KMS_KEY']) {
      const error = configError({ ...pemEnv, [typo]: '30' });
      expect(error.field).toBe(typo);
      expect(error.message).toMatch(new RegExp(`^${typo}: .*${SIGNER_ENV.ttlSeconds}`));
    }
    // The verifier's static keyset variable may sit in the same environment (one .env for both).
    expect(() => signerFromEnv({ env: { ...pemEnv, [ENV.publicKeysJson]: '{"keys":[]}' } })).not.toThrow();
  });

  it('never quotes the PEM in an error', () => {
    const error = configError({ ...pemEnv, [SIGNER_ENV.alg]: 'ES256' });
    expect(error.message).not.toContain(RSA_KEY.pkcs8Pem.split('\n')[1]!);
  });
});

describe('signerFromEnv with a KMS key version', () => {
  const kms = useKmsTestServer({ resetFaults: false });

  it('signs through the given KMS client', async () => {
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const signer = signerFromEnv({
      env: { ...pemEnv, [ENV.privateKeyPem]: undefined, [SIGNER_ENV.kmsKeyVersion]: name },
      kmsClient: kms.client(),
    });
    const token = await signer.sign({ scope: signer.scopes.JOIN_TOKENS_ISSUE! });
    const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(await signer.jwks()), {
      issuer: ISSUER,
    });
    expect(payload.scope).toBe('join_tokens:issue');
    await signer.close();
  });
});
