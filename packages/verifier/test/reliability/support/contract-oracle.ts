import {
  CLAIM_NAMES,
  CLOCK_SKEW_SECONDS,
  ClaimsSchema,
  invalidClaim,
  MAX_TOKEN_LENGTH,
  MAX_TTL_SECONDS,
  missingClaim,
  ProtectedHeaderSchema,
  type Reason,
} from '@hyper/s2s-contracts';
import { file } from '../../harness/vectors.js';
import { VECTOR_KEYS } from './jws.js';

/**
 * An independent reading of DESIGN.md's rules for a token whose JSON texts we wrote ourselves and signed
 * with a known key: what the verifier must answer. Built on the contract's zod schemas rather than on the
 * verifier's code, so a property comparing the two catches a rule either side gets wrong.
 */
export interface SignedTexts {
  /** The compact token actually presented. */
  readonly token: string;
  /** JSON texts exactly as encoded into the first two segments. */
  readonly headerText: string;
  readonly payloadText: string;
  /** A member name written twice in the header or the claims (RFC 7519 §4: refused). */
  readonly duplicateMember: boolean;
  /** kid of the vector key that produced the signature. */
  readonly signedBy: string;
}

export interface OracleContext {
  /** Epoch seconds. */
  readonly now: number;
  readonly algorithms: readonly string[];
  /** Scopes the endpoint requires. */
  readonly required: readonly string[];
}

const CLAIM_SHAPE = ClaimsSchema.shape;
const HEADER_SHAPE = ProtectedHeaderSchema.shape;
const keyset = new Map(file.jwks.keys.map((key) => [key.kid, key.alg]));

function jsonObject(text: string): Record<string, unknown> | undefined {
  // RFC 8259 §8.1: no byte order mark in a JSON text; serde refuses one, so the contract does.
  if (text.startsWith('\uFEFF')) return undefined;
  let value: unknown;
  // RFC 8259 §8.2: a \u escape of a lone surrogate is not a Unicode string; serde refuses it.
  let lone = false;
  try {
    value = JSON.parse(text, (key, item: unknown) => {
      if (!key.isWellFormed() || (typeof item === 'string' && !item.isWellFormed())) lone = true;
      // SPEC.md J6: a literal that overflows a double is refused while parsing (serde), not Infinity.
      if (typeof item === 'number' && !Number.isFinite(item)) lone = true;
      return item;
    });
  } catch {
    return undefined;
  }
  if (lone) return undefined;
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function expectedReason(signed: SignedTexts, context: OracleContext): Reason {
  if (signed.token.length > MAX_TOKEN_LENGTH) return 'malformed_token';
  const header = jsonObject(signed.headerText);
  const claims = jsonObject(signed.payloadText);
  if (header === undefined || claims === undefined || signed.duplicateMember) return 'malformed_token';

  if (!HEADER_SHAPE.typ.safeParse(header.typ).success) return 'invalid_header';
  if (!HEADER_SHAPE.kid.safeParse(header.kid).success) return 'invalid_header';
  const { alg, kid } = header as { alg: unknown; kid: string };
  if (typeof alg !== 'string' || !context.algorithms.includes(alg)) return 'invalid_algorithm';
  if (header.crit !== undefined) return 'invalid_header';
  const keyAlg = keyset.get(kid);
  if (keyAlg === undefined) return 'unknown_kid';
  if (keyAlg !== alg) return 'invalid_algorithm';
  if (signed.signedBy !== kid || VECTOR_KEYS.get(kid)?.alg !== alg) return 'invalid_signature';

  for (const name of CLAIM_NAMES) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (value === undefined) return missingClaim(name);
    if (!CLAIM_SHAPE[name].safeParse(value).success) return invalidClaim(name);
  }
  const { iss, aud, exp, iat, nbf, scope } = ClaimsSchema.parse(claims);
  if (iss !== file.issuer) return 'invalid_issuer';
  if (!(Array.isArray(aud) ? aud : [aud]).includes(file.audience)) return 'invalid_audience';
  if (exp + CLOCK_SKEW_SECONDS <= context.now) return 'expired_signature';
  if (nbf - CLOCK_SKEW_SECONDS > context.now) return 'immature_signature';
  if (iat - CLOCK_SKEW_SECONDS > context.now) return 'invalid_iat';
  if (exp - iat > MAX_TTL_SECONDS) return 'ttl_exceeded';
  const granted = scope.split(' ');
  if (!context.required.every((required) => granted.includes(required))) return 'insufficient_scope';
  return 'ok';
}
