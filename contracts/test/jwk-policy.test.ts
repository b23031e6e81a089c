import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkPublicJwk } from '../src/jwk-policy.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
const withExponent = (e: unknown) => ({ ...rsa, e, kid: 'lite-2026-03' });
const b64 = (bytes: number[]) => Buffer.from(bytes).toString('base64url');

describe('SPEC KEY1 step 13: an RSA public exponent is odd, from 65537 to 2^256 - 1, minimally encoded', () => {
  it.each<[string, unknown]>([
    ['65537 (AQAB)', 'AQAB'],
    ['65539, the next odd one', b64([0x01, 0x00, 0x03])],
    ['an odd 256-bit exponent', b64([0xff, ...Array<number>(30).fill(0), 0x01])],
  ])('accepts %s', (_name, e) => {
    expect(checkPublicJwk(withExponent(e))).toMatchObject({ ok: true, kty: 'RSA' });
  });

  it.each<[string, unknown]>([
    // e = 1: every padded digest is its own signature, so anyone signs for the key.
    ['1', 'AQ'],
    ['3', 'Aw'],
    ['65535, odd but below the floor', b64([0xff, 0xff])],
    ['65536, even', 'AQAA'],
    ['an even 3-byte exponent', b64([0x01, 0x00, 0x02])],
    ['65537 with a leading zero byte', b64([0x00, 0x01, 0x00, 0x01])],
    ['65537 with a trailing character of unused bits', 'AQABA'],
    ['an odd 257-bit exponent (33 bytes)', b64([0x01, ...Array<number>(31).fill(0), 0x01])],
    ['an empty string', ''],
    ['a number', 65537],
  ])('refuses %s, naming e', (_name, e) => {
    const result = checkPublicJwk(withExponent(e));
    expect(result.ok).toBe(false);
    // A non-string or empty e is not key material at all; every other value reaches the exponent rule.
    if (!result.ok && typeof e === 'string' && e !== '') {
      expect(result).toMatchObject({ member: 'e', privateMaterial: false });
      expect(result.problem).toContain('65537');
    }
  });
});
