/**
 * Vectors that pin the judgment calls a second implementation could otherwise make either way
 * (issue 11): rule order, the length unit, strict JSON, what the replay store cannot record. Each one
 * changes outcome when the SPEC.md rule it names is flipped (proved by the verifier's mutation test).
 */
import { CLAIM_NAMES, MAX_ISS_LENGTH, MAX_JSON_DEPTH } from '../src/constants.js';
import {
  ATTACKER_KID,
  type CaseDef,
  CURRENT_KID,
  claims,
  header,
  type Json,
  reasonsOf,
  signed,
  signedRaw,
  valid,
} from './vector-cases.js';

/** Header `overrides` applied, `undefined` removing a member; signed RS256 by `signingKid`. */
function headerCase(
  id: string,
  description: string,
  overrides: Json,
  expect: CaseDef['expect'],
  signingKid = CURRENT_KID,
): CaseDef {
  return {
    id,
    description,
    expect,
    build: (ctx) => {
      const h = header(overrides);
      for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete h[name];
      return signed(ctx, h, claims(id, ctx.now), signingKid, 'RS256');
    },
  };
}

/** Claims with an extra member whose raw JSON text is `rawValue` (for texts JSON.stringify cannot write). */
function rawMemberCase(
  id: string,
  description: string,
  rawValue: string,
  expect: CaseDef['expect'],
): CaseDef {
  return {
    id,
    description,
    expect,
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        JSON.stringify(claims(id, ctx.now)).replace(/\}$/, `,"ext":${rawValue}}`),
      ),
    }),
  };
}

const claimCase = (id: string, description: string, overrides: Json, expect: CaseDef['expect']): CaseDef => ({
  id,
  description,
  expect,
  build: (ctx) => valid(ctx, id, overrides),
});

const EMOJI = '\u{1F600}'; // 4 UTF-8 bytes, 2 UTF-16 code units, 1 code point
const E_ACUTE = '\u00E9'; // 2 UTF-8 bytes, 1 UTF-16 code unit, 1 code point

