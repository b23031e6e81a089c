import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CLAIM_NAMES,
  loadVectors,
  MAX_TOKEN_LENGTH,
  MIN_RSA_MODULUS_BITS,
  PRIVATE_JWK_MEMBERS,
  REASONS,
} from '../src/index.js';

const file = loadVectors();
const signedVectors = file.vectors.filter((v) => v.signed);
const keySigned = signedVectors.filter((v) => v.signed!.signingKid);

const decodeSegment = (segment: string) => Buffer.from(segment, 'base64url').toString('utf8');

describe('the canonical vector file', () => {
  it('validates against its schema and carries at least 40 vectors with unique ids', () => {
    expect(file.vectors.length).toBeGreaterThanOrEqual(40);
    expect(new Set(file.vectors.map((v) => v.id)).size).toBe(file.vectors.length);
  });

  it('publishes two RS256 kids for rotation and one ES256 key, public members only', () => {
    const byKid = new Map(file.jwks.keys.map((k) => [k.kid, k]));
    expect(byKid.get('lite-2026-03')).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(byKid.get('lite-2026-04')).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(file.jwks.keys.some((k) => k.kty === 'EC' && k.alg === 'ES256' && k.crv === 'P-256')).toBe(true);
    for (const jwk of file.jwks.keys) {
      for (const member of PRIVATE_JWK_MEMBERS) expect(jwk).not.toHaveProperty(member);
      if (jwk.kty === 'RSA') {
        const bits = createPublicKey({ key: jwk, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
        expect(bits).toBeGreaterThanOrEqual(MIN_RSA_MODULUS_BITS);
      }
    }
  });

  it('labels the private keys test-only and each matches its published public key', () => {
    expect(file.testPrivateKeys.warning).toMatch(/^TEST ONLY/);
    for (const jwk of file.jwks.keys) {
      const priv = file.testPrivateKeys.keys.find((k) => k.kid === jwk.kid);
      expect(priv, jwk.kid).toBeDefined();
      const derived = createPublicKey(priv!.pkcs8Pem).export({ format: 'jwk' });
      expect(derived).toMatchObject({
        ...(jwk.kty === 'RSA' ? { n: jwk.n, e: jwk.e } : { x: jwk.x, y: jwk.y }),
      });
    }
  });

  it.each(file.vectors)('$id: every expected reason is in the vocabulary with its status', (vector) => {
    for (const outcome of vector.expect) expect(REASONS[outcome.reason].status).toBe(outcome.status);
  });

  it.each(signedVectors)('$id: the token decodes to exactly the declared header and claims', (vector) => {
    const [h, p] = vector.token.split('.') as [string, string];
    expect(decodeSegment(h)).toBe(JSON.stringify(vector.signed!.header));
    expect(decodeSegment(p)).toBe(JSON.stringify(vector.signed!.claims));
  });

  it('has vectors signed by a declared key to check', () => {
    expect(keySigned.length).toBeGreaterThan(0);
  });

  it.each(keySigned)('$id: the signature was made by the declared signing key', (vector) => {
    const { header, signingKid } = vector.signed!;
    const key = file.testPrivateKeys.keys.find((k) => k.kid === signingKid)!;
    const [h, p, s] = vector.token.split('.') as [string, string, string];
    const pub = createPublicKey(key.pkcs8Pem);
    const digest = header.alg === 'RS512' ? 'sha512' : 'sha256';
    const options = key.alg === 'ES256' ? { key: pub, dsaEncoding: 'ieee-p1363' as const } : pub;
    expect(verify(digest, Buffer.from(`${h}.${p}`), options, Buffer.from(s, 'base64url'))).toBe(true);
  });

  it('marks exactly the RS256 signed vectors deterministic', () => {
    for (const v of signedVectors)
      expect(v.signed!.deterministic, v.id).toBe(v.signed!.header.alg !== 'ES256');
  });

  it('marks only canonical header/claims shapes as signer output', () => {
    const produced = signedVectors.filter((v) => v.signed!.producedBySigner);
    expect(produced.length).toBeGreaterThanOrEqual(10);
    for (const v of produced) {
      expect(Object.keys(v.signed!.header)).toEqual(['alg', 'typ', 'kid']);
      expect(Object.keys(v.signed!.claims)).toEqual([...CLAIM_NAMES]);
    }
  });

  it('puts the size-cap boundary exactly at the cap', () => {
    const byId = new Map(file.vectors.map((v) => [v.id, v]));
    expect(byId.get('size-cap-exact')!.token).toHaveLength(MAX_TOKEN_LENGTH);
    expect(byId.get('malformed-over-size-cap')!.token).toHaveLength(MAX_TOKEN_LENGTH + 1);
  });
});
