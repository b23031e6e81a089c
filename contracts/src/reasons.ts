import { CLAIM_NAMES, type ClaimName } from './constants.js';

/** RFC 6750 §3.1 error codes; `null` where the RFC says to send none (no credentials) or it does not apply. */
export type BearerErrorCode = 'invalid_token' | 'insufficient_scope' | null;

export interface ReasonInfo {
  readonly status: 200 | 401 | 403 | 503;
  readonly bearerError: BearerErrorCode;
}

const unauthorized: ReasonInfo = { status: 401, bearerError: 'invalid_token' };
const unavailable: ReasonInfo = { status: 503, bearerError: null };

export type MissingClaimReason = `missing_claim(${ClaimName})`;
export type InvalidClaimReason = `invalid_claim(${ClaimName})`;

export type Reason =
  | 'ok'
  | 'missing_token'
  | 'malformed_token'
  | 'invalid_header'
  | 'invalid_algorithm'
  | 'unknown_kid'
  | 'invalid_signature'
  | 'expired_signature'
  | 'immature_signature'
  | 'invalid_iat'
  | 'ttl_exceeded'
  | 'invalid_issuer'
  | 'invalid_audience'
  | MissingClaimReason
  | InvalidClaimReason
  | 'replayed_token'
  | 'insufficient_scope'
  | 'jwks_unavailable'
  | 'replay_store_unavailable';

export const missingClaim = (claim: ClaimName): MissingClaimReason => `missing_claim(${claim})`;
export const invalidClaim = (claim: ClaimName): InvalidClaimReason => `invalid_claim(${claim})`;

function claimReasons(make: (claim: ClaimName) => Reason): Record<string, ReasonInfo> {
  return Object.fromEntries(CLAIM_NAMES.map((claim) => [make(claim), unauthorized]));
}

/**
 * The closed vocabulary: every result reason and every metric `reason` label value is a key here.
 * `<claim>` is always one of the eight contract claims, never text from the token (bounded cardinality).
 */
export const REASONS = Object.freeze({
  ok: { status: 200, bearerError: null },
  // RFC 6750 §3.1: a request without credentials gets no error code.
  missing_token: { status: 401, bearerError: null },
  malformed_token: unauthorized,
  invalid_header: unauthorized,
  invalid_algorithm: unauthorized,
  unknown_kid: unauthorized,
  invalid_signature: unauthorized,
  expired_signature: unauthorized,
  immature_signature: unauthorized,
  invalid_iat: unauthorized,
  ttl_exceeded: unauthorized,
  invalid_issuer: unauthorized,
  invalid_audience: unauthorized,
  ...claimReasons(missingClaim),
  ...claimReasons(invalidClaim),
  replayed_token: unauthorized,
  insufficient_scope: { status: 403, bearerError: 'insufficient_scope' },
  jwks_unavailable: unavailable,
  replay_store_unavailable: unavailable,
} satisfies Record<string, ReasonInfo>) as Readonly<Record<Reason, ReasonInfo>>;

export const REASON_NAMES = Object.freeze(Object.keys(REASONS)) as readonly Reason[];

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && Object.hasOwn(REASONS, value);
}

export function statusOf(reason: Reason): ReasonInfo['status'] {
  return REASONS[reason].status;
}

/** 503 reasons are the verifier failing closed on a dependency; the caller may retry. */
export function isRetryable(reason: Reason): boolean {
  return REASONS[reason].status === 503;
}
