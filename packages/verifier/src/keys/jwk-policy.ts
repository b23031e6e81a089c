import { checkPublicJwk as checkContractJwk, type SupportedAlgorithm } from '@hyper/s2s-contracts';
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

/** The contract's JWK policy (one for every tool), as the verifier's keyset checks use it. */
export function checkPublicJwk(jwk: unknown): JwkCheck {
  const checked = checkContractJwk(jwk);
  if (!checked.ok) return checked;
  return { ok: true, key: { kid: checked.kid, alg: checked.alg } };
}
