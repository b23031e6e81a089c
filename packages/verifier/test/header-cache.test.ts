import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeCompact, VerifiedHeaders } from '../src/compact.js';
import { checkHeader } from '../src/header.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { liveVerifier } from './harness/verifiers.js';

// The header rules, spied on (and still run): a known header must skip them, a new one must not.
vi.mock('../src/header.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/header.js')>();
  return { ...original, checkHeader: vi.fn(original.checkHeader) };
});

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

  it('runs the header rules once per header segment, and again for any other segment', async () => {
    const verifier = liveVerifier();
    const rules = vi.mocked(checkHeader);
    rules.mockClear();
    for (let i = 0; i < 3; i++) {
      expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
    }
    expect(rules).toHaveBeenCalledTimes(1);
    // The same header with its members in another order is another segment: checked afresh.
    const reordered = await sign(key, nowSeconds(), {}, { kid: key.kid });
    expect(JSON.parse(Buffer.from(reordered.split('.')[0] ?? '', 'base64url').toString())).toEqual({
      kid: key.kid,
      alg: 'RS256',
      typ: 'JWT',
    });
    expect(await verifier.verify(reordered, endpoint)).toMatchObject({ status: 200 });
    expect(rules).toHaveBeenCalledTimes(2);
    // A new verifier learns afresh: the cache is one per verifier (its rules depend on its allow-list).
    expect(await liveVerifier().verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({
      status: 200,
    });
    expect(rules).toHaveBeenCalledTimes(3);
  });

  it('stays bounded, and keeps the most recent headers', () => {
    const cache = new VerifiedHeaders();
    const segment = (i: number) => b64({ alg: 'RS256', typ: 'JWT', kid: `k${i}` });
    for (let i = 0; i < VerifiedHeaders.MAX * 3; i++) {
      const decoded = decodeCompact(`${segment(i)}.${b64({})}.c2ln`);
      if (!decoded) throw new Error('decode failed');
      cache.remember(decoded);
    }
    let held = 0;
    for (let i = 0; i < VerifiedHeaders.MAX * 3; i++) if (cache.get(segment(i))) held++;
    // Non-empty as well as bounded: a cache that kept nothing would pass a bound alone.
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(VerifiedHeaders.MAX);
    expect(cache.get(segment(VerifiedHeaders.MAX * 3 - 1))).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: `k${VerifiedHeaders.MAX * 3 - 1}`,
    });
  });
});

describe('verified header cache lookups', () => {
  it('answers each of two same-length segments with its own header, alternately and after eviction', () => {
    const cache = new VerifiedHeaders();
    // kid k1 and k2: segments of one length that differ in one character, so only a full comparison
    // tells them apart.
    const segment = (kid: string) => b64({ alg: 'RS256', typ: 'JWT', kid });
    const learn = (kid: string) => {
      const decoded = decodeCompact(`${segment(kid)}.${b64({})}.c2ln`);
      if (!decoded) throw new Error('decode failed');
      cache.remember(decoded);
    };
    expect(segment('k1').length).toBe(segment('k2').length);
    learn('k1');
    learn('k2');
    for (const kid of ['k1', 'k2', 'k2', 'k1', 'k1', 'k2']) {
      // A new string each time, as each token's segment is.
      expect(cache.get(segment(kid).slice(0))).toMatchObject({ kid });
    }
    expect(cache.get(segment('k3'))).toBeUndefined();
    // Filling the cache evicts k1 and k2: neither is answered from the last lookup afterwards.
    for (let i = 0; i < VerifiedHeaders.MAX; i++) learn(`x${i}`);
    expect(cache.get(segment('k1'))).toBeUndefined();
    expect(cache.get(segment('k2'))).toBeUndefined();
    expect(cache.get(segment(`x${VerifiedHeaders.MAX - 1}`))).toMatchObject({
      kid: `x${VerifiedHeaders.MAX - 1}`,
    });
  });
});

describe('verified header cache: the last answer', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers the header it answered last without a map lookup, and any other through the map', () => {
    const cache = new VerifiedHeaders();
    const segment = (kid: string) => b64({ alg: 'RS256', typ: 'JWT', kid });
    for (const kid of ['k1', 'k2']) {
      const decoded = decodeCompact(`${segment(kid)}.${b64({})}.c2ln`);
      if (!decoded) throw new Error('decode failed');
      cache.remember(decoded);
    }
    const lookups = vi.spyOn(Map.prototype, 'get');
    // k2 was learnt last: a new string with its text is answered by comparison alone.
    expect(cache.get(segment('k2').slice(0))).toMatchObject({ kid: 'k2' });
    expect(lookups).not.toHaveBeenCalled();
    expect(cache.get(segment('k1'))).toMatchObject({ kid: 'k1' });
    expect(lookups).toHaveBeenCalledTimes(1);
    expect(cache.get(segment('k1'))).toMatchObject({ kid: 'k1' });
    expect(lookups).toHaveBeenCalledTimes(1);
  });
});

