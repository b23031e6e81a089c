import { createPublicKey, type JsonWebKey as NodeJsonWebKey } from 'node:crypto';
import {
  MAX_KID_LENGTH,
  MIN_RSA_MODULUS_BITS,
  PRIVATE_JWK_MEMBERS,
  type SupportedAlgorithm,
} from '@hyper/s2s-contracts';
import type { CryptoKey } from 'jose';

/** What verification needs to know about a usable public key before asking jose to use it. */
export interface KeyInfo {
  readonly kid: string;
  /** The one algorithm this key verifies: RS256 for RSA, ES256 for EC P-256. */
  readonly alg: SupportedAlgorithm;
  /** Once imported (static keysets only): the key itself, passed straight to jwtVerify. */
  readonly key?: CryptoKey;
}

export type JwkCheck =
  | { readonly ok: true; readonly key: KeyInfo }
  | {
      readonly ok: false;
      /** The JWK member at fault. */
      readonly member: string;
      readonly problem: string;
      /** Private key material: the whole keyset is suspect, not just this key. */
      readonly privateMaterial: boolean;
    };

const ALG_FOR_KTY: Readonly<Record<string, SupportedAlgorithm>> = { RSA: 'RS256', EC: 'ES256' };
const EC_CURVE = { jwk: 'P-256', node: 'prime256v1' } as const;

function refuse(member: string, problem: string, privateMaterial = false): JwkCheck {
  return { ok: false, member, problem, privateMaterial };
}

/** Reads the key material with node:crypto (validates it, gives the modulus size). */
function material(jwk: Record<string, unknown>): ReturnType<typeof createPublicKey> | undefined {
  const key: NodeJsonWebKey =
    jwk.kty === 'RSA'
      ? { kty: 'RSA', n: jwk.n as string, e: jwk.e as string }
      : { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
  try {
    return createPublicKey({ key, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/**
 * DESIGN "Keys": public members only, RSA of at least 2048 bits for RS256, EC P-256 for ES256, and a
 * declared alg/use/key_ops that fit. Used for the static keyset (startup error) and for every fetched
 * JWKS (the key is skipped, or the whole document refused for private material).
 */
export function checkPublicJwk(jwk: unknown): JwkCheck {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    return refuse('', 'must be a JWK object');
  const key = jwk as Record<string, unknown>;
  for (const member of PRIVATE_JWK_MEMBERS) {
    if (key[member] !== undefined) {
      return refuse(member, 'private key material; a verifier keyset holds public keys only', true);
    }
  }
  const { kty, kid, alg, use } = key;
  const keyAlg = typeof kty === 'string' && Object.hasOwn(ALG_FOR_KTY, kty) ? ALG_FOR_KTY[kty] : undefined;
  if (keyAlg === undefined) return refuse('kty', 'must be "RSA" (RS256) or "EC" (ES256)');
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
    return refuse('kid', `must be a string of 1-${MAX_KID_LENGTH} characters`);
  }
  if (alg !== undefined && alg !== keyAlg) return refuse('alg', `must be "${keyAlg}" for a ${kty} key`);
  if (use !== undefined && use !== 'sig') return refuse('use', 'must be "sig"');
  const ops = key.key_ops;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) {
    return refuse('key_ops', 'must include "verify"');
  }
  if (kty === 'EC' && key.crv !== EC_CURVE.jwk) return refuse('crv', `must be "${EC_CURVE.jwk}" for ES256`);
  const publicKey = material(key);
  if (publicKey === undefined || publicKey.type !== 'public') {
    return refuse(kty === 'RSA' ? 'n' : 'x', 'is not valid public key material');
  }
  const details = publicKey.asymmetricKeyDetails;
  if (kty === 'RSA' && (details?.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) {
    return refuse('n', `RSA keys must be at least ${MIN_RSA_MODULUS_BITS} bits`);
  }
  if (kty === 'EC' && details?.namedCurve !== EC_CURVE.node) return refuse('crv', 'is not P-256');
  return { ok: true, key: { kid, alg: keyAlg } };
}
