import type { KeyObject } from 'node:crypto';
import { MIN_RSA_MODULUS_BITS, type SupportedAlgorithm } from '@hyper/s2s-contracts';

/** Node's name for NIST P-256 (secp256r1), the only curve ES256 allows (RFC 7518 §3.4). */
const P256 = 'prime256v1';

export type KeyAlgorithmCheck = { ok: true; alg: SupportedAlgorithm } | { ok: false; problem: string };

/**
 * The JWS algorithm a key can sign with under the contract, or why it cannot: HMAC/secret keys
 * (ADR 0031), RSA under 2048 bits, curves other than P-256 and every other key type are refused.
 */
export function algorithmOfKey(key: KeyObject): KeyAlgorithmCheck {
  if (key.type === 'secret') {
    return {
      ok: false,
      problem: 'symmetric (HMAC) keys are refused; ADR 0031 allows only RS256/ES256 key pairs',
    };
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_MODULUS_BITS) {
      return { ok: false, problem: `RSA key of ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are required` };
    }
    return { ok: true, alg: 'RS256' };
  }
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== P256)
      return { ok: false, problem: `EC key on curve ${curve ?? 'unknown'}; ES256 needs P-256` };
    return { ok: true, alg: 'ES256' };
  }
  return {
    ok: false,
    problem: `${type ?? 'unknown'} keys are not supported; use RSA-2048+ (RS256) or EC P-256 (ES256)`,
  };
}
