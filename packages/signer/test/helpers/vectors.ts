import { loadVectors, type TestPrivateKey } from '@hyper/s2s-contracts';

export const vectorFile = loadVectors();

export function testKey(kid: string): TestPrivateKey {
  const key = vectorFile.testPrivateKeys.keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`no test key ${kid} in the vector file`);
  return key;
}

/** lite-2026-03 (RS256, in Core's keyset) and lite-2026-05 (ES256). */
export const RSA_KEY = testKey('lite-2026-03');
export const EC_KEY = testKey('lite-2026-05');

export const ISSUER = vectorFile.issuer;
export const AUDIENCE = vectorFile.audience;
export const SUBJECT = 'hyper-lite-gateway';
/** Vector time in epoch ms. */
export const VECTOR_NOW_MS = vectorFile.now * 1000;
