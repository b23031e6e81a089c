import { describe, expect, it } from 'vitest';
import {
  ClaimsSchema,
  KID_PATTERN,
  loadVectors,
  ProtectedHeaderSchema,
  SCOPE_PATTERN,
} from '../src/index.js';

const vectors = loadVectors().vectors;
const validClaims = vectors.filter((v) => v.expect[0]!.reason === 'ok' && v.signed);
const badClaims = vectors.filter((v) => /^(missing|invalid)_claim\(/.test(v.expect[0]!.reason) && v.signed);

describe('ClaimsSchema', () => {
  it('has valid and claim-rejecting vectors to check (a filter that matches nothing checks nothing)', () => {
    expect(validClaims.length).toBeGreaterThan(0);
    expect(badClaims.length).toBeGreaterThan(0);
  });

  it.each(validClaims)('accepts the claims of valid vector $id', (v) => {
    expect(ClaimsSchema.safeParse(v.signed!.claims).success).toBe(true);
  });

  it.each(badClaims)('rejects the claims of $id at the claim the vector names', (v) => {
    const result = ClaimsSchema.safeParse(v.signed!.claims);
    expect(result.success).toBe(false);
    const claim = /\((\w+)\)/.exec(v.expect[0]!.reason)![1];
    expect(result.error!.issues.map((i) => i.path[0])).toContain(claim);
  });
});

describe('ProtectedHeaderSchema', () => {
  it('accepts the canonical header and typ in any case', () => {
    expect(ProtectedHeaderSchema.safeParse({ alg: 'RS256', typ: 'jwt', kid: 'lite-2026-03' }).success).toBe(
      true,
    );
  });

  it.each([
    { alg: 'none', typ: 'JWT', kid: 'lite-2026-03' },
    { alg: 'HS256', typ: 'JWT', kid: 'lite-2026-03' },
    { alg: 'RS256', typ: 'at+jwt', kid: 'lite-2026-03' },
    { alg: 'RS256', typ: 'JWT' },
    { alg: 'RS256', typ: 'JWT', kid: '' },
    { alg: 'RS256', typ: 'JWT', kid: 'k'.repeat(65) },
    // SPEC H4: any crit, understood or not, empty or not a list.
    { alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03', crit: ['exp'] },
    { alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03', crit: [] },
    { alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03', crit: 'x' },
    { alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03', crit: null },
  ])('rejects %j', (header) => {
    expect(ProtectedHeaderSchema.safeParse(header).success).toBe(false);
  });
});

describe('patterns', () => {
  it.each(['spaces:create', 'spaces:create join_tokens:issue', '!#[]~'])(
    'scope %j is RFC 6749 syntax',
    (s) => {
      expect(SCOPE_PATTERN.test(s)).toBe(true);
    },
  );

  it.each(['', ' spaces:create', 'a  b', 'a\tb', 'a\nb', 'say"hi"', 'back\\slash', 'é'])(
    'scope %j is not RFC 6749 syntax',
    (s) => {
      expect(SCOPE_PATTERN.test(s)).toBe(false);
    },
  );

  it.each([
    ['lite-2026-03', true],
    ['lite-2026-12', true],
    ['lite-2026-13', false],
    ['lite-2026-00', false],
    ['lite-26-03', false],
    ['core-2026-03', false],
  ] as const)('kid %s matches lite-YYYY-MM: %s', (kid, ok) => {
    expect(KID_PATTERN.test(kid)).toBe(ok);
  });
});
