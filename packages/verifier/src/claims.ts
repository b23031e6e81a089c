import {
  CLAIM_NAMES,
  type ClaimName,
  type Claims,
  invalidClaim,
  isStorableText,
  MAX_ISS_LENGTH,
  MAX_JTI_LENGTH,
  MAX_SCOPE_LENGTH,
  missingClaim,
  type Reason,
  SCOPE_PATTERN,
  utf8Length,
} from '@hyper/s2s-contracts';

// Hand-written equivalents of contracts' ClaimsSchema (zod is kept off the hot path); a test holds
// the two to the same answer on every vector and on generated claim sets.
const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
// What the replay store can record (SPEC.md C3): decided here as invalid_claim, never a 503 later.
const storable = (value: unknown, max: number): boolean =>
  typeof value === 'string' && value.length > 0 && utf8Length(value) <= max && isStorableText(value);
const finiteNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

type ClaimFailure = Exclude<Reason, 'ok'>;
const MISSING = Object.fromEntries(CLAIM_NAMES.map((name) => [name, missingClaim(name)])) as Record<
  ClaimName,
  ClaimFailure
>;
const INVALID = Object.fromEntries(CLAIM_NAMES.map((name) => [name, invalidClaim(name)])) as Record<
  ClaimName,
  ClaimFailure
>;

/**
 * Presence and type of the eight contract claims, in CLAIM_NAMES order, so the reason names the first
 * offending claim deterministically (the same one Rust Core reports). Written out claim by claim rather
 * than looped over CLAIM_NAMES: named reads and direct checks cost a third of a table of closures per
 * token; a test holds the order to CLAIM_NAMES on generated claim sets.
 */
export function checkClaimTypes(payload: Record<string, unknown>): ClaimFailure | undefined {
  const { iss, sub, aud, exp, iat, nbf, scope, jti } = payload;
  if (iss === undefined) return MISSING.iss;
  if (!storable(iss, MAX_ISS_LENGTH)) return INVALID.iss;
  if (sub === undefined) return MISSING.sub;
  if (!nonEmptyString(sub)) return INVALID.sub;
  if (aud === undefined) return MISSING.aud;
  if (!nonEmptyString(aud) && !(Array.isArray(aud) && aud.length > 0 && aud.every(nonEmptyString))) {
    return INVALID.aud;
  }
  if (exp === undefined) return MISSING.exp;
  if (!finiteNumber(exp)) return INVALID.exp;
  if (iat === undefined) return MISSING.iat;
  if (!finiteNumber(iat)) return INVALID.iat;
  if (nbf === undefined) return MISSING.nbf;
  if (!finiteNumber(nbf)) return INVALID.nbf;
  if (scope === undefined) return MISSING.scope;
  if (typeof scope !== 'string' || scope.length > MAX_SCOPE_LENGTH || !SCOPE_PATTERN.test(scope)) {
    return INVALID.scope;
  }
  if (jti === undefined) return MISSING.jti;
  if (!storable(jti, MAX_JTI_LENGTH)) return INVALID.jti;
  return undefined;
}

export interface ClaimPolicy {
  readonly issuers: ReadonlySet<string>;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
  readonly maxTtlSeconds: number;
}

/**
 * Issuer, audience and time rules (DESIGN "Time"), for claims whose types already passed.
 * `now` is whole seconds.
 */
export function checkClaimPolicy(
  claims: Claims,
  policy: ClaimPolicy,
  now: number,
): Exclude<Reason, 'ok'> | undefined {
  if (!policy.issuers.has(claims.iss)) return 'invalid_issuer';
  const { aud } = claims;
  if (typeof aud === 'string' ? aud !== policy.audience : !aud.includes(policy.audience)) {
    return 'invalid_audience';
  }
  const skew = policy.clockToleranceSeconds;
  if (claims.exp + skew <= now) return 'expired_signature';
  if (claims.nbf - skew > now) return 'immature_signature';
  if (claims.iat - skew > now) return 'invalid_iat';
  // The contract bounds the lifetime the signer granted (exp - iat), not the age (now - iat).
  if (claims.exp - claims.iat > policy.maxTtlSeconds) return 'ttl_exceeded';
  return undefined;
}
