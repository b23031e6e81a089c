import {
  CLAIM_NAMES,
  DEFAULT_SIGNER_TTL_SECONDS,
  KNOWN_SCOPES,
  MAX_JTI_LENGTH,
  MAX_SCOPE_LENGTH,
  MAX_TOKEN_LENGTH,
} from '@hyper/s2s-contracts';
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createSigner,
  ScopeError,
  SignerClosedError,
  SignerConfigError,
  type SignerOptions,
  SignRequestError,
} from '../src/index.js';
import { decodeToken } from './helpers/tokens.js';
import { AUDIENCE, EC_KEY, ISSUER, RSA_KEY, SUBJECT, VECTOR_NOW_MS } from './helpers/vectors.js';

const rsa = (overrides: Partial<SignerOptions> = {}) =>
  createSigner({
    key: { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ...overrides,
  });

const ec = (overrides: Partial<SignerOptions> = {}) =>
  createSigner({
    key: { privateKeyPem: EC_KEY.pkcs8Pem, kid: EC_KEY.kid },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ...overrides,
  });

describe('a public test key', () => {
  it('is said once at start, through the logger, naming the kid: anyone can sign with it', () => {
    const warnings: Array<{ obj: object; msg: string | undefined }> = [];
    const logger = {
      info: () => undefined,
      warn: (obj: object, msg?: string) => warnings.push({ obj, msg }),
    };
    rsa({ logger });
    expect(warnings).toEqual([
      {
        obj: { event: 's2s_public_test_key', kid: RSA_KEY.kid },
        msg: expect.stringMatching(/is the contract's public test key .*anyone can sign/),
      },
    ]);
  });

  it('a key of its own is not', async () => {
    const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
    const warnings: object[] = [];
    createSigner({
      key: { privateKeyPem: await jose.exportPKCS8(privateKey), kid: 'lite-2026-11' },
      issuer: ISSUER,
      subject: SUBJECT,
      audience: AUDIENCE,
      logger: { info: () => undefined, warn: (obj: object) => warnings.push(obj) },
    });
    expect(warnings).toEqual([]);
  });
});

describe('sign(): token shape', () => {
  it('writes the header exactly {alg, typ: "JWT", kid}, in that order', async () => {
    expect(decodeToken(await rsa().sign({ scope: 'spaces:create' })).headerJson).toBe(
      '{"alg":"RS256","typ":"JWT","kid":"lite-2026-03"}',
    );
    expect(decodeToken(await ec().sign({ scope: 'spaces:create' })).headerJson).toBe(
      '{"alg":"ES256","typ":"JWT","kid":"lite-2026-05"}',
    );
  });

  it('sets all eight claims: iat = nbf = now in seconds, exp = iat + ttl (default 60)', async () => {
    const signer = rsa({ now: () => VECTOR_NOW_MS + 999 });
    const { claims } = decodeToken(await signer.sign({ scope: 'spaces:create' }));
    expect(Object.keys(claims)).toEqual([...CLAIM_NAMES]);
    const iat = Math.floor((VECTOR_NOW_MS + 999) / 1000);
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: SUBJECT,
      aud: AUDIENCE,
      iat,
      nbf: iat,
      scope: 'spaces:create',
    });
    expect(claims.exp).toBe(iat + DEFAULT_SIGNER_TTL_SECONDS);
    expect(typeof claims.jti).toBe('string');
  });

  it('honours ttlSeconds up to the 300 s cap', async () => {
    const { claims } = decodeToken(await rsa({ ttlSeconds: 300 }).sign({ scope: 'spaces:create' }));
    expect((claims.exp as number) - (claims.iat as number)).toBe(300);
  });

  it('serialises claims exactly like JSON.stringify, even for issuers that need escaping', async () => {
    const issuer = 'lite "gateway"\\ \u00e9\u2028\u{1F600}';
    const signer = rsa({ issuer, subject: 'sub\n', now: () => VECTOR_NOW_MS, jti: () => 'j"1' });
    const { payloadJson } = decodeToken(await signer.sign({ scope: 'spaces:create', audience: 'aud\t' }));
    const iat = VECTOR_NOW_MS / 1000;
    expect(payloadJson).toBe(
      JSON.stringify({
        iss: issuer,
        sub: 'sub\n',
        aud: 'aud\t',
        exp: iat + 60,
        iat,
        nbf: iat,
        scope: 'spaces:create',
        jti: 'j"1',
      }),
    );
  });

  it('uses the per-call audience when given', async () => {
    const { claims } = decodeToken(await rsa().sign({ scope: 'spaces:create', audience: 'hyper-analytics' }));
    expect(claims.aud).toBe('hyper-analytics');
  });
});

