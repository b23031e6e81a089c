import { MAX_KID_LENGTH, type Reason, TOKEN_TYPE, utf8Length } from '@hyper/s2s-contracts';

// RFC 7515 §4.1.9: typ is compared case-insensitively. A non-unicode /i regex folds ASCII only, so no
// exotic character can stand in for a letter of "JWT".
const TYP = new RegExp(`^${TOKEN_TYPE}$`, 'i');

/**
 * The header rules in SPEC.md order (H1-H4): typ, kid, alg allow-list, crit. jku/x5u/jwk/x5c are never read.
 * Returns the failing reason, or undefined when the header is acceptable.
 */
export function checkHeader(
  header: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): Exclude<Reason, 'ok'> | undefined {
  const { typ, kid, alg } = header;
  if (typeof typ !== 'string' || !TYP.test(typ)) return 'invalid_header';
  if (typeof kid !== 'string' || kid.length === 0 || utf8Length(kid) > MAX_KID_LENGTH) {
    return 'invalid_header';
  }
  // Covers none, every HS*, non-strings and anything not configured (ADR 0031).
  if (typeof alg !== 'string' || !allowed.has(alg)) return 'invalid_algorithm';
  // We implement no JWS extensions, so any crit (RFC 7515 §4.1.11) names one we do not understand.
  if (header.crit !== undefined) return 'invalid_header';
  return undefined;
}