describe('verified header cache bound', () => {
  const segment = (i: number) => b64({ alg: 'RS256', typ: 'JWT', kid: `k${i}` });
  const decoded = (i: number) => {
    const result = decodeCompact(`${segment(i)}.${b64({})}.c2ln`);
    if (!result) throw new Error('decode failed');
    return result;
  };
  const held = (cache: VerifiedHeaders, upTo: number) =>
    Array.from({ length: upTo }, (_, i) => cache.get(segment(i))).filter(Boolean).length;

  it('holds MAX headers, never more, and re-learning a held header evicts nothing', () => {
    const cache = new VerifiedHeaders();
    for (let i = 0; i < VerifiedHeaders.MAX; i++) cache.remember(decoded(i));
    expect(held(cache, VerifiedHeaders.MAX)).toBe(VerifiedHeaders.MAX);
    cache.remember(decoded(0));
    expect(held(cache, VerifiedHeaders.MAX)).toBe(VerifiedHeaders.MAX);
    cache.remember(decoded(VerifiedHeaders.MAX));
    expect(held(cache, VerifiedHeaders.MAX + 1)).toBeLessThanOrEqual(VerifiedHeaders.MAX);
    expect(cache.get(segment(VerifiedHeaders.MAX))).toBeDefined();
  });
});

describe("the verifier's header cache", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is fed only by signature-verified tokens and answers the next token with the same header', async () => {
    // Pass-through spies: the real cache runs; they only record which instance learnt what.
    const remember = vi.spyOn(VerifiedHeaders.prototype, 'remember');
    const get = vi.spyOn(VerifiedHeaders.prototype, 'get');
    const verifier = liveVerifier();
    const good = await sign(key, nowSeconds(), {}, { x: 'forged-header' });
    const [header, payload] = good.split('.') as [string, string, string];
    expect(await verifier.verify(`${header}.${payload}.${'A'.repeat(342)}`, endpoint)).toMatchObject({
      reason: 'invalid_signature',
    });
    expect(remember).not.toHaveBeenCalled();
    expect(await verifier.verify(good, endpoint)).toMatchObject({ status: 200 });
    expect(remember).toHaveBeenCalledTimes(1);
    const cache = remember.mock.contexts[0] as VerifiedHeaders;
    expect(cache.get(header)).toMatchObject({ kid: key.kid, x: 'forged-header' });
    get.mockClear();
    const next = await sign(key, nowSeconds(), {}, { x: 'forged-header' });
    expect(await verifier.verify(next, endpoint)).toMatchObject({ status: 200 });
    expect(get.mock.results.some((result) => result.value !== undefined)).toBe(true);
    // A header answered from the cache is not learnt again (that would hash its segment per token).
    expect(remember).toHaveBeenCalledTimes(1);
  });

  it('stays bounded under many distinct verified headers', async () => {
    const remember = vi.spyOn(VerifiedHeaders.prototype, 'remember');
    const verifier = liveVerifier();
    const headers: string[] = [];
    for (let i = 0; i < VerifiedHeaders.MAX * 2 + 1; i++) {
      const token = await sign(key, nowSeconds(), {}, { x: i });
      headers.push(token.slice(0, token.indexOf('.')));
      expect(await verifier.verify(token, endpoint)).toMatchObject({ status: 200 });
    }
    const cache = remember.mock.contexts[0] as VerifiedHeaders;
    const held = headers.filter((segment) => cache.get(segment) !== undefined).length;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(VerifiedHeaders.MAX);
    expect(cache.get(headers.at(-1) as string)).toBeDefined();
  });
});

describe('header rules (SPEC H1: typ)', () => {
  it('refuses a typ that is not a string, even one that reads as "JWT" when coerced', async () => {
    // Correctly signed, so only the header rule can refuse it: ["JWT"] stringifies to "JWT".
    const verifier = liveVerifier();
    const iat = nowSeconds();
    const claims = { iss: file.issuer, sub: 'hyper-lite-gateway', aud: file.audience, iat, nbf: iat };
    for (const typ of [['JWT'], ['jwt']]) {
      const token = await new SignJWT({ ...claims, exp: iat + 60, scope: 'spaces:create', jti: randomUUID() })
        .setProtectedHeader({ alg: key.alg, typ: typ as unknown as string, kid: key.kid })
        .sign(key.privateKey);
      expect(await verifier.verify(token, endpoint)).toMatchObject({ status: 401, reason: 'invalid_header' });
    }
  });
});
