import { constants, type KeyObject, privateEncrypt } from 'node:crypto';

// DER prefix of DigestInfo { AlgorithmIdentifier sha256, NULL } (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/** RSASSA-PKCS1-v1_5 over a SHA-256 digest the caller already computed, as KMS signs `digest.sha256`. */
export function signRsaPkcs1Sha256Digest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  return privateEncrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([SHA256_DIGEST_INFO_PREFIX, digest]),
  );
}
