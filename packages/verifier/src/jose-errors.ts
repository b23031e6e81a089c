import { CLAIM_NAMES, type ClaimName, invalidClaim, missingClaim, type Reason } from '@hyper/s2s-contracts';
import { errors } from 'jose';
import { KeysUnavailableError } from './keys/source.js';

type Failure = Exclude<Reason, 'ok'>;

const CLAIM_ERRORS: ReadonlySet<string> = new Set([
  errors.JWTClaimValidationFailed.code,
  errors.JWTExpired.code,
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** jose got past the signature and objected to a claim: the verifier's own claim rules decide the reason. */
export function isClaimError(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && CLAIM_ERRORS.has(code);
}

/**
 * Reason for a jose error raised before or at the signature. jose's errors are never passed on: the
 * claim errors carry the payload, and messages are not part of the contract.
 */
export function reasonForJoseError(error: unknown): Failure {
  if (error instanceof KeysUnavailableError) return 'jwks_unavailable';
  switch (codeOf(error)) {
    case errors.JWSSignatureVerificationFailed.code:
      return 'invalid_signature';
    case errors.JOSEAlgNotAllowed.code:
    case errors.JOSENotSupported.code:
      return 'invalid_algorithm';
    case errors.JWKSNoMatchingKey.code:
    case errors.JWKSMultipleMatchingKeys.code:
      return 'unknown_kid';
    case errors.JWSInvalid.code:
    case errors.JWTInvalid.code:
      return 'malformed_token';
    default:
      // Anything else means the signature was not shown to be valid.
      return 'invalid_signature';
  }
}

/**
 * Fallback when jose rejected a claim the verifier's own rules accepted (they are meant to be a
 * superset, so this should not happen): fail closed with the nearest reason.
 */
export function reasonForJoseClaimError(error: unknown): Failure {
  const { claim, reason } = error as { claim?: unknown; reason?: unknown };
  if (codeOf(error) === errors.JWTExpired.code) return claim === 'iat' ? 'ttl_exceeded' : 'expired_signature';
  switch (claim) {
    case 'nbf':
      return 'immature_signature';
    case 'iat':
      return 'invalid_iat';
    case 'iss':
      return 'invalid_issuer';
    case 'aud':
      return 'invalid_audience';
    case 'typ':
      return 'invalid_header';
  }
  if (typeof claim === 'string' && (CLAIM_NAMES as readonly string[]).includes(claim)) {
    return reason === 'missing' ? missingClaim(claim as ClaimName) : invalidClaim(claim as ClaimName);
  }
  return 'malformed_token';
}
