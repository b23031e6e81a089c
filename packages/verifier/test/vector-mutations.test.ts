/**
 * Mutation test of the contract's judgment calls (issue 11): for each SPEC.md rule, a verifier variant
 * with that one rule flipped is run over every vector and sequence, and at least one outcome must
 * change (the witnesses named here). The production code stays as it is: each variant replaces one of
 * the verifier's own rule modules (or the contracts' strict JSON helpers) through vi.doMock, wrapping
 * the real function, in a fresh module graph.
 * Not here: the skew boundaries (P3-P5), which jose enforces a second time in this verifier (defence in
 * depth), so flipping our copy alone changes nothing; their boundary vectors pin them for other
 * implementations.
 */

import { fileURLToPath } from 'node:url';
import { CLAIM_NAMES, type ClaimName, type Outcome, type Reason } from '@hyper/s2s-contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as MembersModule from '../../../contracts/src/json-members.js';
import type * as ClaimsModule from '../src/claims.js';
import type * as HeaderModule from '../src/header.js';
import type { VerifierOptions } from '../src/options.js';
import type { ReplayStore } from '../src/replay/store.js';
import type * as VerifierModule from '../src/verifier.js';
import { file, staticKeys, VECTOR_ROUTE, vectorOptions } from './harness/vectors.js';

type CheckHeader = typeof HeaderModule.checkHeader;
type CheckClaimTypes = typeof ClaimsModule.checkClaimTypes;
type CheckClaimPolicy = typeof ClaimsModule.checkClaimPolicy;
type Payload = Record<string, unknown>;

/**
 * The contracts' strict JSON helpers as the verifier loads them (the workspace build, which vitest
 * transforms like the verifier's own modules, so vi.doMock reaches the import in strict-json.js).
 */
const MEMBERS_MODULE = fileURLToPath(new URL('../../../contracts/dist/json-members.js', import.meta.url));

interface Mutant {
  /** The SPEC.md rule the mutant flips. */
  rule: string;
  what: string;
  /** Vectors or sequences whose outcome must change. */
  witnesses: string[];
  header?: (original: CheckHeader) => CheckHeader;
  claimTypes?: (original: CheckClaimTypes) => CheckClaimTypes;
  claimPolicy?: (original: CheckClaimPolicy) => CheckClaimPolicy;
  members?: (original: typeof MembersModule) => Partial<typeof MembersModule>;
  replayStore?: (inner: ReplayStore) => ReplayStore;
}

const utf16Length = (s: string) => s.length;
const codePoints = (s: string) => [...s].length;
const knownKids = new Set(file.jwks.keys.map((key) => key.kid));
const validClaims = file.vectors.find((v) => v.id === 'valid-spaces-create')!.signed!.claims;

/** One claim judged by the real checkClaimTypes: every other claim set to a valid value. */
function singleClaim(original: CheckClaimTypes, payload: Payload, name: ClaimName) {
  const probe: Payload = { ...validClaims, [name]: payload[name] };
  if (payload[name] === undefined) delete probe[name];
  return original(probe);
}

/** Replaces a string claim before the real check (to loosen one predicate). */
const substituting =
  (name: ClaimName, replace: (value: string) => string | undefined) =>
  (original: CheckClaimTypes): CheckClaimTypes =>
  (payload) => {
    const value = payload[name];
    const stand = typeof value === 'string' ? replace(value) : undefined;
    return original(stand === undefined ? payload : { ...payload, [name]: stand });
  };

/** Counts only the members of the top-level object of a JSON text (what a top-level-only check sees). */
function topLevelMembers(text: string): number {
  let depth = 0;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === ':' && depth === 1) count++;
  }
  return count;
}

