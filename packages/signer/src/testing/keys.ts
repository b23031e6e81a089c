import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignerError } from '../errors.js';
import { signP256Digest } from './ecdsa.js';
import { signRsaPkcs1Sha256Digest } from './rsa.js';

/** The KMS CryptoKeyVersionAlgorithm values the test server can hold. */
export type KmsTestAlgorithm =
  | 'RSA_SIGN_PKCS1_2048_SHA256'
  | 'RSA_SIGN_PKCS1_3072_SHA256'
  | 'EC_SIGN_P256_SHA256';

export interface KmsTestKeySpec {
  algorithm: KmsTestAlgorithm;
  /** PKCS#8 or traditional PEM; a fresh key is generated when absent. */
  privateKeyPem?: string;
}

/** Programmer error in test setup (bad key spec); `code` says which. */
export class KmsTestServerError extends SignerError {
  declare readonly code:
    | 'ERR_S2S_KMS_TEST_UNKNOWN_ALGORITHM'
    | 'ERR_S2S_KMS_TEST_KEY_MISMATCH'
    | 'ERR_S2S_KMS_TEST_INVALID_PEM'
    | 'ERR_S2S_KMS_TEST_UNKNOWN_KEY'
    | 'ERR_S2S_KMS_TEST_UNKNOWN_STATE';

  constructor(code: KmsTestServerError['code'], message: string) {
    super(code, message);
  }
}

export interface TestKey {
  readonly algorithm: KmsTestAlgorithm;
  /** SPKI PEM, the format GetPublicKey returns. */
  readonly publicKeyPem: string;
  /** Signs a SHA-256 digest the way KMS does for this algorithm (DER for ECDSA). */
  signDigest(digest: Uint8Array): Buffer;
}

const RSA_BITS: Partial<Record<KmsTestAlgorithm, number>> = {
  RSA_SIGN_PKCS1_2048_SHA256: 2048,
  RSA_SIGN_PKCS1_3072_SHA256: 3072,
};

export function createTestKey(spec: KmsTestKeySpec): TestKey {
  const { algorithm } = spec;
  const rsaBits = RSA_BITS[algorithm];
  if (rsaBits === undefined && algorithm !== 'EC_SIGN_P256_SHA256') {
    throw new KmsTestServerError(
      'ERR_S2S_KMS_TEST_UNKNOWN_ALGORITHM',
      `unsupported algorithm ${String(algorithm)}`,
    );
  }
  const privateKey =
    spec.privateKeyPem === undefined ? generate(rsaBits) : importPem(spec.privateKeyPem, algorithm);
  const details = privateKey.asymmetricKeyDetails ?? {};
  const matches =
    rsaBits === undefined
      ? privateKey.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1'
      : privateKey.asymmetricKeyType === 'rsa' && details.modulusLength === rsaBits;
  if (!matches) {
    throw new KmsTestServerError(
      'ERR_S2S_KMS_TEST_KEY_MISMATCH',
      `privateKeyPem is not a key for ${algorithm}`,
    );
  }
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const sign = rsaBits === undefined ? signP256Digest : signRsaPkcs1Sha256Digest;
  return { algorithm, publicKeyPem, signDigest: (digest) => sign(privateKey, digest) };
}

function generate(rsaBits: number | undefined): KeyObject {
  return rsaBits === undefined
    ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
    : generateKeyPairSync('rsa', { modulusLength: rsaBits }).privateKey;
}

function importPem(pem: string, algorithm: KmsTestAlgorithm): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new KmsTestServerError(
      'ERR_S2S_KMS_TEST_INVALID_PEM',
      `privateKeyPem for ${algorithm} is not a private key PEM`,
    );
  }
}
