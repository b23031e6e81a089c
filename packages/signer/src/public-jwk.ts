import { createPublicKey, type KeyObject } from 'node:crypto';
import { checkPublicJwk, type PublicJwk, type SupportedAlgorithm } from '@hyper/s2s-contracts';
import { KeySetError } from './errors.js';
import { checkKeyset } from './keyset-policy.js';

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

/**
 * Why the contract's JWK policy (the one Core loads keys by) refuses `jwk`, or undefined. Catches what
 * the key type and size checks do not, such as an RSA public exponent of 3 or 1: a signer must not
 * start with a key whose JWKS Core, and this package's own JWKS handler, would refuse.
 */
export function publicJwkProblem(jwk: PublicJwk): string | undefined {
  const checked = checkPublicJwk(jwk);
  if (checked.ok) return undefined;
  return checked.member === '' ? checked.problem : `${checked.member}: ${checked.problem}`;
}

/**
 * `jwks` when every key in it may be published, else a KeySetError naming each kid and the rule it
 * breaks, never a value: the contract's JWK policy (no private members, RS256/ES256 of contract
 * strength), the kid convention and unique kids. Publishing is the last place a private or unusable
 * key can be stopped; a verifier would refuse the whole set anyway (KEY5).
 */
export function publishableJwks(jwks: unknown): Jwks {
  const problems = checkKeyset(jwks);
  if (problems.length > 0) {
    throw new KeySetError(
      `refusing to publish the JWKS: ${problems.map((p) => `${p.key}: ${p.problem}`).join('; ')}`,
    );
  }
  return jwks as Jwks;
}
