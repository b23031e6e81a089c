import { createECDH, type KeyObject, randomBytes } from 'node:crypto';

// P-256 group order.
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * ECDSA P-256 over a digest the caller already computed (node's crypto.sign always hashes its input).
 * The scalar multiplication k·G is done natively by ECDH; the rest is SEC 1 §4.1.3 in BigInt.
 * Test server only: k comes from crypto.randomBytes (not RFC 6979) and nothing here is constant-time.
 * Returns the DER `ECDSA-Sig-Value` that real KMS returns.
 */
export function signP256Digest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = fromBytes(Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
  const z = fromBytes(digest) % N; // a 256-bit digest needs no truncation for a 256-bit order
  const ecdh = createECDH('prime256v1');
  for (;;) {
    const kBytes = randomBytes(32);
    const k = fromBytes(kBytes);
    if (k === 0n || k >= N) continue;
    ecdh.setPrivateKey(kBytes);
    const r = fromBytes(ecdh.getPublicKey().subarray(1, 33)) % N; // x coordinate of k·G
    if (r === 0n) continue;
    const s = (modPow(k, N - 2n, N) * ((z + r * d) % N)) % N; // k⁻¹ by Fermat: N is prime
    if (s === 0n) continue;
    return derSequence(derInteger(r), derInteger(s));
  }
}

function fromBytes(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.of(0), bytes]); // keep it positive
  return Buffer.concat([Buffer.of(0x02, bytes.length), bytes]);
}

function derSequence(...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts); // at most 2 × 35 bytes: short-form length suffices
  return Buffer.concat([Buffer.of(0x30, body.length), body]);
}
