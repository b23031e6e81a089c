import { generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DerSignatureError, derToJoseP256 } from '../src/kms/ecdsa-der.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const derInteger = (value: Buffer) => Buffer.concat([Buffer.from([0x02, value.length]), value]);
const derSequence = (...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
};

describe('ECDSA DER -> JOSE r||s (RFC 7518 §3.4)', () => {
  it('turns 10,000 DER signatures into 64-byte signatures that verify as ieee-p1363', () => {
    const data = Buffer.from('header.payload');
    const lengths = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const der = sign('sha256', data, { key: privateKey, dsaEncoding: 'der' });
      lengths.add(der.length);
      const jose = derToJoseP256(der);
      expect(jose.length).toBe(64);
      if (i % 100 === 0) {
        expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jose)).toBe(true);
      }
    }
    // DER lengths vary (70..72 bytes, shorter when r or s has leading zeros): all were normalised to 64.
    expect(lengths.size).toBeGreaterThan(1);
  });

  it('left-pads short integers and strips the sign byte of high integers', () => {
    const r = Buffer.from([0x01, 0x02]);
    const s = Buffer.concat([Buffer.from([0x00]), Buffer.alloc(32, 0xff)]);
    const jose = derToJoseP256(derSequence(derInteger(r), derInteger(s)));
    expect(jose.subarray(0, 32).toString('hex')).toBe(`${'00'.repeat(30)}0102`);
    expect(jose.subarray(32).toString('hex')).toBe('ff'.repeat(32));
  });

  const valid = derSequence(derInteger(randomBytes(32).fill(0x11, 0, 1)), derInteger(Buffer.alloc(32, 0x22)));
  it.each([
    ['an empty input', Buffer.alloc(0)],
    ['a wrong outer tag', Buffer.concat([Buffer.from([0x31]), valid.subarray(1)])],
    ['trailing bytes', Buffer.concat([valid, Buffer.from([0])])],
    ['a truncated signature', valid.subarray(0, valid.length - 1)],
    ['a negative integer', derSequence(derInteger(Buffer.from([0x80, 1])), derInteger(Buffer.from([1])))],
    [
      'an integer wider than 32 bytes',
      derSequence(derInteger(Buffer.alloc(33, 0x7f)), derInteger(Buffer.from([1]))),
    ],
    ['a missing s', derSequence(derInteger(Buffer.from([1])))],
    ['a zero-length integer', derSequence(Buffer.from([0x02, 0x00]), derInteger(Buffer.from([1])))],
  ])('refuses %s', (_name, der) => {
    expect(() => derToJoseP256(der)).toThrow(DerSignatureError);
  });
});
