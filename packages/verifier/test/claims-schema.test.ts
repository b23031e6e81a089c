import {
  CLAIM_NAMES,
  type Claims,
  ClaimsSchema,
  invalidClaim,
  MAX_SCOPE_LENGTH,
  missingClaim,
} from '@hyper/s2s-contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkClaimPolicy, checkClaimTypes } from '../src/claims.js';
import { file } from './harness/vectors.js';

// The verifier checks claim types by hand (no zod on the hot path); contracts' ClaimsSchema is the
// reference. Both must give the same verdict.
function agree(claims: Record<string, unknown>): void {
  expect(checkClaimTypes(claims) === undefined).toBe(ClaimsSchema.safeParse(claims).success);
}

// Decoded here with JSON.parse, not the verifier's parser: module-level calls into src/ would make every
// parser mutant "static" for mutation testing (run against all tests instead of the covering ones).
function payloadOf(token: string): Record<string, unknown> | undefined {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const decodable = file.vectors.flatMap((vector) => {
  const payload = payloadOf(vector.token);
  return payload === undefined ? [] : [[vector.id, payload] as const];
});

describe('hand-written claim checks agree with ClaimsSchema', () => {
  it('has claims for most vectors', () => {
    expect(decodable.length).toBeGreaterThan(file.vectors.length * 0.8);
  });

  it.each(decodable)('on the claims of %s', (_id, payload) => agree(payload));

  const signedClaims = file.vectors
    .filter((vector) => vector.signed)
    .map((vector) => [vector.id, vector.signed!.claims] as const);
  it('has signed claims recorded in the vectors', () => {
    expect(signedClaims.length).toBeGreaterThan(0);
  });

  it.each(signedClaims)('on the signed claims recorded for %s', (_id, claims) => agree(claims));

  it('on generated claim sets', () => {
    const value = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, 0, 1773360000),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('', ' ', 'spaces:create', 'a  b', 'a\tb', 'a b', 'x'.repeat(129), 'x'.repeat(1025)),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), { maxLength: 3 }),
    );
    const claims = fc.record(
      { iss: value, sub: value, aud: value, exp: value, iat: value, nbf: value, scope: value, jti: value },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(claims, (generated) => {
        const present = Object.fromEntries(Object.entries(generated).filter(([, v]) => v !== undefined));
        agree(present);
        // The reason names the first offending claim in CLAIM_NAMES order, judged claim by claim by
        // the schema's own field (Rust Core reports the same one).
        const first = CLAIM_NAMES.find(
          (name) => present[name] === undefined || !ClaimsSchema.shape[name].safeParse(present[name]).success,
        );
        const expected =
          first === undefined
            ? undefined
            : present[first] === undefined
              ? missingClaim(first)
              : invalidClaim(first);
        expect(checkClaimTypes(present)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('on valid claim sets with one claim changed', () => {
    const valid = {
      iss: 'hyper-lite',
      sub: 'gateway',
      aud: ['hyper-core', 'other'],
      exp: 1773360060.5,
      iat: 1773360000,
      nbf: 1773360000,
      scope: 'spaces:create join_tokens:issue',
      jti: 'V1StGXR8_Z5jdHi6B-myT',
    };
    agree(valid);
    const mutation = fc.tuple(
      fc.constantFrom(...(Object.keys(valid) as (keyof typeof valid)[])),
      fc.oneof(
        fc.anything(),
        fc.string({ maxLength: 4 }),
        fc.double(),
        fc.array(fc.string({ maxLength: 2 })),
      ),
    );
    fc.assert(
      fc.property(mutation, ([name, replacement]) => agree({ ...valid, [name]: replacement })),
      { numRuns: 2000 },
    );
  });
});

describe('SPEC C4: scope length', () => {
  it(`accepts a scope of exactly ${MAX_SCOPE_LENGTH} bytes and refuses one byte more`, () => {
    const valid = {
      iss: 'hyper-lite',
      sub: 'gateway',
      aud: 'hyper-core',
      exp: 1773360060,
      iat: 1773360000,
      nbf: 1773360000,
      jti: 'V1StGXR8_Z5jdHi6B-myT',
    };
    const atLimit = {
      ...valid,
      scope: `spaces:create ${'x'.repeat(MAX_SCOPE_LENGTH - 'spaces:create '.length)}`,
    };
    expect(atLimit.scope).toHaveLength(MAX_SCOPE_LENGTH);
    expect(checkClaimTypes(atLimit)).toBeUndefined();
    agree(atLimit);
    expect(checkClaimTypes({ ...valid, scope: `${atLimit.scope}x` })).toBe('invalid_claim(scope)');
  });
});

describe('SPEC P2: audience', () => {
  const policy = {
    issuers: new Set(['hyper-lite']),
    audience: 'hyper-core',
    clockToleranceSeconds: 0,
    maxTtlSeconds: 300,
  };
  const claims = (aud: string | string[]): Claims => ({
    iss: 'hyper-lite',
    sub: 'gateway',
    aud,
    exp: 1773360060,
    iat: 1773360000,
    nbf: 1773360000,
    scope: 'spaces:create',
    jti: 'V1StGXR8_Z5jdHi6B-myT',
  });

  it.each<[string | string[], string | undefined]>([
    ['hyper-core', undefined],
    [['other', 'hyper-core'], undefined],
    // A string audience must equal ours: containing it as a substring is not enough.
    ['hyper-core-staging', 'invalid_audience'],
    ['xhyper-core', 'invalid_audience'],
    ['hyper', 'invalid_audience'],
    [['hyper-core-staging'], 'invalid_audience'],
  ])('aud %j -> %s', (aud, reason) => {
    expect(checkClaimPolicy(claims(aud), policy, 1773360000)).toBe(reason);
  });
});
