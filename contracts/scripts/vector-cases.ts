/**
 * The vector catalogue: each case states the rule it pins down and builds its token from the committed
 * test keys at the fixed `now`. Ids are stable: tests in every SDK (and Rust Core) refer to them.
 */
import type { KeyObject } from 'node:crypto';
import type { SupportedAlgorithm } from '../src/constants.js';
import { CLAIM_NAMES, MAX_TOKEN_LENGTH } from '../src/constants.js';
import type { Reason } from '../src/reasons.js';
import { b64u, encodeJson, hmacWithPublicKey, type SigningAlg, signSegments } from './jws.js';
import type { LoadedTestKey } from './test-keys.js';

/** 2026-03-13T00:00:00Z, the date of the contract revision (CORE-2005). */
export const VECTOR_NOW = 1_773_360_000;
export const VECTOR_ISSUER = 'hyper-lite';
export const VECTOR_SUBJECT = 'hyper-lite-gateway';
export const VECTOR_AUDIENCE = 'hyper-core';

export type Json = Record<string, unknown>;

export interface Built {
  token: string;
  /** `signingKid` null: not signed by a test key (alg none, or HS256 keyed with the kid's public key PEM). */
  signed?: { header: Json; claims: Json; signingKid: string | null; alg: SigningAlg | 'HS256' | 'none' };
}

export interface CaseContext {
  now: number;
  keys: Map<string, LoadedTestKey>;
}

export interface CaseDef {
  id: string;
  description: string;
  scope?: string[];
  algorithms?: SupportedAlgorithm[];
  expect: Reason[];
  build(ctx: CaseContext): Built;
}

export const CURRENT_KID = 'lite-2026-03';
export const NEXT_KID = 'lite-2026-04';
export const EC_KID = 'lite-2026-05';
export const ATTACKER_KID = 'lite-2025-01';

export const header = (overrides: Json = {}): Json => ({
  alg: 'RS256',
  typ: 'JWT',
  kid: CURRENT_KID,
  ...overrides,
});

