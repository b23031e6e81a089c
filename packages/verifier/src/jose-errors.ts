import type { Reason } from '@hyper/s2s-contracts';
import { errors } from 'jose';
import { KeysUnavailableError } from './keys/source.js';

type Failure = Exclude<Reason, 'ok'>;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Reason for a jose error from verifying the signature (jose never sees the claims: the verifier
 * decides them). jose's errors are never passed on: messages are not part of the contract.
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
