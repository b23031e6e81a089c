import type { JWK } from 'jose';
import { VerifierConfigError } from '../errors.js';
import { checkPublicJwk, type KeyInfo } from './jwk-policy.js';

function keysOf(jwks: unknown): unknown[] | undefined {
  if (typeof jwks !== 'object' || jwks === null) return undefined;
  const { keys } = jwks as { keys?: unknown };
  return Array.isArray(keys) ? keys : undefined;
}

/**
 * Validates a static keyset at startup: `{ keys: JWK[] }`, at least one key, every key usable and
 * public, kids unique. Throws VerifierConfigError naming the member at fault.
 */
export function validateKeySet(jwks: unknown, field: string): Map<string, KeyInfo> {
  const keys = keysOf(jwks);
  if (keys === undefined) {
    throw new VerifierConfigError(
      `${field}.keys`,
      'must be an array of JWKs: a JWK Set is {"keys":[...]}, even for one key (hyper-s2s-keys keyset add makes one)',
    );
  }
  if (keys.length === 0) throw new VerifierConfigError(`${field}.keys`, 'must hold at least one key');
  const index = new Map<string, KeyInfo>();
  keys.forEach((jwk, position) => {
    const at = `${field}.keys[${position}]`;
    const checked = checkPublicJwk(jwk);
    if (!checked.ok)
      throw new VerifierConfigError(checked.member ? `${at}.${checked.member}` : at, checked.problem);
    // Two keys under one kid make the key a token gets depend on keyset order.
    if (index.has(checked.key.kid)) {
      throw new VerifierConfigError(`${at}.kid`, `duplicate kid "${checked.key.kid}"`);
    }
    index.set(checked.key.kid, checked.key);
  });
  return index;
}

export interface SkippedKey {
  readonly position: number;
  readonly kid?: string;
  readonly member: string;
  readonly problem: string;
}

export type FetchedKeySet =
  | {
      readonly ok: true;
      readonly jwks: { keys: JWK[] };
      readonly index: Map<string, KeyInfo>;
      readonly skipped: readonly SkippedKey[];
    }
  | { readonly ok: false; readonly problem: string; readonly skipped?: readonly SkippedKey[] };

/**
 * Checks a fetched JWKS. Keys that do not fit (other algorithms, small RSA, encryption keys) are
 * skipped so the usable ones keep working; private key material or duplicate kids refuse the whole
 * document, since either means the endpoint cannot be trusted to say which key is which.
 */
export function checkFetchedKeySet(jwks: unknown): FetchedKeySet {
  const keys = keysOf(jwks);
  if (keys === undefined) return { ok: false, problem: 'not a JWKS ({ keys: [...] })' };
  const usable: JWK[] = [];
  const index = new Map<string, KeyInfo>();
  const skipped: SkippedKey[] = [];
  for (const [position, jwk] of keys.entries()) {
    const checked = checkPublicJwk(jwk);
    if (!checked.ok) {
      if (checked.privateMaterial) return { ok: false, problem: 'JWKS carries private key material' };
      const kid = (jwk as { kid?: unknown } | null)?.kid;
      skipped.push({
        position,
        ...(typeof kid === 'string' ? { kid } : {}),
        member: checked.member,
        problem: checked.problem,
      });
      continue;
    }
    if (index.has(checked.key.kid)) return { ok: false, problem: 'JWKS repeats a kid' };
    index.set(checked.key.kid, checked.key);
    usable.push(jwk as JWK);
  }
  // A document with no usable key is a publishing mistake, not a revocation: taken as the keyset, it
  // would replace keys that still work and answer every token 401. Refused, the cached keys stand until
  // their cache age and then verification answers 503 jwks_unavailable (DESIGN: no usable key → 503).
  if (usable.length === 0) {
    return {
      ok: false,
      problem: keys.length === 0 ? 'JWKS holds no key' : 'JWKS holds no usable key (every key was skipped)',
      skipped,
    };
  }
  return { ok: true, jwks: { keys: usable }, index, skipped };
}
