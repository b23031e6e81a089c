import { KmsIntegrityError } from '../errors.js';
import type { KmsAsymmetricSignResponse, KmsInt64Value, KmsPublicKey } from './client-types.js';
import { crc32c } from './crc32c.js';

const UINT32_DIGITS = /^\d{1,10}$/;

/**
 * An Int64Value holding a CRC32C. gax delivers int64 as a decimal string; protobufjs can also hand out
 * a Long ({ low, high }) or a number. Anything else, or a missing value, is `undefined`: a failed check.
 */
export function int64Value(field: KmsInt64Value | null | undefined): number | undefined {
  const value = field?.value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  if (typeof value === 'string') return UINT32_DIGITS.test(value) ? Number(value) : undefined;
  if (value !== null && typeof value === 'object') {
    const { low, high } = value as { low?: unknown; high?: unknown };
    if (typeof low === 'number' && typeof high === 'number') return (high >>> 0) * 2 ** 32 + (low >>> 0);
  }
  return undefined;
}

function bytesOf(value: Uint8Array | string | null | undefined): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  // protobufjs JSON form of `bytes` is base64.
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  return undefined;
}

/**
 * Google's data-integrity checks for AsymmetricSign: the response is for our key version, KMS saw the
 * digest we sent (verifiedDigestCrc32c), and the signature arrived intact (signatureCrc32c).
 */
export function checkSignResponse(response: KmsAsymmetricSignResponse, keyVersionName: string): Buffer {
  if (response.name !== keyVersionName) {
    throw new KmsIntegrityError(
      'name',
      `response is for ${JSON.stringify(response.name)}, not the configured key version`,
    );
  }
  if (response.verifiedDigestCrc32c !== true) {
    throw new KmsIntegrityError(
      'verifiedDigestCrc32c',
      'KMS did not confirm the digest checksum; the request may have been corrupted',
    );
  }
  const signature = bytesOf(response.signature);
  if (!signature || signature.length === 0)
    throw new KmsIntegrityError('signatureCrc32c', 'response carries no signature');
  const expected = int64Value(response.signatureCrc32c);
  if (expected === undefined || expected !== crc32c(signature)) {
    throw new KmsIntegrityError(
      'signatureCrc32c',
      'signature checksum does not match; the response was corrupted',
    );
  }
  return signature;
}

/** GetPublicKey integrity: the PEM is for our key version and matches its pemCrc32c. */
export function checkPublicKeyResponse(response: KmsPublicKey, keyVersionName: string): string {
  if (response.name !== keyVersionName) {
    throw new KmsIntegrityError(
      'name',
      `public key is for ${JSON.stringify(response.name)}, not the configured key version`,
    );
  }
  const pem = response.pem;
  if (typeof pem !== 'string' || pem.length === 0)
    throw new KmsIntegrityError('pemCrc32c', 'response carries no PEM');
  const expected = int64Value(response.pemCrc32c);
  if (expected === undefined || expected !== crc32c(pem)) {
    throw new KmsIntegrityError(
      'pemCrc32c',
      'public key PEM checksum does not match; the response was corrupted',
    );
  }
  return pem;
}
