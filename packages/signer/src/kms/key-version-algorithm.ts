import type { SupportedAlgorithm } from '@hyper/s2s-contracts';

/**
 * Cloud KMS key algorithms that produce each JWS algorithm: RS256 is RSASSA-PKCS1-v1_5 with SHA-256
 * (PSS and raw variants would sign something else), ES256 is ECDSA P-256 with SHA-256.
 */
export const KMS_ALGORITHMS: Readonly<Record<SupportedAlgorithm, readonly string[]>> = {
  RS256: ['RSA_SIGN_PKCS1_2048_SHA256', 'RSA_SIGN_PKCS1_3072_SHA256', 'RSA_SIGN_PKCS1_4096_SHA256'],
  ES256: ['EC_SIGN_P256_SHA256'],
};

/** CryptoKeyVersionAlgorithm enum numbers (google/cloud/kms/v1/resources.proto), for clients that keep enums numeric. */
const ENUM_NAMES: Readonly<Record<number, string>> = {
  5: 'RSA_SIGN_PKCS1_2048_SHA256',
  6: 'RSA_SIGN_PKCS1_3072_SHA256',
  7: 'RSA_SIGN_PKCS1_4096_SHA256',
  12: 'EC_SIGN_P256_SHA256',
};

export function kmsAlgorithmName(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return ENUM_NAMES[value] ?? `enum value ${value}`;
  return 'unspecified';
}

export function kmsAlgorithmSigns(kmsAlgorithm: string, alg: SupportedAlgorithm): boolean {
  return KMS_ALGORITHMS[alg].includes(kmsAlgorithm);
}