const MUTANTS: Mutant[] = [
  // ── header ──
  {
    rule: 'H1',
    what: 'typ compared case-sensitively',
    witnesses: ['valid-typ-lowercase'],
    header: (original) => (h, allowed) =>
      h.typ === 'JWT' ? original(h, allowed) : original({ ...h, typ: 'x' }, allowed),
  },
  {
    rule: 'H1',
    what: 'typ "application/jwt" accepted',
    witnesses: ['header-typ-application-jwt'],
    header: (original) => (h, allowed) =>
      original(h.typ === 'application/jwt' ? { ...h, typ: 'JWT' } : h, allowed),
  },
  {
    rule: 'H2',
    what: 'kid length in UTF-16 code units',
    witnesses: ['header-kid-utf8-too-long', 'header-kid-utf8-two-byte-too-long'],
    header: (original) => (h, allowed) =>
      original(
        typeof h.kid === 'string' && utf16Length(h.kid) <= 64 && h.kid !== '' ? { ...h, kid: 'k' } : h,
        allowed,
      ),
  },
  {
    rule: 'H2',
    what: 'kid length in code points',
    witnesses: ['header-kid-utf8-too-long'],
    header: (original) => (h, allowed) =>
      original(
        typeof h.kid === 'string' && codePoints(h.kid) <= 64 && h.kid !== '' ? { ...h, kid: 'k' } : h,
        allowed,
      ),
  },
  {
    rule: 'H3',
    what: 'a missing alg is invalid_header',
    witnesses: ['header-alg-missing'],
    header: (original) => (h, allowed) => {
      const reason = original(h, allowed);
      return reason === 'invalid_algorithm' && h.alg === undefined ? 'invalid_header' : reason;
    },
  },
  {
    rule: 'H3',
    what: 'alg checked before typ and kid',
    witnesses: ['header-typ-wrong-alg-hs256', 'header-kid-missing-alg-none'],
    header: (original) => (h, allowed) =>
      typeof h.alg !== 'string' || !allowed.has(h.alg) ? 'invalid_algorithm' : original(h, allowed),
  },
  {
    rule: 'H4',
    what: 'crit checked before alg',
    witnesses: ['header-crit-and-hs256'],
    header: (original) => (h, allowed) => (h.crit !== undefined ? 'invalid_header' : original(h, allowed)),
  },
  {
    rule: 'K1',
    what: 'key lookup before the header rules',
    witnesses: ['header-typ-wrong-unknown-kid', 'alg-hs256-unknown-kid', 'header-crit-unknown-kid'],
    header: (original) => (h, allowed) =>
      typeof h.kid === 'string' && h.kid !== '' && !knownKids.has(h.kid) ? undefined : original(h, allowed),
  },
  // ── strict JSON ──
  {
    rule: 'J5',
    what: 'duplicate members refused at the top level only',
    witnesses: ['malformed-nested-duplicate-member'],
    members: () => ({
      countMembers: topLevelMembers,
      parsedMemberCount: (root: object) => Object.keys(root).length,
    }),
  },
  {
    rule: 'J6',
    what: 'an overflowing number literal parses to Infinity',
    witnesses: ['invalid-claim-exp-non-finite', 'malformed-integer-overflow'],
    members: () => ({ allNumbersFinite: () => true }),
  },
  // ── claims ──
  {
    rule: 'C1',
    what: 'nbf optional',
    witnesses: ['missing-claim-nbf'],
    claimTypes: (original) => (p) => original(p.nbf === undefined ? { ...p, nbf: 0 } : p),
  },
  {
    rule: 'C3',
    what: 'jti length in UTF-16 code units',
    witnesses: ['invalid-claim-jti-utf8-too-long', 'invalid-claim-jti-utf8-two-byte-too-long'],
    claimTypes: substituting('jti', (v) =>
      v !== '' && utf16Length(v) <= 128 && !v.includes('\0') ? 'j' : undefined,
    ),
  },
  {
    rule: 'C3',
    what: 'jti length in code points',
    witnesses: ['invalid-claim-jti-utf8-too-long'],
    claimTypes: substituting('jti', (v) =>
      v !== '' && codePoints(v) <= 128 && !v.includes('\0') ? 'j' : undefined,
    ),
  },
  {
    rule: 'C3',
    what: 'U+0000 in jti left to the replay store',
    witnesses: ['invalid-claim-jti-nul'],
    claimTypes: substituting('jti', (v) => v.replaceAll('\0', 'x')),
  },
  {
    rule: 'C3',
    what: 'iss unbounded and U+0000 allowed (left to the allow-list)',
    witnesses: ['invalid-claim-iss-nul', 'invalid-claim-iss-too-long', 'invalid-claim-iss-utf8-too-long'],
    claimTypes: substituting('iss', (v) => (v === '' ? undefined : 'i')),
  },
  {
    rule: 'C4',
    what: 'non-ASCII scope tokens allowed',
    witnesses: ['invalid-claim-scope-non-ascii'],
    claimTypes: substituting('scope', (v) => v.replace(/[\u0080-\u{10FFFF}]/gu, 'x')),
  },
  {
    rule: 'C5',
    what: 'claims checked in reverse order',
    witnesses: ['claims-order-missing-iss-and-jti'],
    claimTypes: (original) => (p) => {
      for (const name of [...CLAIM_NAMES].reverse()) {
        const reason = singleClaim(original, p, name);
        if (reason !== undefined) return reason;
      }
      return undefined;
    },
  },
  {
    rule: 'C5',
    what: 'all missing claims before any wrong type',
    witnesses: ['claims-order-invalid-iss-missing-jti'],
    claimTypes: (original) => (p) => {
      for (const name of CLAIM_NAMES)
        if (p[name] === undefined) return `missing_claim(${name})` as Reason as never;
      return original(p);
    },
  },
  {
    rule: 'C5',
    what: 'issuer checked before the claim types',
    witnesses: ['claims-order-types-before-policy'],
    claimTypes: (original) => (p) =>
      typeof p.iss === 'string' && p.iss !== file.issuer ? 'invalid_issuer' : original(p),
  },
  // ── issuer, audience, time ──
  {
    rule: 'P1',
    what: 'audience checked before issuer',
    witnesses: ['claims-order-issuer-before-audience'],
    claimPolicy: (original) => (c, policy, now) => {
      const audOnly = original(c, { ...policy, issuers: new Set([c.iss]) }, now);
      return audOnly === 'invalid_audience' ? audOnly : original(c, policy, now);
    },
  },
  {
    rule: 'P1',
    what: 'time rules before issuer and audience',
    witnesses: ['claims-order-issuer-before-time', 'claims-order-audience-before-time'],
    claimPolicy: (original) => (c, policy, now) => {
      const aud = typeof c.aud === 'string' ? c.aud : c.aud[0]!;
      return (
        original(c, { ...policy, issuers: new Set([c.iss]), audience: aud }, now) ?? original(c, policy, now)
      );
    },
  },
  {
    rule: 'P3',
    what: 'nbf checked before exp',
    witnesses: ['time-order-exp-before-nbf'],
    claimPolicy: (original) => (c, policy, now) => {
      const reason = original(c, policy, now);
      return reason === 'expired_signature' && c.nbf - policy.clockToleranceSeconds > now
        ? 'immature_signature'
        : reason;
    },
  },
  {
    rule: 'P4',
    what: 'iat checked before nbf',
    witnesses: ['time-order-nbf-before-iat'],
    claimPolicy: (original) => (c, policy, now) => {
      const reason = original(c, policy, now);
      return reason === 'immature_signature' && c.iat - policy.clockToleranceSeconds > now
        ? 'invalid_iat'
        : reason;
    },
  },
  {
    rule: 'P5',
    what: 'TTL checked before iat',
    witnesses: ['time-order-iat-before-ttl'],
    claimPolicy: (original) => (c, policy, now) => {
      const reason = original(c, policy, now);
      return reason === 'invalid_iat' && c.exp - c.iat > policy.maxTtlSeconds ? 'ttl_exceeded' : reason;
    },
  },
  {
    rule: 'P6',
    what: 'TTL checked before exp',
    witnesses: ['time-order-exp-before-ttl'],
    claimPolicy: (original) => (c, policy, now) => {
      const reason = original(c, policy, now);
      return reason === 'expired_signature' && c.exp - c.iat > policy.maxTtlSeconds ? 'ttl_exceeded' : reason;
    },
  },
  {
    rule: 'P6',
    what: 'exp < iat refused',
    witnesses: ['exp-before-iat'],
    claimPolicy: (original) => (c, policy, now) =>
      original(c, policy, now) ?? (c.exp < c.iat ? 'ttl_exceeded' : undefined),
  },
  // ── replay ──
  {
    rule: 'R1',
    what: 'replay keyed on jti alone',
    witnesses: ['replay-same-jti-two-issuers'],
    replayStore: (inner) => ({ ...inner, remember: (e) => inner.remember({ ...e, iss: 'one' }) }),
  },
  {
    rule: 'R1',
    what: 'replay keyed on the whole token (here: iss, jti and exp)',
    witnesses: ['replay-same-iss-jti-two-tokens'],
    replayStore: (inner) => ({
      ...inner,
      remember: (e) => inner.remember({ ...e, jti: `${e.jti}|${e.exp}` }),
    }),
  },
];

