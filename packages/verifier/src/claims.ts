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
// the two to the same answer on every vector.
const nonEmptyString = (value: unknown): boolean => typeof value === 'string' && value.length > 0;
// What the replay store can record (SPEC.md C3): decided here as invalid_claim, never a 503 later.
const storable =
  (max: number) =>
  (value: unknown): boolean =>
    typeof value === 'string' && value.length > 0 && utf8Length(value) <= max && isStorableText(value);
const finiteNumber = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value);

const VALID: Readonly<Record<ClaimName, (value: unknown) => boolean>> = {
  iss: storable(MAX_ISS_LENGTH),
  sub: nonEmptyString,
  aud: (value) =>
    nonEmptyString(value) || (Array.isArray(value) && value.length > 0 && value.every(nonEmptyString)),
  exp: finiteNumber,
  iat: finiteNumber,
  nbf: finiteNumber,
  scope: (value) =>
    typeof value === 'string' && value.length <= MAX_SCOPE_LENGTH && SCOPE_PATTERN.test(value),
  jti: storable(MAX_JTI_LENGTH),
};

const CHECKS = CLAIM_NAMES.map((name) => ({
  name,
  valid: VALID[name],
  missing: missingClaim(name),
  invalid: invalidClaim(name),
}));

/**
 * Presence and type of the eight contract claims, in CLAIM_NAMES order, so the reason names the first
 * offending claim deterministically (the same one Rust Core reports).
 */
export function checkClaimTypes(payload: Record<string, unknown>): Exclude<Reason, 'ok'> | undefined {
  for (const check of CHECKS) {
    const value = payload[check.name];
    if (value === undefined) return check.missing;
    if (!check.valid(value)) return check.invalid;
  }
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
