import { createPublicKey, type KeyObject } from 'node:crypto';
import type { PublicJwk, SupportedAlgorithm } from '@hyper/s2s-contracts';

export interface Jwks {
  keys: PublicJwk[];
}

/**
 * The public JWK of `key` (private or public KeyObject). Only the public members are copied by name, so
 * a private key can never leak through here whatever Node's export adds.
 */
export function toPublicJwk(key: KeyObject, kid: string, alg: SupportedAlgorithm): PublicJwk {
  const material = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (material.kty === 'RSA') return { kty: 'RSA', kid, alg, use: 'sig', n: material.n!, e: material.e! };
  return { kty: 'EC', kid, alg, use: 'sig', crv: material.crv!, x: material.x!, y: material.y! };
}