type Outcomes = Map<string, Outcome[]>;

async function runAll(mutant?: Mutant): Promise<Outcomes> {
  vi.resetModules();
  if (mutant?.header) {
    const wrap = mutant.header;
    vi.doMock('../src/header.js', async (importOriginal) => {
      const real = await importOriginal<typeof HeaderModule>();
      return { ...real, checkHeader: wrap(real.checkHeader) };
    });
  }
  if (mutant?.claimTypes || mutant?.claimPolicy) {
    const { claimTypes, claimPolicy } = mutant;
    vi.doMock('../src/claims.js', async (importOriginal) => {
      const real = await importOriginal<typeof ClaimsModule>();
      return {
        ...real,
        checkClaimTypes: claimTypes ? claimTypes(real.checkClaimTypes) : real.checkClaimTypes,
        checkClaimPolicy: claimPolicy ? claimPolicy(real.checkClaimPolicy) : real.checkClaimPolicy,
      };
    });
  }
  if (mutant?.members) {
    const replace = mutant.members;
    vi.doMock(MEMBERS_MODULE, async (importOriginal) => {
      const real = await importOriginal<typeof MembersModule>();
      return { ...real, ...replace(real) };
    });
  }
  const { createVerifier } = (await import('../src/verifier.js')) as typeof VerifierModule;
  const build = (options: VerifierOptions) =>
    createVerifier(
      mutant?.replayStore ? { ...options, replayStore: mutant.replayStore(options.replayStore) } : options,
    );
  const seen: Outcomes = new Map();
  const present = async (verifier: ReturnType<typeof build>, token: string, scope: string[]) => {
    const { status, reason } = await verifier.verify(token, { scope, path: VECTOR_ROUTE });
    return { status, reason } as Outcome;
  };
  for (const vector of file.vectors) {
    const verifier = build(vectorOptions(vector, staticKeys()));
    const outcomes: Outcome[] = [];
    for (const _ of vector.expect) outcomes.push(await present(verifier, vector.token, vector.scope));
    seen.set(vector.id, outcomes);
  }
  for (const sequence of file.sequences) {
    const verifier = build(vectorOptions(sequence, staticKeys()));
    const outcomes: Outcome[] = [];
    for (const step of sequence.steps) outcomes.push(await present(verifier, step.token, step.scope));
    seen.set(sequence.id, outcomes);
  }
  return seen;
}