describe('sign(): verification round trips through jose', () => {
  it.each([
    ['RS256', rsa, RSA_KEY.kid],
    ['ES256', ec, EC_KEY.kid],
  ] as const)('a %s token verifies with the signer JWKS, issuer and audience', async (alg, make, kid) => {
    const signer = make();
    const token = await signer.sign({ scope: ['spaces:create', 'join_tokens:issue'] });
    const { payload, protectedHeader } = await jose.jwtVerify(
      token,
      jose.createLocalJWKSet(await signer.jwks()),
      {
        algorithms: [alg],
        issuer: ISSUER,
        audience: AUDIENCE,
        typ: 'JWT',
        maxTokenAge: 300,
      },
    );
    expect(protectedHeader).toEqual({ alg, typ: 'JWT', kid });
    expect(payload.scope).toBe('spaces:create join_tokens:issue');
  });

  it('ES256 signatures are the 64-byte JOSE form', async () => {
    const signer = ec();
    for (let i = 0; i < 200; i++) {
      expect(decodeToken(await signer.sign({ scope: 'spaces:create' })).signature.length).toBe(64);
    }
  });

  it('jwks() publishes kid, alg and use: "sig" with no private members', async () => {
    const { keys } = await rsa().jwks();
    expect(keys).toHaveLength(1);
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(keys[0]).toMatchObject({ kid: RSA_KEY.kid, alg: 'RS256', use: 'sig', kty: 'RSA' });
  });
});

describe('sign(): a fresh jti per call, never a cached token', () => {
  it('10,000 tokens carry 10,000 distinct jtis', async () => {
    const signer = ec({ now: () => VECTOR_NOW_MS });
    const jtis = new Set<string>();
    const tokens = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const token = await signer.sign({ scope: 'spaces:create' });
      tokens.add(token);
      jtis.add(decodeToken(token).claims.jti as string);
    }
    expect(jtis.size).toBe(10_000);
    expect(tokens.size).toBe(10_000);
  });

  it('returns a different token for identical requests at the same instant (RS256 is deterministic)', async () => {
    const signer = rsa({ now: () => VECTOR_NOW_MS });
    const a = await signer.sign({ scope: 'spaces:create' });
    const b = await signer.sign({ scope: 'spaces:create' });
    expect(a).not.toBe(b);
  });

  it.each([
    ['an empty string', ''],
    [`more than ${MAX_JTI_LENGTH} characters`, 'j'.repeat(MAX_JTI_LENGTH + 1)],
    [`65 "é": 130 UTF-8 bytes, over ${MAX_JTI_LENGTH}`, '\u00e9'.repeat(65)],
    ['U+0000, which the replay store cannot record', 'jti-\u0000'],
    ['a lone surrogate, which Core cannot parse', 'jti-\ud800'],
    ['a number', 42 as unknown as string],
  ])('refuses a jti source that returns %s', async (_name, value) => {
    const error = await rsa({ jti: () => value })
      .sign({ scope: 'spaces:create' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignRequestError);
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_SIGN_REQUEST', field: 'jti' });
  });

  it(`accepts a jti of exactly ${MAX_JTI_LENGTH} UTF-8 bytes (32 emoji)`, async () => {
    const token = await rsa({ jti: () => '\u{1F600}'.repeat(32) }).sign({ scope: 'spaces:create' });
    expect(decodeToken(token).claims.jti).toBe('\u{1F600}'.repeat(32));
  });

  it.each([
    ['257 bytes', 'i'.repeat(257)],
    ['U+0000', 'hyper-lite\u0000'],
  ])('refuses at startup an issuer Core cannot record (%s)', (_name, issuer) => {
    expect(() => rsa({ issuer })).toThrow(expect.objectContaining({ field: 'issuer' }));
  });

  it('refuses a clock that does not return epoch milliseconds', async () => {
    await expect(rsa({ now: () => Number.NaN }).sign({ scope: 'spaces:create' })).rejects.toMatchObject({
      field: 'now',
    });
  });
});

