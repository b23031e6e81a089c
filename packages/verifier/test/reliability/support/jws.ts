import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import type { SupportedAlgorithm } from '@hyper/s2s-contracts';
import { file } from '../../harness/vectors.js';

/** A published test key of the vector file, as node:crypto signs with it (no jose on the signing side). */
export interface VectorSigningKey {
  readonly kid: string;
  readonly alg: SupportedAlgorithm;
  readonly privateKey: KeyObject;
  /** Published in the vector file's keyset (the attacker's key is not). */
  readonly inKeyset: boolean;
}

const keysetKids = new Set(file.jwks.keys.map((key) => key.kid));

export const VECTOR_KEYS: ReadonlyMap<string, VectorSigningKey> = new Map(
  file.testPrivateKeys.keys.map((key) => [
    key.kid,
    {
      kid: key.kid,
      alg: key.alg,
      privateKey: createPrivateKey(key.pkcs8Pem),
      inKeyset: keysetKids.has(key.kid),
    },
  ]),
);

export function vectorSigningKey(kid: string): VectorSigningKey {
  const key = VECTOR_KEYS.get(kid);
  if (key === undefined) throw new Error(`no vector test key ${kid}`);
  return key;
}

export const b64url = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** The JWS signature over `input` (the ASCII signing input), RS256 or ES256 (JOSE r||s form). */
export function signatureOf(key: VectorSigningKey, input: string): Buffer {
  const data = Buffer.from(input, 'utf8');
  return key.alg === 'ES256'
    ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', data, key.privateKey);
}

/** A compact JWS over exactly these JSON texts (member order, whitespace and escapes as written). */
export function signTexts(key: VectorSigningKey, headerText: string, payloadText: string): string {
  const input = `${b64url(headerText)}.${b64url(payloadText)}`;
  return `${input}.${b64url(signatureOf(key, input))}`;
}

/** The eight contract claims of a conforming token issued at `now` (epoch seconds). */
export function conformingClaims(now: number, jti: string, overrides: Record<string, unknown> = {}) {
  return {
    iss: file.issuer,
    sub: 'hyper-lite-gateway',
    aud: file.audience,
    exp: now + 60,
    iat: now,
    nbf: now,
    scope: 'spaces:create',
    jti,
    ...overrides,
  };
}

/** A conforming token signed by the vector key `kid` at `now` (epoch seconds). */
export function conformingToken(
  kid: string,
  now: number,
  jti: string,
  overrides: Record<string, unknown> = {},
): string {
  const key = vectorSigningKey(kid);
  return signTexts(
    key,
    JSON.stringify({ alg: key.alg, typ: 'JWT', kid }),
    JSON.stringify(conformingClaims(now, jti, overrides)),
  );
}
