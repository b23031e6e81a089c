import fc from 'fast-check';
import { file } from '../../harness/vectors.js';
import type { SignedTexts } from './contract-oracle.js';
import { claimEdit, claimValue, headerEdit, spelling } from './edits.js';
import { type Document, documentOf, type Member, type Spelling, spell, withMember } from './json-text.js';
import { b64url, conformingClaims, signTexts, VECTOR_KEYS, vectorSigningKey } from './jws.js';

const KEYSET_KIDS = file.jwks.keys.map((key) => key.kid);
const ALL_KIDS = [...VECTOR_KEYS.keys()];

export interface SignedCaseSpec {
  readonly kid: string;
  readonly jti: string;
  readonly headerEdits: readonly Member[];
  readonly claimEdits: readonly Member[];
  readonly headerSpelling: Spelling;
  readonly payloadSpelling: Spelling;
  /** Sign with this vector key instead of the one the (edited) header names. */
  readonly signWith: string | undefined;
}

/** Header and claims edited, spelled and then signed with the right key (or, sometimes, another). */
export function signedCaseSpec(now: number): fc.Arbitrary<SignedCaseSpec> {
  const claims = conformingClaims(now, 'x');
  return fc.record({
    kid: fc.constantFrom(...KEYSET_KIDS),
    jti: fc.string({ minLength: 1, maxLength: 12 }).map((suffix) => `fuzz-${suffix}`),
    headerEdits: fc.array(headerEdit, { maxLength: 3 }),
    claimEdits: fc.array(claimEdit(now), { maxLength: 3 }),
    headerSpelling: spelling(['alg', 'typ', 'kid'], fc.constantFrom('RS256', 'ES256', 'JWT', 'lite-2026-04')),
    payloadSpelling: spelling(Object.keys(claims), claimValue(now)),
    signWith: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom(...ALL_KIDS) },
    ),
  });
}

export function buildSignedCase(spec: SignedCaseSpec, now: number): SignedTexts {
  const base = vectorSigningKey(spec.kid);
  let header: Document = [
    ['alg', base.alg],
    ['typ', 'JWT'],
    ['kid', spec.kid],
  ];
  for (const [name, value] of spec.headerEdits) header = withMember(header, name, value);
  let claims: Document = Object.entries(conformingClaims(now, spec.jti));
  for (const [name, value] of spec.claimEdits) claims = withMember(claims, name, value);

  const headerText = spell(header, spec.headerSpelling);
  const payloadText = spell(claims, spec.payloadSpelling);
  // The right key is the one the header names, whatever else the edits did to it.
  const named = header.find(([name]) => name === 'kid')?.[1];
  const signedBy = spec.signWith ?? (typeof named === 'string' && VECTOR_KEYS.has(named) ? named : spec.kid);
  return {
    token: signTexts(vectorSigningKey(signedBy), headerText.text, payloadText.text),
    headerText: headerText.text,
    payloadText: payloadText.text,
    duplicateMember: headerText.duplicate || payloadText.duplicate,
    signedBy,
  };
}

// ── mutations of a valid token that are NOT re-signed ───────────────────────────────────────────

const SEGMENT = fc.constantFrom(0, 1, 2);
const ODD_CHARS = [
  ...'AZaz09-_',
  '.',
  '=',
  '+',
  '/',
  ' ',
  '\n',
  '\t',
  '%',
  '~',
  'é',
  '\u0000',
  '\ud800',
  '😀',
];

export type Mutation =
  | { readonly kind: 'replace'; readonly at: number; readonly char: string }
  | { readonly kind: 'flip-bit'; readonly at: number; readonly bit: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly at: number; readonly count: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'segments'; readonly order: readonly number[] }
  | { readonly kind: 'splice'; readonly segment: number; readonly donor: number }
  | { readonly kind: 'reencode'; readonly segment: number; readonly style: Reencoding }
  | { readonly kind: 'xor-byte'; readonly segment: number; readonly at: number; readonly xor: number }
  | { readonly kind: 'signature-bytes'; readonly edit: SignatureEdit }
  | { readonly kind: 'header-json'; readonly edit: Member | undefined; readonly spelling: Spelling }
  | { readonly kind: 'claims-json'; readonly edit: Member | undefined; readonly spelling: Spelling }
  | { readonly kind: 'case'; readonly segment: number; readonly style: 'upper' | 'lower' | 'swap' };

