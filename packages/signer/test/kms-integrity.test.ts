import { describe, expect, it } from 'vitest';
import { crc32c, KmsIntegrityError } from '../src/index.js';
import { checkPublicKeyResponse, checkSignResponse, int64Value } from '../src/kms/response-integrity.js';

describe('Int64Value CRC fields arrive as strings or Longs', () => {
  it.each([
    ['a decimal string (gax default)', { value: '3808858755' }, 3808858755],
    ['a number', { value: 3808858755 }, 3808858755],
    ['a bigint', { value: 3808858755n }, 3808858755],
    ['an unsigned Long', { value: { low: 3808858755 | 0, high: 0, unsigned: true } }, 3808858755],
    [
      'a signed Long with a negative low word',
      { value: { low: -486108541, high: 0, unsigned: false } },
      3808858755,
    ],
    ['zero as a string', { value: '0' }, 0],
  ])('reads %s', (_name, field, expected) => {
    expect(int64Value(field)).toBe(expected);
  });

  it.each([
    ['a missing field', undefined],
    ['null', null],
    ['a missing value', {}],
    ['a negative string', { value: '-1' }],
    ['an exponent string', { value: '1e3' }],
    ['a non-numeric string', { value: 'abc' }],
    ['a fraction', { value: 1.5 }],
    ['a boolean', { value: true }],
  ])('treats %s as no checksum', (_name, field) => {
    expect(int64Value(field as never)).toBeUndefined();
  });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

const NAME = 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
const signature = Buffer.from('a signature');

describe('AsymmetricSign response checks', () => {
  const good = {
    name: NAME,
    signature,
    signatureCrc32c: { value: String(crc32c(signature)) },
    verifiedDigestCrc32c: true,
  };

  it('accepts a consistent response and returns the signature bytes', () => {
    expect(checkSignResponse(good, NAME).equals(signature)).toBe(true);
    expect(
      checkSignResponse({ ...good, signature: signature.toString('base64') }, NAME).equals(signature),
    ).toBe(true);
  });

  it.each([
    ['a different key version name', { name: `${NAME}0` }, 'name'],
    ['a missing name', { name: undefined }, 'name'],
    ['verifiedDigestCrc32c false', { verifiedDigestCrc32c: false }, 'verifiedDigestCrc32c'],
    ['verifiedDigestCrc32c missing', { verifiedDigestCrc32c: null }, 'verifiedDigestCrc32c'],
    [
      'a wrong signatureCrc32c',
      { signatureCrc32c: { value: String(crc32c(signature) ^ 1) } },
      'signatureCrc32c',
    ],
    ['no signatureCrc32c', { signatureCrc32c: null }, 'signatureCrc32c'],
    ['an empty signature', { signature: Buffer.alloc(0) }, 'signatureCrc32c'],
  ] as const)('refuses %s', (_name, change, check) => {
    const error = thrown(() => checkSignResponse({ ...good, ...change }, NAME));
    expect(error).toBeInstanceOf(KmsIntegrityError);
    expect(error).toMatchObject({ check });
  });
});

describe('GetPublicKey response checks', () => {
  const pem = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
  const good = {
    name: NAME,
    pem,
    pemCrc32c: { value: String(crc32c(pem)) },
    algorithm: 'RSA_SIGN_PKCS1_2048_SHA256',
  };

  it('accepts a PEM whose pemCrc32c matches', () => {
    expect(checkPublicKeyResponse(good, NAME)).toBe(pem);
  });

  it.each([
    ['a wrong pemCrc32c', { pemCrc32c: { value: '1' } }, 'pemCrc32c'],
    ['no pemCrc32c', { pemCrc32c: undefined }, 'pemCrc32c'],
    ['no PEM', { pem: '' }, 'pemCrc32c'],
    [
      'another key version',
      { name: 'projects/x/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1' },
      'name',
    ],
  ] as const)('refuses %s', (_name, change, check) => {
    const error = thrown(() => checkPublicKeyResponse({ ...good, ...change }, NAME));
    expect(error).toBeInstanceOf(KmsIntegrityError);
    expect(error).toMatchObject({ check });
  });
});