export const JUDGMENT_CASES: CaseDef[] = [
  // ── header rule order: typ, kid, alg, crit, then key lookup ─────────────────────────────────────
  headerCase(
    'header-typ-wrong-alg-hs256',
    'typ is checked before alg: typ "at+jwt" with alg HS256 is invalid_header.',
    { typ: 'at+jwt', alg: 'HS256' },
    reasonsOf('invalid_header'),
  ),
  headerCase(
    'header-kid-missing-alg-none',
    'kid is checked before alg: no kid with alg "none" is invalid_header.',
    { kid: undefined, alg: 'none' },
    reasonsOf('invalid_header'),
  ),
  headerCase(
    'header-typ-wrong-unknown-kid',
    'Header rules come before the key lookup: typ "at+jwt" with a kid outside the keyset is invalid_header.',
    { typ: 'at+jwt', kid: ATTACKER_KID },
    reasonsOf('invalid_header'),
    ATTACKER_KID,
  ),
  headerCase(
    'alg-hs256-unknown-kid',
    'The alg allow-list comes before the key lookup: HS256 with a kid outside the keyset is invalid_algorithm.',
    { alg: 'HS256', kid: ATTACKER_KID },
    reasonsOf('invalid_algorithm'),
    ATTACKER_KID,
  ),
  headerCase(
    'header-crit-unknown-kid',
    'crit comes before the key lookup: crit with a kid outside the keyset is invalid_header.',
    { crit: ['x-hyper'], 'x-hyper': 1, kid: ATTACKER_KID },
    reasonsOf('invalid_header'),
    ATTACKER_KID,
  ),
  headerCase(
    'header-alg-missing',
    'A header without alg is invalid_algorithm (an absent alg is not an allowed one), not invalid_header.',
    { alg: undefined },
    reasonsOf('invalid_algorithm'),
  ),
  headerCase(
    'header-typ-application-jwt',
    'typ is "JWT" up to ASCII case only: the media-type spelling "application/jwt" is invalid_header.',
    { typ: 'application/jwt' },
    reasonsOf('invalid_header'),
  ),
  headerCase(
    'header-kid-utf8-too-long',
    'kid length is counted in UTF-8 bytes: 17 emoji are 68 bytes (34 UTF-16 units, 17 code points), over 64.',
    { kid: EMOJI.repeat(17) },
    reasonsOf('invalid_header'),
  ),
  headerCase(
    'header-kid-utf8-two-byte-too-long',
    'kid length is counted in UTF-8 bytes: 33 "é" are 66 bytes (33 UTF-16 units), over 64.',
    { kid: E_ACUTE.repeat(33) },
    reasonsOf('invalid_header'),
  ),
  headerCase(
    'unknown-kid-utf8-at-limit',
    'A kid of exactly 64 UTF-8 bytes (16 emoji) passes the header rules and is looked up: unknown_kid.',
    { kid: EMOJI.repeat(16) },
    reasonsOf('unknown_kid'),
  ),

  // ── claim check order: each claim in CLAIM_NAMES order, presence and type together ──────────────
  claimCase(
    'claims-order-missing-iss-and-jti',
    'Claims are checked in the order iss, sub, aud, exp, iat, nbf, scope, jti: with iss and jti missing, iss is named.',
    { iss: undefined, jti: undefined },
    [`missing_claim(iss)`],
  ),
  claimCase(
    'claims-order-invalid-iss-missing-jti',
    'Presence and type are checked claim by claim (not all missing claims first): iss of the wrong type wins over a missing jti.',
    { iss: 42, jti: undefined },
    [`invalid_claim(iss)`],
  ),
  claimCase(
    'claims-order-iss-too-long-missing-sub',
    'C1-C4 apply claim by claim: an iss over 256 bytes (C3) is named before a missing sub.',
    { iss: 'i'.repeat(MAX_ISS_LENGTH + 1), sub: undefined },
    [`invalid_claim(iss)`],
  ),
  claimCase(
    'claims-order-types-before-policy',
    'Every claim type is checked before issuer, audience and time: a foreign issuer with jti missing is missing_claim(jti).',
    { iss: 'hyper-evil', jti: undefined },
    [`missing_claim(jti)`],
  ),
  claimCase(
    'claims-order-issuer-before-audience',
    'The issuer is checked before the audience.',
    { iss: 'hyper-evil', aud: 'hyper-analytics' },
    reasonsOf('invalid_issuer'),
  ),
  {
    id: 'claims-order-issuer-before-time',
    description: 'The issuer is checked before the time rules: a foreign, expired token is invalid_issuer.',
    expect: reasonsOf('invalid_issuer'),
    build: (ctx) =>
      valid(ctx, 'claims-order-issuer-before-time', {
        iss: 'hyper-evil',
        exp: ctx.now - 3600,
        iat: ctx.now - 3660,
        nbf: ctx.now - 3660,
      }),
  },
  {
    id: 'claims-order-audience-before-time',
    description:
      'The audience is checked before the time rules: an expired token for another audience is invalid_audience.',
    expect: reasonsOf('invalid_audience'),
    build: (ctx) =>
      valid(ctx, 'claims-order-audience-before-time', {
        aud: 'hyper-analytics',
        exp: ctx.now - 3600,
        iat: ctx.now - 3660,
        nbf: ctx.now - 3660,
      }),
  },

  // ── time rule order: exp, nbf, iat, ttl ─────────────────────────────────────────────────────────
  {
    id: 'time-order-exp-before-nbf',
    description: 'exp is checked before nbf: expired and not yet valid at once is expired_signature.',
    expect: reasonsOf('expired_signature'),
    build: (ctx) =>
      valid(ctx, 'time-order-exp-before-nbf', {
        exp: ctx.now - 3600,
        iat: ctx.now - 3660,
        nbf: ctx.now + 3600,
      }),
  },
  {
    id: 'time-order-nbf-before-iat',
    description: 'nbf is checked before iat: nbf and iat both 120 s ahead is immature_signature.',
    expect: reasonsOf('immature_signature'),
    build: (ctx) =>
      valid(ctx, 'time-order-nbf-before-iat', { exp: ctx.now + 180, iat: ctx.now + 120, nbf: ctx.now + 120 }),
  },
  {
    id: 'time-order-iat-before-ttl',
    description: 'iat is checked before the TTL: iat 61 s ahead with exp - iat = 939 is invalid_iat.',
    expect: reasonsOf('invalid_iat'),
    build: (ctx) => valid(ctx, 'time-order-iat-before-ttl', { exp: ctx.now + 1000, iat: ctx.now + 61 }),
  },
  {
    id: 'time-order-exp-before-ttl',
    description: 'exp is checked before the TTL: expired with exp - iat = 3600 is expired_signature.',
    expect: reasonsOf('expired_signature'),
    build: (ctx) =>
      valid(ctx, 'time-order-exp-before-ttl', {
        exp: ctx.now - 3600,
        iat: ctx.now - 7200,
        nbf: ctx.now - 7200,
      }),
  },
  {
    id: 'exp-before-iat',
    description:
      'exp - iat <= 300 bounds the lifetime granted; a negative one (exp = iat - 1) is accepted while exp + skew > now.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'exp-before-iat', { exp: ctx.now - 1 }),
  },

  // ── strict JSON ─────────────────────────────────────────────────────────────────────────────────
  rawMemberCase(
    'malformed-nested-duplicate-member',
    'Duplicate member names are refused at every depth, not only at the top level: {"a":1,"a":2} inside a claim.',
    '{"a":1,"a":2}',
    reasonsOf('malformed_token'),
  ),
  rawMemberCase(
    'malformed-integer-overflow',
    'An integer literal too large for a double (1 followed by 400 zeros), even in an unknown claim, is refused while parsing.',
    `1${'0'.repeat(400)}`,
    reasonsOf('malformed_token'),
  ),
  rawMemberCase(
    'malformed-nan-literal',
    'NaN is not JSON (RFC 8259 numbers are finite literals), even in an unknown claim: malformed.',
    'NaN',
    reasonsOf('malformed_token'),
  ),
  rawMemberCase(
    'malformed-raw-control-character',
    'A control character (U+0001) written raw inside a string is not JSON; only escaped (\\u0001) is it: malformed.',
    '"a\u0001b"',
    reasonsOf('malformed_token'),
  ),
  rawMemberCase(
    'valid-json-depth-at-limit',
    'Objects and arrays nest 127 deep (the claims object plus 126 arrays in an unknown claim): accepted, as serde_json accepts it.',
    `${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}`,
    reasonsOf('ok'),
  ),
  rawMemberCase(
    'malformed-json-too-deep',
    'Objects and arrays nest 128 deep (the claims object plus 127 arrays): malformed, as serde_json refuses it past its recursion limit.',
    `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`,
    reasonsOf('malformed_token'),
  ),
  rawMemberCase(
    'valid-integer-beyond-64-bits',
    'An integer beyond 64 bits that a double still holds (2^64) is an ordinary number: accepted in an unknown claim.',
    '18446744073709551616',
    reasonsOf('ok'),
  ),

  // ── length unit (UTF-8 bytes) and what the replay store can record ──────────────────────────────
  claimCase(
    'valid-jti-utf8-at-limit',
    'jti length is counted in UTF-8 bytes: 32 emoji are exactly 128 bytes and accepted.',
    { jti: EMOJI.repeat(32) },
    reasonsOf('ok'),
  ),
  claimCase(
    'invalid-claim-jti-utf8-too-long',
    'jti length is counted in UTF-8 bytes: 33 emoji are 132 bytes (66 UTF-16 units, 33 code points), over 128.',
    { jti: EMOJI.repeat(33) },
    [`invalid_claim(jti)`],
  ),
  claimCase(
    'invalid-claim-jti-utf8-two-byte-too-long',
    'jti length is counted in UTF-8 bytes: 65 "é" are 130 bytes (65 UTF-16 units), over 128.',
    { jti: E_ACUTE.repeat(65) },
    [`invalid_claim(jti)`],
  ),
  claimCase(
    'invalid-claim-jti-nul',
    'The replay store cannot record U+0000: a jti containing it is invalid_claim(jti), never a 503.',
    { jti: 'vector-\u0000' },
    [`invalid_claim(jti)`],
  ),
  claimCase(
    'invalid-claim-iss-nul',
    'The replay store cannot record U+0000: an iss containing it is invalid_claim(iss), before the allow-list.',
    { iss: 'hyper-lite\u0000' },
    [`invalid_claim(iss)`],
  ),
  claimCase(
    'invalid-claim-iss-too-long',
    'The replay store records an iss of at most 256 UTF-8 bytes: 257 is invalid_claim(iss), before the allow-list.',
    { iss: 'i'.repeat(257) },
    [`invalid_claim(iss)`],
  ),
  claimCase(
    'invalid-claim-iss-utf8-too-long',
    'iss length is counted in UTF-8 bytes: 129 "é" are 258 bytes (129 UTF-16 units), over 256.',
    { iss: E_ACUTE.repeat(129) },
    [`invalid_claim(iss)`],
  ),
  claimCase(
    'invalid-claim-scope-non-ascii',
    'Scope tokens are RFC 6749 %x21 / %x23-5B / %x5D-7E only: a non-ASCII scope token is invalid_claim(scope).',
    { scope: `spaces:create caf${E_ACUTE}` },
    [`invalid_claim(scope)`],
  ),
];

// Guards the catalogue against a typo in a claim name above.
for (const c of JUDGMENT_CASES) {
  const named = /\((\w+)\)/.exec(c.expect[0]!)?.[1];
  if (named !== undefined && !(CLAIM_NAMES as readonly string[]).includes(named)) throw new Error(c.id);
}
