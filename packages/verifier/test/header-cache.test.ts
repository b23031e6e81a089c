import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCompact, VerifiedHeaders } from '../src/compact.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { liveVerifier } from './harness/verifiers.js';

let key: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});
const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('verified header cache', () => {
  it('only learns headers from tokens whose signature verified', () => {
    const cache = new VerifiedHeaders();
    const decoded = decodeCompact(`${b64({ alg: 'RS256', typ: 'JWT', kid: 'k' })}.${b64({})}.c2ln`);
    if (!decoded) throw new Error('decode failed');
    expect(cache.get(decoded.headerSegment)).toBeUndefined();
    cache.remember(decoded);
    expect(cache.get(decoded.headerSegment)).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k' });
    expect(Object.isFrozen(cache.get(decoded.headerSegment))).toBe(true);
  });

  it('changes no outcome for later tokens that share a verified header', async () => {
    const verifier = liveVerifier();
    const good = await sign(key, nowSeconds());
    const [header, payload, signature] = good.split('.') as [string, string, string];
    expect(await verifier.verify(good, endpoint)).toMatchObject({ status: 200 });
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${b64({ ...claims, jti: 'other' })}.${signature}`;
    expect(await verifier.verify(tampered, endpoint)).toMatchObject({ reason: 'invalid_signature' });
    const withDuplicate = `${JSON.stringify(claims).slice(0, -1)},"iss":"x"}`;
    const duplicate = `${header}.${Buffer.from(withDuplicate).toString('base64url')}.${signature}`;
    expect(await verifier.verify(duplicate, endpoint)).toMatchObject({ reason: 'malformed_token' });
    const padded = `${header}.${payload}.${signature}=`;
    expect(await verifier.verify(padded, endpoint)).toMatchObject({ reason: 'malformed_token' });
    expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
  });

  it('stays bounded', () => {
    const cache = new VerifiedHeaders();
    for (let i = 0; i < VerifiedHeaders.MAX * 3; i++) {
      const decoded = decodeCompact(`${b64({ alg: 'RS256', typ: 'JWT', kid: `k${i}` })}.${b64({})}.c2ln`);
      if (decoded) cache.remember(decoded);
    }
    let held = 0;
    for (let i = 0; i < VerifiedHeaders.MAX * 3; i++) {
      if (cache.get(b64({ alg: 'RS256', typ: 'JWT', kid: `k${i}` }))) held++;
    }
    expect(held).toBeLessThanOrEqual(VerifiedHeaders.MAX);
  });
});
