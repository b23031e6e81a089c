import { CLAIM_NAMES, MAX_JTI_LENGTH, MAX_KID_LENGTH, MAX_SCOPE_LENGTH } from '@hyper/s2s-contracts';
import fc from 'fast-check';
import { file } from '../../harness/vectors.js';
import { type Member, RawJson, type Spelling } from './json-text.js';

/** Offsets (seconds) around every time rule's boundary: skew 60, TTL 300, and well past both. */
const TIME_OFFSETS = [
  -3660, -361, -301, -121, -120, -61, -60, -59, -1, 0, 1, 59, 60, 61, 119, 120, 121, 299, 300, 301, 360, 3600,
];

const INTERESTING_STRINGS = [
  '',
  ' ',
  file.issuer,
  'Hyper-Lite',
  `${file.issuer} `,
  file.audience,
  'hyper-analytics',
  'spaces:create',
  'join_tokens:issue',
  'spaces:create join_tokens:issue',
  'join_tokens:issue spaces:create',
  'spaces:create:all',
  'Spaces:Create',
  'spaces:create  join_tokens:issue',
  'spaces:create\tjoin_tokens:issue',
  ' spaces:create',
  'spaces:create ',
  'spaces:create\n',
  'spaces:\u0000create',
  `spaces:create ${'y'.repeat(MAX_SCOPE_LENGTH - 14)}`,
  `spaces:create ${'y'.repeat(MAX_SCOPE_LENGTH - 13)}`,
  'j'.repeat(MAX_JTI_LENGTH),
  'j'.repeat(MAX_JTI_LENGTH + 1),
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  'é',
  '"',
  '\\',
  '\u2028',
];

/** A claim value: mostly near what the rules look at, sometimes anything JSON can carry. */
export function claimValue(now: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...INTERESTING_STRINGS) },
    { weight: 4, arbitrary: fc.constantFrom(...TIME_OFFSETS).map((offset) => now + offset) },
    { weight: 2, arbitrary: fc.integer({ min: -400, max: 400 }).map((offset) => now + offset) },
    { weight: 1, arbitrary: fc.double({ min: now - 400, max: now + 400, noNaN: true }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        new RawJson('1e400'),
        new RawJson('-1e400'),
        new RawJson('-0'),
        new RawJson(`${now}.0`),
        new RawJson(`${now}e0`),
        new RawJson(`${now / 1000}E3`),
        new RawJson('1.7976931348623157e308'),
      ),
    },
    { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(String)) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, [], {}) },
    {
      weight: 2,
      arbitrary: fc.array(fc.constantFrom(...INTERESTING_STRINGS.slice(0, 8), 1, null), { maxLength: 3 }),
    },
    { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
}

const claimName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...CLAIM_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'ISS', 'Scope', 'jti ', 'extra') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** Set a claim (or remove it: `undefined`). */
export function claimEdit(now: number): fc.Arbitrary<Member> {
  return fc.tuple(
    claimName,
    fc.oneof({ weight: 6, arbitrary: claimValue(now) }, { weight: 1, arbitrary: fc.constant(undefined) }),
  );
}

const KNOWN_KIDS = file.testPrivateKeys.keys.map((key) => key.kid);

const HEADER_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  alg: fc.constantFrom(
    'RS256',
    'ES256',
    'HS256',
    'none',
    'None',
    'rs256',
    'RS512',
    'PS256',
    'ES384',
    '',
    'RS256 ',
    7,
    null,
    ['RS256'],
  ),
  typ: fc.constantFrom(
    'JWT',
    'jwt',
    'Jwt',
    'jWt',
    'at+jwt',
    'JOSE',
    'JWT ',
    '',
    'application/jwt',
    'ＪＷＴ',
    1,
    null,
  ),
  kid: fc.oneof(
    fc.constantFrom(...KNOWN_KIDS),
    fc.constantFrom(
      '',
      'k'.repeat(MAX_KID_LENGTH),
      'k'.repeat(MAX_KID_LENGTH + 1),
      'LITE-2026-03',
      'lite-2026-03 ',
      '__proto__',
      'constructor',
      'toString',
      0,
      null,
      ['lite-2026-03'],
    ),
    fc.string({ maxLength: 10 }),
  ),
  crit: fc.constantFrom(['b64'], [], ['exp'], 'b64', null, ['x-hyper']),
  jku: fc.constant('https://attacker.invalid/jwks.json'),
  x5u: fc.constant('https://attacker.invalid/cert.pem'),
  jwk: fc.constant({ kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'lite-2026-03' }),
  x5c: fc.constant(['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA']),
  b64: fc.boolean(),
};

/** Set a header parameter (or remove it: `undefined`). */
export const headerEdit: fc.Arbitrary<Member> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...Object.keys(HEADER_VALUES))
      .chain((name) =>
        fc.tuple(
          fc.constant(name),
          fc.oneof(
            { weight: 8, arbitrary: HEADER_VALUES[name]! },
            { weight: 1, arbitrary: fc.constant(undefined) },
          ),
        ),
      ),
  },
  { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 })) },
);

/** A byte-level spelling of a JSON document; duplicates of existing members come from `names`. */
export function spelling(names: readonly string[], value: fc.Arbitrary<unknown>): fc.Arbitrary<Spelling> {
  return fc.record({
    order: fc.constantFrom('keep', 'keep', 'reverse', 'sorted'),
    space: fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n'),
    escapeLetters: fc.boolean(),
    bom: fc.oneof({ weight: 15, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    extra: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...names), value) },
    ),
  }) as fc.Arbitrary<Spelling>;
}