describe('sign(): a custom jti() that repeats', () => {
  it('is refused with the typed error on the repeat, never signed', async () => {
    const signer = ec({ jti: () => 'fixed-jti' });
    await expect(signer.sign({ scope: 'spaces:create' })).resolves.toMatch(/^eyJ/);
    const error = await signer.sign({ scope: 'spaces:create' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignRequestError);
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_SIGN_REQUEST', field: 'jti' });
  });

  it('is caught within its last 1024 values (bounded memory), not beyond', async () => {
    const cycling = (period: number) => {
      let i = 0;
      return () => `jti-${i++ % period}`;
    };
    const caught = ec({ jti: cycling(1024) });
    for (let i = 0; i < 1024; i++) await caught.sign({ scope: 'spaces:create' });
    await expect(caught.sign({ scope: 'spaces:create' })).rejects.toMatchObject({ field: 'jti' });
    const beyond = ec({ jti: cycling(1025) });
    const jtis = new Set<unknown>();
    for (let i = 0; i < 1026; i++) {
      jtis.add(decodeToken(await beyond.sign({ scope: 'spaces:create' })).claims.jti);
    }
    expect(jtis.size).toBe(1025);
  });
});

describe('sign(): a clock out of range', () => {
  it.each([
    ['0', 0],
    ['negative', -1],
    ['2^43 (year 2248)', 2 ** 43],
    ['2.5e21 (beyond 2^53, where exp - iat would round to 512)', 2.5e21],
  ])('refuses now() returning %s with the typed error', async (_name, ms) => {
    const error = await rsa({ ttlSeconds: 300, now: () => ms })
      .sign({ scope: 'spaces:create' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignRequestError);
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_SIGN_REQUEST', field: 'now' });
  });
});

describe('settings that would make every token unusable at Core', () => {
  const loneSurrogate = 'hyper-lite-\ud800';

  it.each(['issuer', 'subject', 'audience'] as const)(
    'refuses at startup the %s when it holds a lone surrogate (written \\ud800, refused by strict JSON)',
    (field) => {
      const attempt = () => rsa({ [field]: loneSurrogate });
      expect(attempt).toThrow(SignerConfigError);
      expect(attempt).toThrow(expect.objectContaining({ field }) as Error);
    },
  );

  it('refuses a per-call audience holding a lone surrogate', async () => {
    await expect(rsa().sign({ scope: 'spaces:create', audience: loneSurrogate })).rejects.toMatchObject({
      code: 'ERR_S2S_INVALID_SIGN_REQUEST',
      field: 'audience',
    });
  });

  it.each(['subject', 'audience'] as const)(
    'refuses at startup the %s when it would push the largest token over MAX_TOKEN_LENGTH',
    (field) => {
      expect(() => rsa({ [field]: 'x'.repeat(MAX_TOKEN_LENGTH) })).toThrow(
        expect.objectContaining({ code: 'ERR_S2S_INVALID_CONFIG', field }) as Error,
      );
    },
  );

  it.each([
    ['RS256', rsa],
    ['ES256', ec],
  ] as const)(
    '%s: the longest accepted audience gives a worst-case token within MAX_TOKEN_LENGTH, one more character is refused',
    async (_alg, make) => {
      const subject = 'gw-\n-'.repeat(100); // escaped characters count at their JSON length
      const accepts = (length: number) => {
        try {
          make({ subject, audience: 'a'.repeat(length) });
          return true;
        } catch {
          return false;
        }
      };
      let [lo, hi] = [1, MAX_TOKEN_LENGTH];
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (accepts(mid)) lo = mid;
        else hi = mid - 1;
      }
      // Worst case: the latest clock allowed, every scope, a 128-byte jti JSON writes as \u0001 each.
      const worst = make({
        subject,
        audience: 'a'.repeat(lo),
        now: () => 2 ** 43 - 1,
        jti: () => '\u0001'.repeat(MAX_JTI_LENGTH),
      });
      const token = await worst.sign({ scope: [...KNOWN_SCOPES] });
      expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
      expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH - 4); // the bound is tight, not a guess
      // A per-call audience is held to the same bound.
      const signer = make({ subject });
      await expect(signer.sign({ scope: 'spaces:create', audience: 'b'.repeat(lo) })).resolves.toMatch(
        /^eyJ/,
      );
      await expect(
        signer.sign({ scope: 'spaces:create', audience: 'b'.repeat(lo + 1) }),
      ).rejects.toMatchObject({ code: 'ERR_S2S_INVALID_SIGN_REQUEST', field: 'audience' });
    },
  );
});

