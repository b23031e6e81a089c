/** P-256 scalars are 32 bytes; the JOSE signature is r||s, 64 bytes (RFC 7518 §3.4). */
const P256_SCALAR_BYTES = 32;

const SEQUENCE = 0x30;
const INTEGER = 0x02;

export class DerSignatureError extends Error {}

function readLength(der: Uint8Array, at: number): [length: number, next: number] {
  const first = der[at];
  if (first === undefined) throw new DerSignatureError('truncated length');
  if (first < 0x80) return [first, at + 1];
  // An ECDSA P-256 signature is at most 72 bytes: one long-form length byte is the most it can need.
  if (first === 0x81) {
    const length = der[at + 1];
    if (length === undefined || length < 0x80) throw new DerSignatureError('non-minimal length');
    return [length, at + 2];
  }
  throw new DerSignatureError('unsupported length form');
}

function readInteger(der: Uint8Array, at: number): [value: Uint8Array, next: number] {
  if (der[at] !== INTEGER) throw new DerSignatureError('expected INTEGER');
  const [length, start] = readLength(der, at + 1);
  const end = start + length;
  if (length === 0 || end > der.length) throw new DerSignatureError('bad INTEGER length');
  let value = der.subarray(start, end);
  if (value[0]! & 0x80) throw new DerSignatureError('negative INTEGER');
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  if (value.length > P256_SCALAR_BYTES) throw new DerSignatureError('INTEGER wider than 32 bytes');
  return [value, end];
}

/**
 * ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }), which Cloud KMS returns, to the fixed 64-byte
 * JOSE form. Anything that is not exactly one such SEQUENCE is refused rather than guessed at.
 */
export function derToJoseP256(der: Uint8Array): Buffer {
  if (der[0] !== SEQUENCE) throw new DerSignatureError('expected SEQUENCE');
  const [length, start] = readLength(der, 1);
  if (start + length !== der.length) throw new DerSignatureError('SEQUENCE length does not match');
  const [r, afterR] = readInteger(der, start);
  const [s, afterS] = readInteger(der, afterR);
  if (afterS !== der.length) throw new DerSignatureError('trailing bytes after s');
  const jose = Buffer.alloc(2 * P256_SCALAR_BYTES);
  jose.set(r, P256_SCALAR_BYTES - r.length);
  jose.set(s, 2 * P256_SCALAR_BYTES - s.length);
  return jose;
}
