import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
  KID_PATTERN,
  MAX_KID_LENGTH,
  PRIVATE_JWK_MEMBERS,
  type SupportedAlgorithm,
} from '@hyper/s2s-contracts';
import { algorithmOfKey } from './key-algorithm.js';

export interface KeysetProblem {
  /** The key's kid when it has a usable one, else `keys[<index>]`. */
  key: string;
  problem: string;
}

/** Public members by key type: only these are ever read, so a private member can never be imported. */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['kty', 'n', 'e'],
  EC: ['kty', 'crv', 'x', 'y'],
};

export interface JwkFacts {
  alg: SupportedAlgorithm;
  kty: 'RSA' | 'EC';
  /** RSA modulus bits, or the EC curve name. */
  strength: string;
}

/** Problems of one JWK as a Core keyset entry; `facts` when it is a usable signing key. */
export function checkJwk(jwk: unknown, label: string): { problems: KeysetProblem[]; facts?: JwkFacts } {
  const problems: KeysetProblem[] = [];
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) {
    return { problems: [{ key: label, problem: 'is not a JSON object' }] };
  }
  const k = jwk as Record<string, unknown>;
  const add = (problem: string) => problems.push({ key: label, problem });
  if (typeof k.kid !== 'string' || k.kid.length === 0) add('has no kid');
  else if (k.kid.length > MAX_KID_LENGTH || !KID_PATTERN.test(k.kid))
    add(`kid ${JSON.stringify(k.kid)} does not follow lite-YYYY-MM`);
  const privateMembers = PRIVATE_JWK_MEMBERS.filter((m) => m in k);
  if (privateMembers.length > 0)
    add(`carries private member(s) ${privateMembers.join(', ')}: publish public keys only`);
  if (k.use !== undefined && k.use !== 'sig') add(`use is ${JSON.stringify(k.use)}, must be "sig"`);
  const members = typeof k.kty === 'string' ? PUBLIC_MEMBERS[k.kty] : undefined;
  if (k.kty === 'oct') {
    add('is a symmetric (oct/HMAC) key; ADR 0031 allows only RS256/ES256 public keys');
    return { problems };
  }
  if (!members) {
    add(`kty ${JSON.stringify(k.kty)} is not supported (RSA or EC)`);
    return { problems };
  }
  let key: KeyObject;
  try {
    const publicOnly = Object.fromEntries(members.filter((m) => m in k).map((m) => [m, k[m]])) as JsonWebKey;
    key = createPublicKey({ key: publicOnly, format: 'jwk' });
  } catch {
    add('is not a valid public key');
    return { problems };
  }
  const check = algorithmOfKey(key);
  if (!check.ok) {
    add(check.problem);
    return { problems };
  }
  if (k.alg !== undefined && k.alg !== check.alg)
    add(`alg ${JSON.stringify(k.alg)} does not match the key, which signs ${check.alg}`);
  const strength = check.alg === 'RS256' ? `${key.asymmetricKeyDetails?.modulusLength} bits` : 'P-256';
  return { problems, facts: { alg: check.alg, kty: k.kty as 'RSA' | 'EC', strength } };
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