/** Claims in the signer's emission order; `undefined` in overrides removes a claim. */
export function claims(id: string, now: number, overrides: Json = {}): Json {
  const base: Json = {
    iss: VECTOR_ISSUER,
    sub: VECTOR_SUBJECT,
    aud: VECTOR_AUDIENCE,
    exp: now + 60,
    iat: now,
    nbf: now,
    scope: 'spaces:create',
    jti: `vector-${id}`,
  };
  const merged: Json = { ...base, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete merged[name];
  return merged;
}

function key(ctx: CaseContext, kid: string): KeyObject {
  const found = ctx.keys.get(kid);
  if (!found) throw new Error(`no test key ${kid}`);
  return found.privateKey;
}

/** Signs `h` and `c` with the key of `signingKid` (default: the header's kid). */
export function signed(ctx: CaseContext, h: Json, c: Json, signingKid?: string, alg?: SigningAlg): Built {
  const kid = signingKid ?? (h.kid as string);
  const algorithm = alg ?? (ctx.keys.get(kid)?.alg as SigningAlg);
  const token = signSegments(algorithm, encodeJson(h), encodeJson(c), key(ctx, kid));
  return { token, signed: { header: h, claims: c, signingKid: kid, alg: algorithm } };
}

/** Signs raw JSON text segments (for duplicate members, non-finite numbers, bad UTF-8 ...). */
export function signedRaw(
  ctx: CaseContext,
  headerText: string | Uint8Array,
  payloadText: string | Uint8Array,
): string {
  return signSegments('RS256', b64u(headerText), b64u(payloadText), key(ctx, CURRENT_KID));
}

export const valid = (ctx: CaseContext, id: string, c: Json = {}, h: Json = {}): Built =>
  signed(ctx, header(h), claims(id, ctx.now, c));

/** The three segments of a compact token the generator built (always three). */
export const segments = (token: string) => token.split('.') as [string, string, string];

/** Replaces one signature character with another base64url character (all bits of it are used). */
export function corruptSignature(token: string): string {
  const [h, p, s] = segments(token);
  const i = 10;
  const swapped = s[i] === 'A' ? 'B' : 'A';
  return `${h}.${p}.${s.slice(0, i)}${swapped}${s.slice(i + 1)}`;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Sets the unused low bits of a segment's last character: different text that a lenient decoder maps to
 * the same bytes (RFC 4648 §3.5 lets decoders refuse it; the contract's strict base64url does).
 */
function nonCanonical(segment: string): string {
  const rest = segment.length % 4;
  if (rest === 0) throw new Error('a segment of 4n characters has no unused bits');
  const last = BASE64URL_ALPHABET.indexOf(segment[segment.length - 1]!);
  return segment.slice(0, -1) + BASE64URL_ALPHABET[last | (rest === 2 ? 0x0f : 0x03)];
}

/** Claims for `id` whose JSON length is not a multiple of 3, so the payload segment has unused bits. */
function claimsWithUnusedBits(id: string, now: number): Json {
  for (let pad = ''; ; pad += 'x') {
    const c = claims(id, now, { jti: `vector-${id}${pad}` });
    if (JSON.stringify(c).length % 3 !== 0) return c;
  }
}

/**
 * Pads a claim (and, when base64url lengths cannot land on the target, a header member) so the compact
 * token is exactly `length` characters long.
 */
function tokenOfLength(ctx: CaseContext, id: string, length: number): Built {
  for (const headerPad of [undefined, '', 'h', 'hh']) {
    const h = headerPad === undefined ? {} : { pad: headerPad };
    let pad = 0;
    let built = valid(ctx, id, { pad: '' }, h);
    const step = length - built.token.length;
    for (pad = Math.max(0, Math.floor((step * 3) / 4) - 4); built.token.length < length; pad++) {
      built = valid(ctx, id, { pad: 'x'.repeat(pad) }, h);
    }
    if (built.token.length === length) return built;
  }
  throw new Error(`could not build a ${length}-character token`);
}

export const reasonsOf = (...r: Reason[]): Reason[] => r;

export const CASES: CaseDef[] = [
  // ── valid tokens ────────────────────────────────────────────────────────────────────────────────
  {
    id: 'valid-spaces-create',
    description: 'A conforming token with scope spaces:create is accepted by an endpoint requiring it.',
    scope: ['spaces:create'],
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-spaces-create'),
  },
  {
    id: 'valid-join-tokens-issue',
    description: 'A conforming token with scope join_tokens:issue is accepted by an endpoint requiring it.',
    scope: ['join_tokens:issue'],
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-join-tokens-issue', { scope: 'join_tokens:issue' }),
  },
  {
    id: 'valid-both-scopes',
    description: 'A token carrying both scopes satisfies an endpoint that requires both.',
    scope: ['spaces:create', 'join_tokens:issue'],
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-both-scopes', { scope: 'spaces:create join_tokens:issue' }),
  },
  {
    id: 'valid-both-scopes-one-required',
    description: 'A token carrying both scopes satisfies an endpoint that requires only one of them.',
    scope: ['join_tokens:issue'],
    expect: reasonsOf('ok'),
    build: (ctx) =>
      valid(ctx, 'valid-both-scopes-one-required', { scope: 'spaces:create join_tokens:issue' }),
  },
  {
    id: 'valid-rotated-kid',
    description: 'During rotation a token signed with the new key (kid lite-2026-04) is accepted.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-rotated-kid', {}, { kid: NEXT_KID }),
  },
  {
    id: 'valid-aud-array',
    description: 'aud may be an array of strings; it is accepted when it contains the audience.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-aud-array', { aud: ['hyper-analytics', VECTOR_AUDIENCE] }),
  },
  {
    id: 'valid-typ-lowercase',
    description: 'typ is compared case-insensitively (RFC 7515 §4.1.9): "jwt" is accepted.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-typ-lowercase', {}, { typ: 'jwt' }),
  },
  {
    id: 'valid-extra-unknown-scope',
    description: 'Scopes the endpoint does not require are ignored; the required one is present.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-extra-unknown-scope', { scope: 'admin:all spaces:create' }),
  },
  {
    id: 'valid-fractional-numeric-date',
    description: 'NumericDate may be fractional (RFC 7519 §2); exp = now + 60.5 is accepted.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-fractional-numeric-date', { exp: ctx.now + 60.5 }),
  },
  {
    id: 'valid-respelled-json',
    description:
      'Header and claims are JSON, not bytes: whitespace, member order and \\u escapes do not matter once signed over.',
    expect: reasonsOf('ok'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        '{ "kid" : "lite-2026-03",\n  "typ" : "\\u004a\\u0057\\u0054", "alg":"RS256" }',
        `{\n "jti": "vector-valid-respelled-json", "scope": "\\u0073paces:create",\n "iss":"hyper-lite", "sub": "hyper-lite-gateway", "aud": "hyper-core", "exp": ${ctx.now + 60}, "iat": ${ctx.now}, "nbf": ${ctx.now}\n}`,
      ),
    }),
  },
  {
    id: 'valid-numeric-date-exponent',
    description:
      'A NumericDate is any JSON number: exp written as 1.77336006e9 and iat as 1773360000.0 are accepted.',
    expect: reasonsOf('ok'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        JSON.stringify(claims('valid-numeric-date-exponent', ctx.now))
          .replace(`"exp":${ctx.now + 60}`, `"exp":${(ctx.now + 60) / 1e9}e9`)
          .replace(`"iat":${ctx.now}`, `"iat":${ctx.now}.0`),
      ),
    }),
  },
  {
    id: 'valid-es256-when-allowed',
    description: 'An ES256 token (P-256 key lite-2026-05) is accepted when the verifier allows ES256.',
    algorithms: ['RS256', 'ES256'],
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'valid-es256-when-allowed', {}, { alg: 'ES256', kid: EC_KID }),
  },
  {
    id: 'valid-es256-high-s',
    description:
      'ES256 has no low-S rule: the same signature with s replaced by n - s (P-256 order n) verifies too.',
    algorithms: ['RS256', 'ES256'],
    expect: reasonsOf('ok'),
    build: (ctx) => {
      const built = valid(ctx, 'valid-es256-high-s', {}, { alg: 'ES256', kid: EC_KID });
      const [h, p, s] = segments(built.token);
      const signature = Buffer.from(s, 'base64url');
      const order = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
      const given = BigInt(`0x${signature.subarray(32).toString('hex')}`);
      // The signer's s is random in [1, n): keep the high one of s and n - s.
      const high = given > order / 2n ? given : order - given;
      const highS = Buffer.from(high.toString(16).padStart(64, '0'), 'hex');
      return { ...built, token: `${h}.${p}.${b64u(Buffer.concat([signature.subarray(0, 32), highS]))}` };
    },
  },
  {
    id: 'jku-header-ignored',
    description: 'A jku header is never fetched or used: the token verifies with the keyset key by kid.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'jku-header-ignored', {}, { jku: 'https://attacker.invalid/jwks.json' }),
  },
  {
    id: 'size-cap-exact',
    description: `A valid token of exactly ${MAX_TOKEN_LENGTH} characters is accepted.`,
    expect: reasonsOf('ok'),
    build: (ctx) => tokenOfLength(ctx, 'size-cap-exact', MAX_TOKEN_LENGTH),
  },

  // ── TTL and time, at and past the 60 s skew ──────────────────────────────────────────────────────
  {
    id: 'ttl-300',
    description: 'exp - iat = 300 s is the maximum TTL and is accepted.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'ttl-300', { exp: ctx.now + 300 }),
  },
  {
    id: 'ttl-301',
    description: 'exp - iat = 301 s exceeds the 300 s maximum TTL.',
    expect: reasonsOf('ttl_exceeded'),
    build: (ctx) => valid(ctx, 'ttl-301', { exp: ctx.now + 301 }),
  },
  {
    id: 'expired',
    description: 'A token that expired an hour ago is refused.',
    expect: reasonsOf('expired_signature'),
    build: (ctx) => valid(ctx, 'expired', { exp: ctx.now - 3600, iat: ctx.now - 3660, nbf: ctx.now - 3660 }),
  },
  {
    id: 'exp-within-skew',
    description: 'exp = now - 59: exp + 60 > now, still inside the skew, accepted.',
    expect: reasonsOf('ok'),
    build: (ctx) =>
      valid(ctx, 'exp-within-skew', { exp: ctx.now - 59, iat: ctx.now - 119, nbf: ctx.now - 119 }),
  },
  {
    id: 'exp-at-skew',
    description: 'exp = now - 60: exp + 60 <= now, expired exactly at the skew boundary.',
    expect: reasonsOf('expired_signature'),
    build: (ctx) => valid(ctx, 'exp-at-skew', { exp: ctx.now - 60, iat: ctx.now - 120, nbf: ctx.now - 120 }),
  },
  {
    id: 'not-yet-valid',
    description: 'A token whose nbf is an hour ahead is refused.',
    expect: reasonsOf('immature_signature'),
    build: (ctx) =>
      valid(ctx, 'not-yet-valid', { exp: ctx.now + 3660, iat: ctx.now + 3600, nbf: ctx.now + 3600 }),
  },
  {
    id: 'nbf-at-skew',
    description: 'nbf = now + 60: nbf - 60 <= now, accepted at the skew boundary.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'nbf-at-skew', { exp: ctx.now + 120, nbf: ctx.now + 60 }),
  },
  {
    id: 'nbf-past-skew',
    description: 'nbf = now + 61: nbf - 60 > now, not yet valid.',
    expect: reasonsOf('immature_signature'),
    build: (ctx) => valid(ctx, 'nbf-past-skew', { exp: ctx.now + 121, nbf: ctx.now + 61 }),
  },
  {
    id: 'iat-at-skew',
    description: 'iat = now + 60: iat - 60 <= now, accepted at the skew boundary.',
    expect: reasonsOf('ok'),
    build: (ctx) => valid(ctx, 'iat-at-skew', { exp: ctx.now + 120, iat: ctx.now + 60 }),
  },
  {
    id: 'iat-in-future',
    description: 'iat = now + 61: issued in the future beyond the skew.',
    expect: reasonsOf('invalid_iat'),
    build: (ctx) => valid(ctx, 'iat-in-future', { exp: ctx.now + 121, iat: ctx.now + 61 }),
  },

  // ── issuer, audience ────────────────────────────────────────────────────────────────────────────
  {
    id: 'invalid-issuer',
    description: 'An issuer outside the allow-list is refused.',
    expect: reasonsOf('invalid_issuer'),
    build: (ctx) => valid(ctx, 'invalid-issuer', { iss: 'hyper-evil' }),
  },
  {
    id: 'issuer-case-differs',
    description: 'Issuers are compared exactly: "Hyper-Lite" is not "hyper-lite".',
    expect: reasonsOf('invalid_issuer'),
    build: (ctx) => valid(ctx, 'issuer-case-differs', { iss: 'Hyper-Lite' }),
  },
  {
    id: 'invalid-audience',
    description: 'A token for another audience is refused.',
    expect: reasonsOf('invalid_audience'),
    build: (ctx) => valid(ctx, 'invalid-audience', { aud: 'hyper-analytics' }),
  },
  {
    id: 'invalid-audience-array',
    description: 'An aud array that does not contain the audience is refused.',
    expect: reasonsOf('invalid_audience'),
    build: (ctx) => valid(ctx, 'invalid-audience-array', { aud: ['hyper-analytics', 'hyper-billing'] }),
  },

  // ── each required claim missing ─────────────────────────────────────────────────────────────────
  ...CLAIM_NAMES.map(
    (claim): CaseDef => ({
      id: `missing-claim-${claim}`,
      description: `A token without the required ${claim} claim is refused as missing_claim(${claim}).`,
      expect: [`missing_claim(${claim})`],
      build: (ctx) => valid(ctx, `missing-claim-${claim}`, { [claim]: undefined }),
    }),
  ),

  // ── claims present with the wrong type or value ─────────────────────────────────────────────────
  ...(
    [
      ['iss', 'number', 42],
      ['iss', 'empty', ''],
      ['sub', 'null', null],
      ['sub', 'empty', ''],
      ['aud', 'number', 7],
      ['aud', 'empty-array', []],
      ['aud', 'array-of-numbers', [1]],
      ['aud', 'array-with-empty-string', [VECTOR_AUDIENCE, '']],
      ['exp', 'string', '1773360060'],
      ['iat', 'null', null],
      ['nbf', 'boolean', true],
      ['scope', 'array', ['spaces:create']],
      ['scope', 'empty', ''],
      ['scope', 'double-space', 'spaces:create  join_tokens:issue'],
      ['scope', 'tab', 'spaces:create\tjoin_tokens:issue'],
      ['scope', 'too-long', `spaces:create ${'x'.repeat(1011)}`],
      ['jti', 'number', 42],
      ['jti', 'empty', ''],
      ['jti', 'too-long', 'j'.repeat(129)],
    ] as const
  ).map(
    ([claim, kind, value]): CaseDef => ({
      id: `invalid-claim-${claim}-${kind}`,
      description: `A ${claim} claim that is ${kind.replaceAll('-', ' ')} is refused as invalid_claim(${claim}).`,
      expect: [`invalid_claim(${claim})`],
      build: (ctx) => valid(ctx, `invalid-claim-${claim}-${kind}`, { [claim]: value }),
    }),
  ),
  {
    id: 'invalid-claim-exp-non-finite',
    description:
      'exp = 1e400 overflows a double: strict JSON (serde) refuses the text while parsing, so the token is malformed (the id is kept for stability).',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        JSON.stringify(claims('invalid-claim-exp-non-finite', ctx.now)).replace(/"exp":\d+/, '"exp":1e400'),
      ),
    }),
  },

  // ── scope (403) and replay ──────────────────────────────────────────────────────────────────────
  {
    id: 'insufficient-scope',
    description: 'A valid token without the scope the endpoint requires gets 403.',
    scope: ['join_tokens:issue'],
    expect: reasonsOf('insufficient_scope'),
    build: (ctx) => valid(ctx, 'insufficient-scope'),
  },
  {
    id: 'insufficient-scope-one-of-two',
    description: 'Every required scope must be granted: one of two is not enough.',
    scope: ['spaces:create', 'join_tokens:issue'],
    expect: reasonsOf('insufficient_scope'),
    build: (ctx) => valid(ctx, 'insufficient-scope-one-of-two'),
  },
  {
    id: 'insufficient-scope-prefix',
    description: 'Scopes compare exactly: "spaces:create:all" does not grant "spaces:create".',
    expect: reasonsOf('insufficient_scope'),
    build: (ctx) => valid(ctx, 'insufficient-scope-prefix', { scope: 'spaces:create:all' }),
  },
  {
    id: 'insufficient-scope-case',
    description: 'Scopes compare exactly: "Spaces:Create" does not grant "spaces:create".',
    expect: reasonsOf('insufficient_scope'),
    build: (ctx) => valid(ctx, 'insufficient-scope-case', { scope: 'Spaces:Create' }),
  },
  {
    id: 'replayed-jti',
    description: 'The same token presented twice: the first is accepted, the second is a replay.',
    expect: reasonsOf('ok', 'replayed_token'),
    build: (ctx) => valid(ctx, 'replayed-jti'),
  },
  {
    id: 'insufficient-scope-spends-jti',
    description: 'Replay is recorded before the scope check, so a 403 token cannot be presented again.',
    scope: ['join_tokens:issue'],
    expect: reasonsOf('insufficient_scope', 'replayed_token'),
    build: (ctx) => valid(ctx, 'insufficient-scope-spends-jti'),
  },

  // ── keys and signatures ─────────────────────────────────────────────────────────────────────────
  {
    id: 'unknown-kid',
    description: 'A kid that is not in the keyset is refused (e.g. a key removed after rotation).',
    expect: reasonsOf('unknown_kid'),
    build: (ctx) => valid(ctx, 'unknown-kid', {}, { kid: ATTACKER_KID }),
  },
  {
    id: 'bad-signature',
    description: 'One changed signature character invalidates the signature.',
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => ({ token: corruptSignature(valid(ctx, 'bad-signature').token) }),
  },
  {
    id: 'payload-tampered',
    description: 'A payload edited after signing (scope widened) fails the signature check.',
    scope: ['join_tokens:issue'],
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => {
      const original = valid(ctx, 'payload-tampered').token.split('.');
      const forged = encodeJson(
        claims('payload-tampered', ctx.now, { scope: 'spaces:create join_tokens:issue' }),
      );
      return { token: `${original[0]}.${forged}.${original[2]}` };
    },
  },
  {
    id: 'signed-by-other-kid',
    description: 'Signed with the lite-2026-04 key but labelled lite-2026-03: the signature does not verify.',
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => signed(ctx, header(), claims('signed-by-other-kid', ctx.now), NEXT_KID),
  },
  {
    id: 'signature-truncated',
    description: 'A signature cut to half its length is refused.',
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => {
      const t = valid(ctx, 'signature-truncated').token;
      const [h, p, s] = segments(t);
      return { token: `${h}.${p}.${s.slice(0, 172)}` };
    },
  },
  {
    id: 'expired-and-bad-signature',
    description: 'The signature is checked before claims: a forged expired token is invalid_signature.',
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => ({
      token: corruptSignature(
        valid(ctx, 'expired-and-bad-signature', {
          exp: ctx.now - 3600,
          iat: ctx.now - 3660,
          nbf: ctx.now - 3660,
        }).token,
      ),
    }),
  },
  {
    id: 'embedded-jwk-ignored',
    description: "An attacker's key embedded in the jwk header is never used; the known kid's key is.",
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => {
      const attacker = ctx.keys.get(ATTACKER_KID)!;
      const jwk = { ...attacker.publicKey.export({ format: 'jwk' }), kid: CURRENT_KID };
      return signed(ctx, header({ jwk }), claims('embedded-jwk-ignored', ctx.now), ATTACKER_KID);
    },
  },

  {
    id: 'signature-leading-zero-byte',
    description:
      'A zero byte prepended to a valid RS256 signature (257 bytes for a 2048-bit key) is refused.',
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => {
      const [h, p, s] = segments(valid(ctx, 'signature-leading-zero-byte').token);
      return { token: `${h}.${p}.${b64u(Buffer.concat([Buffer.of(0), Buffer.from(s, 'base64url')]))}` };
    },
  },
  {
    id: 'header-respelled-not-resigned',
    description:
      'The signature covers the header bytes: the same header JSON re-spelled with a space fails it.',
    expect: reasonsOf('invalid_signature'),
    build: (ctx) => {
      const [, p, s] = segments(valid(ctx, 'header-respelled-not-resigned').token);
      return { token: `${b64u(JSON.stringify(header()).replace(',', ', '))}.${p}.${s}` };
    },
  },
  {
    id: 'unknown-kid-prototype-name',
    description: 'A kid naming an object prototype member ("__proto__") is just an unknown kid.',
    expect: reasonsOf('unknown_kid'),
    build: (ctx) =>
      signed(ctx, header({ kid: '__proto__' }), claims('unknown-kid-prototype-name', ctx.now), CURRENT_KID),
  },
  {
    id: 'header-payload-swapped',
    description: 'Header and payload segments swapped: the claims set is no header (no typ).',
    expect: reasonsOf('invalid_header'),
    build: (ctx) => {
      const [h, p, s] = segments(valid(ctx, 'header-payload-swapped').token);
      return { token: `${p}.${h}.${s}` };
    },
  },

  // ── algorithms ──────────────────────────────────────────────────────────────────────────────────
  {
    id: 'alg-none',
    description: 'alg "none" with an empty signature is always refused.',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) => {
      const h = header({ alg: 'none' });
      const c = claims('alg-none', ctx.now);
      return {
        token: `${encodeJson(h)}.${encodeJson(c)}.`,
        signed: { header: h, claims: c, signingKid: null, alg: 'none' },
      };
    },
  },
  {
    id: 'alg-hs256-public-key',
    description: 'HS256 with the RSA public key PEM as the HMAC secret (algorithm confusion) is refused.',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) => {
      const pub = ctx.keys.get(CURRENT_KID)!.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const h = header({ alg: 'HS256' });
      const c = claims('alg-hs256-public-key', ctx.now);
      return {
        token: hmacWithPublicKey(encodeJson(h), encodeJson(c), pub),
        signed: { header: h, claims: c, signingKid: null, alg: 'HS256' },
      };
    },
  },
  {
    id: 'alg-rs512',
    description: 'RS512 is not in the allow-list even with a valid signature by the right key.',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) => signed(ctx, header({ alg: 'RS512' }), claims('alg-rs512', ctx.now), CURRENT_KID, 'RS512'),
  },
  {
    id: 'alg-lowercase',
    description: 'Algorithm names are case-sensitive: "rs256" is refused.',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) =>
      signed(ctx, header({ alg: 'rs256' }), claims('alg-lowercase', ctx.now), CURRENT_KID, 'RS256'),
  },
  {
    id: 'alg-not-string',
    description: 'An alg that is not a string is refused.',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) =>
      signed(ctx, header({ alg: ['RS256'] }), claims('alg-not-string', ctx.now), CURRENT_KID, 'RS256'),
  },
  {
    id: 'es256-not-allowed',
    description: 'A correctly signed ES256 token is refused when only RS256 is allowed (the default).',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) => valid(ctx, 'es256-not-allowed', {}, { alg: 'ES256', kid: EC_KID }),
  },
  {
    id: 'alg-differs-from-key-alg',
    description: "A token's alg must equal its key's alg: RS256 header naming the ES256 key's kid.",
    algorithms: ['RS256', 'ES256'],
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) =>
      signed(ctx, header({ kid: EC_KID }), claims('alg-differs-from-key-alg', ctx.now), CURRENT_KID, 'RS256'),
  },

  // ── header ──────────────────────────────────────────────────────────────────────────────────────
  ...(
    [
      ['typ-wrong', 'typ "at+jwt" is not "JWT".', { typ: 'at+jwt' }],
      ['typ-missing', 'typ is required.', { typ: undefined }],
      ['typ-not-string', 'typ must be a string.', { typ: 1 }],
      ['kid-missing', 'kid is required (no single-key fallback).', { kid: undefined }],
      ['kid-empty', 'kid must not be empty.', { kid: '' }],
      ['kid-not-string', 'kid must be a string.', { kid: 42 }],
      ['kid-too-long', 'kid is at most 64 characters.', { kid: `lite-${'9'.repeat(60)}` }],
      [
        'crit-unknown',
        'An unknown critical header parameter is refused.',
        { crit: ['x-hyper'], 'x-hyper': 1 },
      ],
    ] as const
  ).map(
    ([id, description, overrides]): CaseDef => ({
      id: `header-${id}`,
      description,
      expect: reasonsOf('invalid_header'),
      build: (ctx) => {
        const h = header(overrides);
        for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete h[name];
        return signed(ctx, h, claims(`header-${id}`, ctx.now), CURRENT_KID, 'RS256');
      },
    }),
  ),

  {
    id: 'header-crit-and-hs256',
    description:
      'Header rules apply in order typ, kid, alg, crit: an HS256 header that also carries crit is invalid_algorithm.',
    expect: reasonsOf('invalid_algorithm'),
    build: (ctx) =>
      signed(
        ctx,
        header({ alg: 'HS256', crit: ['x-hyper'], 'x-hyper': 1 }),
        claims('header-crit-and-hs256', ctx.now),
        CURRENT_KID,
        'RS256',
      ),
  },

  // ── malformed tokens ────────────────────────────────────────────────────────────────────────────
  {
    id: 'missing-token',
    description: 'An empty token is missing.',
    expect: reasonsOf('missing_token'),
    build: () => ({ token: '' }),
  },
  {
    id: 'malformed-two-segments',
    description: 'A compact JWS has exactly three segments; two is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: valid(ctx, 'malformed-two-segments').token.split('.').slice(0, 2).join('.') }),
  },
  {
    id: 'malformed-four-segments',
    description: 'Four segments (a JWE-like shape) is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: `${valid(ctx, 'malformed-four-segments').token}.AAAA` }),
  },
  {
    id: 'malformed-not-a-jwt',
    description: 'A string with no dots is malformed.',
    expect: reasonsOf('malformed_token'),
    build: () => ({ token: 'not-a-jwt' }),
  },
  {
    id: 'malformed-bad-base64url',
    description: 'Characters outside the base64url alphabet ("+", "/") are malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => {
      const [h, p, s] = segments(valid(ctx, 'malformed-bad-base64url').token);
      return { token: `${h}.${p}.+/${s.slice(2)}` };
    },
  },
  {
    id: 'malformed-padding',
    description: 'base64url segments carry no "=" padding (RFC 7515 §2).',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: `${valid(ctx, 'malformed-padding').token}==` }),
  },
  {
    id: 'malformed-whitespace',
    description: 'Whitespace inside or around the token is malformed (no trimming).',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: ` ${valid(ctx, 'malformed-whitespace').token}` }),
  },
  {
    id: 'malformed-bearer-prefix',
    description: 'The token position holds the token alone; a "Bearer " prefix is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: `Bearer ${valid(ctx, 'malformed-bearer-prefix').token}` }),
  },
  {
    id: 'malformed-header-not-json',
    description: 'A header that is not JSON is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(ctx, 'alg=RS256', JSON.stringify(claims('malformed-header-not-json', ctx.now))),
    }),
  },
  {
    id: 'malformed-payload-not-json',
    description: 'A payload that is not JSON is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: signedRaw(ctx, JSON.stringify(header()), '{"iss":"hyper-lite",') }),
  },
  {
    id: 'malformed-payload-not-object',
    description: 'A payload that is JSON but not an object is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({ token: signedRaw(ctx, JSON.stringify(header()), '["spaces:create"]') }),
  },
  {
    id: 'malformed-header-not-object',
    description: 'A header that is JSON but not an object is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(ctx, '"RS256"', JSON.stringify(claims('malformed-header-not-object', ctx.now))),
    }),
  },
  {
    id: 'malformed-payload-invalid-utf8',
    description: 'A payload that is not valid UTF-8 is malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      ),
    }),
  },
  {
    id: 'malformed-duplicate-header-member',
    description: 'Duplicate member names in the header (two kids) are malformed (RFC 7519 §4).',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        '{"alg":"RS256","typ":"JWT","kid":"lite-2025-01","kid":"lite-2026-03"}',
        JSON.stringify(claims('malformed-duplicate-header-member', ctx.now)),
      ),
    }),
  },
  {
    id: 'malformed-duplicate-claim',
    description: 'Duplicate claim names (two scopes, parsers disagree on which wins) are malformed.',
    scope: ['join_tokens:issue'],
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        JSON.stringify(claims('malformed-duplicate-claim', ctx.now)).replace(
          '"scope":"spaces:create"',
          '"scope":"join_tokens:issue","scope":"spaces:create"',
        ),
      ),
    }),
  },
  {
    id: 'malformed-signature-non-canonical',
    description:
      'The signature segment with its unused trailing bits set decodes to the same bytes, but is not strict base64url.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => {
      const [h, p, s] = segments(valid(ctx, 'malformed-signature-non-canonical').token);
      return { token: `${h}.${p}.${nonCanonical(s)}` };
    },
  },
  {
    id: 'malformed-signature-length-1-mod-4',
    description:
      'A segment whose length is 1 mod 4 encodes no whole number of bytes (a lenient decoder drops the last character): malformed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => {
      const [h, p, s] = segments(valid(ctx, 'malformed-signature-length-1-mod-4').token);
      return { token: `${h}.${p}.${s}${'A'.repeat((((1 - s.length) % 4) + 4) % 4 || 4)}` };
    },
  },
  {
    id: 'malformed-payload-non-canonical',
    description:
      'A payload segment with unused trailing bits set is malformed, even with a valid signature over exactly that text.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => {
      const payload = nonCanonical(
        encodeJson(claimsWithUnusedBits('malformed-payload-non-canonical', ctx.now)),
      );
      return { token: signSegments('RS256', encodeJson(header()), payload, key(ctx, CURRENT_KID)) };
    },
  },
  {
    id: 'malformed-duplicate-escaped-member',
    description: 'A duplicate member spelled with an escape ("kid" and "\\u006bid") is still a duplicate.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        '{"alg":"RS256","typ":"JWT","kid":"lite-2026-03","\\u006bid":"lite-2025-01"}',
        JSON.stringify(claims('malformed-duplicate-escaped-member', ctx.now)),
      ),
    }),
  },
  {
    id: 'malformed-payload-bom',
    description:
      'A claims set starting with a byte order mark is not a JSON text (RFC 8259 §8.1), even when signed.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        `\uFEFF${JSON.stringify(claims('malformed-payload-bom', ctx.now))}`,
      ),
    }),
  },
  {
    id: 'malformed-lone-surrogate',
    description:
      'A \\u escape of a lone UTF-16 surrogate is not a Unicode string (RFC 8259 §8.2); serde refuses it, so must every verifier.',
    expect: reasonsOf('malformed_token'),
    build: (ctx) => ({
      token: signedRaw(
        ctx,
        JSON.stringify(header()),
        JSON.stringify(claims('malformed-lone-surrogate', ctx.now)).replace(
          '"jti":"vector-malformed-lone-surrogate"',
          '"jti":"vector-\\ud800"',
        ),
      ),
    }),
  },
  {
    id: 'malformed-over-size-cap',
    description: `A token of ${MAX_TOKEN_LENGTH + 1} characters is refused before any parsing.`,
    expect: reasonsOf('malformed_token'),
    build: (ctx) => tokenOfLength(ctx, 'malformed-over-size-cap', MAX_TOKEN_LENGTH + 1),
  },
];