const expected: Outcomes = new Map([
  ...file.vectors.map((v) => [v.id, v.expect] as const),
  ...file.sequences.map((s) => [s.id, s.steps.map((step) => step.expect)] as const),
]);

afterEach(() => {
  for (const path of ['../src/header.js', '../src/claims.js', MEMBERS_MODULE]) vi.doUnmock(path);
  vi.resetModules();
});

describe('mutation test: flipping any one pinned rule changes a vector outcome', () => {
  it('the unmutated verifier (through the same harness) matches every vector and sequence', async () => {
    const seen = await runAll();
    for (const [id, outcomes] of expected) expect(seen.get(id), id).toEqual(outcomes);
  });

  it.each(MUTANTS.map((m) => [`${m.rule}: ${m.what}`, m] as const))('%s', async (_name, mutant) => {
    const seen = await runAll(mutant);
    const changed = [...expected].filter(
      ([id, outcomes]) => JSON.stringify(seen.get(id)) !== JSON.stringify(outcomes),
    );
    const changedIds = changed.map(([id]) => id);
    for (const witness of mutant.witnesses) expect(changedIds, `${witness} must change`).toContain(witness);
  });

  it('covers every judgment call issue 11 lists', () => {
    const rules = new Set(MUTANTS.map((m) => m.rule));
    for (const rule of [
      'H1',
      'H2',
      'H3',
      'H4',
      'K1',
      'J5',
      'J6',
      'C1',
      'C3',
      'C4',
      'C5',
      'P1',
      'P3',
      'P4',
      'P5',
      'P6',
      'R1',
    ]) {
      expect(rules).toContain(rule);
    }
  });
});
