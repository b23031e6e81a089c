import { createHash } from 'node:crypto';
import type { KmsTestAlgorithm } from '../../src/testing/index.js';

export const ALGORITHMS: KmsTestAlgorithm[] = [
  'RSA_SIGN_PKCS1_2048_SHA256',
  'RSA_SIGN_PKCS1_3072_SHA256',
  'EC_SIGN_P256_SHA256',
];

export const keyVersion = (key: string, version = 1) =>
  `projects/hyper/locations/global/keyRings/s2s/cryptoKeys/${key}/cryptoKeyVersions/${version}`;

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest();

/** The gRPC status code of a rejected client call (undefined if it resolved). */
export async function grpcCode(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    return (error as { code?: number }).code;
  }
}
