import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findPublicTestKeys, jwkThumbprint } from '../src/index.js';

const TEST_KIDS = ['lite-2026-03', 'lite-2026-04', 'lite-2026-05'] as const;
const publicJwkOf = (pemFile: string) =>
  createPublicKey(readFileSync(new URL(`../test-keys/${pemFile}.pem`, import.meta.url), 'utf8')).export({
    format: 'jwk',
  });

describe('findPublicTestKeys: the contract test keys, by key material', () => {
  it.each(TEST_KIDS)('finds %s under its own kid and under any other', (testKid) => {
    const jwk = publicJwkOf(testKid);
    expect(findPublicTestKeys({ keys: [{ ...jwk, kid: testKid }] })).toEqual([
      expect.objectContaining({ kid: testKid, testKid }),
    ]);
    const [renamed] = findPublicTestKeys({ keys: [{ ...jwk, kid: 'lite-2031-01', use: 'sig' }] });
    expect(renamed).toMatchObject({ kid: 'lite-2031-01', testKid });
    expect(renamed!.message).toContain('"lite-2031-01"');
    expect(renamed!.message).toContain(testKid);
  });

  it('does not go by kid: other key material under a test kid is not a test key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = { ...publicKey.export({ format: 'jwk' }), kid: 'lite-2026-05' };
    expect(findPublicTestKeys({ keys: [other] })).toEqual([]);
    // The attacker key of the vectors is not one the contract publishes as a test key.
    expect(findPublicTestKeys({ keys: [{ ...publicJwkOf('attacker-lite-2025-01'), kid: 'x' }] })).toEqual([]);
  });

  it('reports each kid once, accepts a bare array, and ignores what is not a key', () => {
    const jwk = { ...publicJwkOf('lite-2026-03'), kid: 'lite-2026-03' };
    expect(findPublicTestKeys({ keys: [jwk, jwk] })).toHaveLength(1);
    expect(findPublicTestKeys([jwk])).toHaveLength(1);
    for (const junk of [null, 'x', { keys: 'x' }, { keys: [null, 1, { kty: 'oct', k: 'AA' }] }]) {
      expect(findPublicTestKeys(junk)).toEqual([]);
    }
  });

  it('thumbprints follow RFC 7638 (its section 3.1 example)', () => {
    const rfcKey = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(jwkThumbprint(rfcKey)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});