describe('sign(): scope', () => {
  it.each([
    ['spaces:create', 'spaces:create'],
    ['join_tokens:issue', 'join_tokens:issue'],
    ['spaces:create join_tokens:issue', 'spaces:create join_tokens:issue'],
    [['join_tokens:issue', 'spaces:create'], 'join_tokens:issue spaces:create'],
    [[...KNOWN_SCOPES], KNOWN_SCOPES.join(' ')],
  ] as const)('writes %j as the space-delimited claim %j', async (scope, claim) => {
    expect(decodeToken(await rsa().sign({ scope })).claims.scope).toBe(claim);
  });

  it.each([
    ['an unknown scope', 'admin:all'],
    ['an unknown scope next to a known one', 'spaces:create admin:all'],
    ['a case variant', 'Spaces:Create'],
    ['a double space', 'spaces:create  join_tokens:issue'],
    ['a tab', 'spaces:create\tjoin_tokens:issue'],
    ['a leading space', ' spaces:create'],
    ['an empty string', ''],
    ['a non-ASCII character', 'spaces:créate'],
    ['a quote (outside scope-token syntax)', 'spaces:"create"'],
    [`a scope longer than ${MAX_SCOPE_LENGTH}`, `spaces:create ${'x'.repeat(MAX_SCOPE_LENGTH)}`],
    ['a duplicate', 'spaces:create spaces:create'],
    ['an empty array', []],
    ['an array element with a space', ['spaces:create join_tokens:issue']],
    ['an array with a non-string', ['spaces:create', 7]],
    ['a duplicate in an array', ['spaces:create', 'spaces:create']],
    ['a missing scope', undefined],
    ['a number', 1],
  ])('refuses %s with a typed ScopeError', async (_name, scope) => {
    const error = await rsa()
      .sign({ scope: scope as string })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScopeError);
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_SCOPE', field: 'scope' });
  });

  it.each([
    ['as the scope string', (token: string) => token],
    ['next to a known scope', (token: string) => `spaces:create ${token}`],
    ['in a scope list', (token: string) => ['spaces:create', token]],
  ])('a token passed %s is refused without repeating it', async (_name, scopeWith) => {
    const signer = rsa();
    const token = await signer.sign({ scope: 'spaces:create' });
    const error = (await signer
      .sign({ scope: scopeWith(token) as string })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ScopeError);
    expect(error.message).toContain('may hold a token');
    for (const part of token.split('.')) expect(error.message).not.toContain(part);
  });

  it.each([
    ['empty', ''],
    ['not a string', 5],
  ])('refuses a per-call audience that is %s', async (_name, audience) => {
    await expect(rsa().sign({ scope: 'spaces:create', audience: audience as string })).rejects.toMatchObject({
      code: 'ERR_S2S_INVALID_SIGN_REQUEST',
      field: 'audience',
    });
  });
});

describe('close()', () => {
  it('refuses to sign after close', async () => {
    const signer = rsa();
    await signer.close();
    await expect(signer.sign({ scope: 'spaces:create' })).rejects.toBeInstanceOf(SignerClosedError);
    await signer.close();
  });

  it('refuses jwks() after close: a KMS key would otherwise make a client that nothing closes', async () => {
    const signer = rsa();
    expect((await signer.jwks()).keys).toHaveLength(1);
    await signer.close();
    await expect(signer.jwks()).rejects.toBeInstanceOf(SignerClosedError);
  });
});