type Reencoding =
  | 'standard'
  | 'padded'
  | 'standard-padded'
  | 'non-canonical'
  | 'whitespace'
  | 'percent'
  | 'quoted';
type SignatureEdit =
  | 'prepend-zero'
  | 'append-zero'
  | 'strip-first'
  | 'drop-last'
  | 'double'
  | 'empty'
  | 'zeros';

export function mutation(now: number, donors: number): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 10_000 });
  return fc.oneof(
    fc.record({ kind: fc.constant('replace' as const), at, char: fc.constantFrom(...ODD_CHARS) }),
    fc.record({ kind: fc.constant('flip-bit' as const), at, bit: fc.integer({ min: 0, max: 15 }) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at,
      text: fc.string({ unit: fc.constantFrom(...ODD_CHARS), minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at, count: fc.integer({ min: 1, max: 4 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at }),
    fc.record({
      kind: fc.constant('segments' as const),
      order: fc.array(SEGMENT, { minLength: 1, maxLength: 5 }),
    }),
    fc.record({
      kind: fc.constant('splice' as const),
      segment: SEGMENT,
      donor: fc.nat({ max: Math.max(0, donors - 1) }),
    }),
    fc.record({
      kind: fc.constant('reencode' as const),
      segment: SEGMENT,
      style: fc.constantFrom<Reencoding>(
        'standard',
        'padded',
        'standard-padded',
        'non-canonical',
        'whitespace',
        'percent',
        'quoted',
      ),
    }),
    fc.record({
      kind: fc.constant('xor-byte' as const),
      segment: SEGMENT,
      at,
      xor: fc.integer({ min: 1, max: 255 }),
    }),
    fc.record({
      kind: fc.constant('signature-bytes' as const),
      edit: fc.constantFrom<SignatureEdit>(
        'prepend-zero',
        'append-zero',
        'strip-first',
        'drop-last',
        'double',
        'empty',
        'zeros',
      ),
    }),
    fc.record({
      kind: fc.constant('header-json' as const),
      edit: fc.option(headerEdit, { nil: undefined }),
      spelling: spelling(['alg', 'typ', 'kid'], fc.constantFrom('RS256', 'JWT')),
    }),
    fc.record({
      kind: fc.constant('claims-json' as const),
      edit: fc.option(claimEdit(now), { nil: undefined }),
      spelling: spelling(['iss', 'exp', 'scope', 'jti'], claimValue(now)),
    }),
    fc.record({
      kind: fc.constant('case' as const),
      segment: fc.constantFrom(0, 1, 2, 3),
      style: fc.constantFrom<'upper' | 'lower' | 'swap'>('upper', 'lower', 'swap'),
    }),
  );
}

function reencode(segment: string, style: Reencoding): string {
  const bytes = Buffer.from(segment, 'base64url');
  const standard = bytes.toString('base64');
  switch (style) {
    case 'standard':
      return standard.replace(/=+$/, '');
    case 'padded':
      return bytes.toString('base64url') + '='.repeat((4 - (segment.length % 4)) % 4 || 4);
    case 'standard-padded':
      return standard;
    case 'non-canonical': {
      // Set the unused low bits of the last character: other text, same bytes (when any bits are unused).
      const rest = segment.length % 4;
      if (rest === 0 || segment.length === 0) return `${segment}A`;
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(segment[segment.length - 1]!);
      return segment.slice(0, -1) + alphabet[last | (rest === 2 ? 0x0f : 0x03)];
    }
    case 'whitespace':
      return `${segment.slice(0, 4)}\r\n${segment.slice(4)}`;
    case 'percent':
      return `${segment.replace(/[-_]/g, (char) => `%${char.charCodeAt(0).toString(16)}`)}%3D`;
    case 'quoted':
      return `"${segment}"`;
  }
}

function editSignature(signature: string, edit: SignatureEdit): string {
  const bytes = Buffer.from(signature, 'base64url');
  const edited: Record<SignatureEdit, () => Buffer> = {
    'prepend-zero': () => Buffer.concat([Buffer.of(0), bytes]),
    'append-zero': () => Buffer.concat([bytes, Buffer.of(0)]),
    'strip-first': () => bytes.subarray(1),
    'drop-last': () => bytes.subarray(0, -1),
    double: () => Buffer.concat([bytes, bytes]),
    empty: () => Buffer.alloc(0),
    zeros: () => Buffer.alloc(bytes.length),
  };
  return edited[edit]().toString('base64url');
}

function editJson(segment: string, edit: Member | undefined, how: Spelling): string {
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  let document = documentOf(text) ?? [];
  if (edit !== undefined) document = withMember(document, edit[0], edit[1]);
  return b64url(spell(document, how).text);
}

function changeCase(text: string, style: 'upper' | 'lower' | 'swap'): string {
  if (style === 'upper') return text.toUpperCase();
  if (style === 'lower') return text.toLowerCase();
  return text.replace(/[a-z]/gi, (char) =>
    char === char.toLowerCase() ? char.toUpperCase() : char.toLowerCase(),
  );
}

/** Applies one mutation; `donors` are other valid tokens to splice segments from. */
export function mutate(token: string, change: Mutation, donors: readonly string[]): string {
  const segments = token.split('.');
  const position = (at: number, length: number) => (length === 0 ? 0 : at % (length + 1));
  const withSegment = (index: number, next: (segment: string) => string) => {
    if (index >= segments.length) return token;
    const copy = [...segments];
    copy[index] = next(copy[index]!);
    return copy.join('.');
  };
  switch (change.kind) {
    case 'replace': {
      if (token.length === 0) return change.char;
      const at = change.at % token.length;
      return token.slice(0, at) + change.char + token.slice(at + 1);
    }
    case 'flip-bit': {
      if (token.length === 0) return token;
      const at = change.at % token.length;
      return (
        token.slice(0, at) +
        String.fromCharCode(token.charCodeAt(at) ^ (1 << change.bit)) +
        token.slice(at + 1)
      );
    }
    case 'insert': {
      const at = position(change.at, token.length);
      return token.slice(0, at) + change.text + token.slice(at);
    }
    case 'delete': {
      const at = position(change.at, token.length);
      return token.slice(0, at) + token.slice(at + change.count);
    }
    case 'truncate':
      return token.slice(0, position(change.at, token.length));
    case 'segments':
      return change.order.map((index) => segments[index] ?? '').join('.');
    case 'splice': {
      const donor = donors[change.donor % Math.max(1, donors.length)];
      const part = donor?.split('.')[change.segment];
      return part === undefined ? token : withSegment(change.segment, () => part);
    }
    case 'reencode':
      return withSegment(change.segment, (segment) => reencode(segment, change.style));
    case 'xor-byte':
      return withSegment(change.segment, (segment) => {
        const bytes = Buffer.from(segment, 'base64url');
        if (bytes.length === 0) return segment;
        const at = change.at % bytes.length;
        bytes[at] = (bytes[at] ?? 0) ^ change.xor;
        return bytes.toString('base64url');
      });
    case 'signature-bytes':
      return withSegment(2, (segment) => editSignature(segment, change.edit));
    case 'header-json':
      return withSegment(0, (segment) => editJson(segment, change.edit, change.spelling));
    case 'claims-json':
      return withSegment(1, (segment) => editJson(segment, change.edit, change.spelling));
    case 'case':
      return change.segment === 3
        ? changeCase(token, change.style)
        : withSegment(change.segment, (segment) => changeCase(segment, change.style));
  }
}
