import { checkPublicJwk, KID_PATTERN, type SupportedAlgorithm } from '@hyper/s2s-contracts';

export interface KeysetProblem {
  /** The key's kid when it has a usable one, else `keys[<index>]`. */
  key: string;
  problem: string;
}

export interface JwkFacts {
  alg: SupportedAlgorithm;
  kty: 'RSA' | 'EC';
  /** RSA modulus bits, or the EC curve name. */
  strength: string;
}

/**
 * Problems of one JWK as a Core keyset entry, judged by the contract's JWK policy (the one Core's
 * verifier uses), plus the kid naming convention; `facts` when it is a usable signing key.
 */
export function checkJwk(jwk: unknown, label: string): { problems: KeysetProblem[]; facts?: JwkFacts } {
  const checked = checkPublicJwk(jwk);
  if (!checked.ok) {
    const member = checked.member === '' ? '' : `${checked.member}: `;
    return { problems: [{ key: label, problem: `${member}${checked.problem}` }] };
  }
  const problems: KeysetProblem[] = [];
  if (!KID_PATTERN.test(checked.kid)) {
    problems.push({ key: label, problem: `kid ${JSON.stringify(checked.kid)} does not follow lite-YYYY-MM` });
  }
  return { problems, facts: { alg: checked.alg, kty: checked.kty, strength: checked.strength } };
}

const labelOf = (jwk: unknown, index: number) => {
  const kid = (jwk as { kid?: unknown } | null)?.kid;
  return typeof kid === 'string' && kid.length > 0 ? kid : `keys[${index}]`;
};

/**
 * Everything wrong with a HYPER_S2S_JWT_PUBLIC_KEYS_JSON document: shape, duplicate kids, private
 * members, weak or unsupported keys, bad kid names. Empty when Core can load it as is.
 */
export function checkKeyset(doc: unknown): KeysetProblem[] {
  if (doc === null || typeof doc !== 'object' || !Array.isArray((doc as { keys?: unknown }).keys)) {
    return [{ key: 'keyset', problem: 'must be a JSON object { "keys": [ ... ] }' }];
  }
  const keys = (doc as { keys: unknown[] }).keys;
  const problems: KeysetProblem[] = [];
  if (keys.length === 0)
    problems.push({ key: 'keyset', problem: 'has no keys: Core would refuse every token' });
  const seen = new Set<string>();
  keys.forEach((jwk, index) => {
    const label = labelOf(jwk, index);
    problems.push(...checkJwk(jwk, label).problems);
    const kid = (jwk as { kid?: unknown } | null)?.kid;
    if (typeof kid === 'string') {
      if (seen.has(kid))
        problems.push({ key: label, problem: 'duplicate kid: a token could verify against either key' });
      seen.add(kid);
    }
  });
  return problems;
}
