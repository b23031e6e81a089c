import { createHmac, type KeyObject, sign, verify } from 'node:crypto';

export const b64u = (input: string | Uint8Array): string =>
  Buffer.from(typeof input === 'string' ? Buffer.from(input, 'utf8') : input).toString('base64url');

/** JSON.stringify keeps member order, which makes the encoded segments reproducible. */
export const encodeJson = (value: unknown): string => b64u(JSON.stringify(value));

export type SigningAlg = 'RS256' | 'RS512' | 'ES256';

export function signInput(alg: SigningAlg, input: string, key: KeyObject): string {
  const data = Buffer.from(input, 'ascii');
  if (alg === 'ES256') return b64u(sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }));
  return b64u(sign(alg === 'RS512' ? 'sha512' : 'sha256', data, key));
}

export function verifyInput(alg: SigningAlg, input: string, signature: string, key: KeyObject): boolean {
  const data = Buffer.from(input, 'ascii');
  const sig = Buffer.from(signature, 'base64url');
  if (alg === 'ES256') return verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  return verify(alg === 'RS512' ? 'sha512' : 'sha256', data, key, sig);
}

/** Signs already-encoded segments: lets malformed segments carry a real signature. */
export function signSegments(alg: SigningAlg, header: string, payload: string, key: KeyObject): string {
  const input = `${header}.${payload}`;
  return `${input}.${signInput(alg, input, key)}`;
}

/** The classic algorithm-confusion forgery: HMAC keyed with the verifier's public key PEM. */
export function hmacWithPublicKey(header: string, payload: string, publicPem: string): string {
  const input = `${header}.${payload}`;
  return `${input}.${b64u(createHmac('sha256', publicPem).update(input).digest())}`;
}
