import { compactVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeBody } from '../src/compact.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { createVerifier } from '../src/verifier.js';
import { startJwksServer } from './harness/jwks-server.js';
import { recorder } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { liveVerifier } from './harness/verifiers.js';

// Spies that still call the real functions: which tokens reach jose, and in which order the RSA job
// and the payload parse happen. Nothing of jose's behaviour is replaced.
vi.mock('jose', async (importOriginal) => {
  const original = await importOriginal<typeof import('jose')>();
  return { ...original, compactVerify: vi.fn(original.compactVerify) };
});
vi.mock('../src/compact.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/compact.js')>();
  return { ...original, decodeBody: vi.fn(original.decodeBody) };
});

let key: TestKey;
let ec: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
  ec = await vectorKey('lite-2026-05');
});
afterEach(() => {
  vi.mocked(compactVerify).mockClear();
  vi.mocked(decodeBody).mockClear();
  vi.restoreAllMocks();
});
const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('what jose is handed, and when', () => {
  it('a token refused by the header rules or by its key never reaches jose, whatever its kid', async () => {
    const observed = recorder();
    const verifier = liveVerifier({ logger: observed.logger });
    await verifier.warmup({ required: true });
    const [, payload, signature] = (await sign(key, nowSeconds())).split('.') as [string, string, string];
    const header = { alg: 'RS256', typ: 'JWT', kid: key.kid };
    const refused: [Record<string, unknown>, string][] = [
      [{ ...header, typ: 'at+jwt' }, 'invalid_header'],
      [{ ...header, crit: ['exp'] }, 'invalid_header'],
      [{ ...header, kid: 'k'.repeat(65) }, 'invalid_header'],
      [{ ...header, alg: 'none' }, 'invalid_algorithm'],
      [{ ...header, alg: 'HS256' }, 'invalid_algorithm'],
      // An allowed algorithm, but not this key's: the RSA key is never used for ES256.
      [{ ...header, alg: 'ES256' }, 'invalid_algorithm'],
      [{ ...header, kid: ec.kid }, 'invalid_algorithm'],
    ];
    for (const [protectedHeader, reason] of refused) {
      const token = `${b64(protectedHeader)}.${payload}.${signature}`;
      expect(await verifier.verify(token, endpoint)).toMatchObject({ status: 401, reason });
    }
    expect(compactVerify).not.toHaveBeenCalled();
    // Each was a planned answer, not the fail-closed net for an internal error.
    const events = observed.logs.map((line) => (line.obj as { event?: unknown }).event);
    expect(events.filter((event) => event === 's2s_auth_rejected')).toHaveLength(refused.length);
    expect(events).not.toContain('s2s_verify_internal_error');
  });

  it('a malformed payload behind a known header and key is an answer, not an internal error', async () => {
    const observed = recorder();
    const verifier = liveVerifier({ logger: observed.logger });
    await verifier.warmup({ required: true });
    const [header, payload, signature] = (await sign(key, nowSeconds())).split('.') as [
      string,
      string,
      string,
    ];
    for (const token of [`${header}.${payload}=.${signature}`, `${header}.${b64([1])}.${signature}`]) {
      expect(await verifier.verify(token, endpoint)).toMatchObject({
        status: 401,
        reason: 'malformed_token',
      });
    }
    const events = observed.logs.map((line) => (line.obj as { event?: unknown }).event);
    expect(events.filter((event) => event === 's2s_auth_rejected')).toHaveLength(2);
    expect(events).not.toContain('s2s_verify_internal_error');
  });

  it('with the key imported, the RSA job is on its way to the pool before the payload is parsed', async () => {
    // jose awaits twice before it calls crypto.subtle.verify; verify yields as often before parsing the
    // payload. Should a jose release add a turn, this fails: answers stay right, the overlap is lost
    // (then adjust the yields in verifier.ts).
    const verifier = liveVerifier();
    await verifier.warmup({ required: true });
    const order: string[] = [];
    const subtle = globalThis.crypto.subtle;
    const rsa = subtle.verify.bind(subtle);
    vi.spyOn(subtle, 'verify').mockImplementation((...args: Parameters<typeof subtle.verify>) => {
      order.push('signature');
      return rsa(...args);
    });
    const parse = (await vi.importActual<typeof import('../src/compact.js')>('../src/compact.js')).decodeBody;
    vi.mocked(decodeBody).mockImplementation((head) => {
      order.push('payload');
      return parse(head);
    });
    expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
    expect(order).toEqual(['signature', 'payload']);
    expect(compactVerify).toHaveBeenCalledTimes(1);
  });

  it('with another verification in flight, the payload is parsed at once: that one has work for the thread while RSA runs', async () => {
    // The yields above buy overlap only when the thread would otherwise wait; under load they are two
    // microtask turns per token for nothing.
    const verifier = liveVerifier();
    await verifier.warmup({ required: true });
    const [first, second, third] = await Promise.all([1, 2, 3].map(() => sign(key, nowSeconds())));
    const alone = verifier.verify(first!, endpoint);
    expect(decodeBody).toHaveBeenCalledTimes(0);
    const underLoad = verifier.verify(second!, endpoint);
    expect(decodeBody).toHaveBeenCalledTimes(1);
    expect(await alone).toMatchObject({ status: 200 });
    expect(await underLoad).toMatchObject({ status: 200 });
    // Both settled: alone again, so it yields again.
    const later = verifier.verify(third!, endpoint);
    expect(decodeBody).toHaveBeenCalledTimes(2);
    expect(await later).toMatchObject({ status: 200 });
    expect(decodeBody).toHaveBeenCalledTimes(3);
  });

  it('without an early signature check, the payload is parsed at once: the yields are for the RSA job only', async () => {
    // No RSA job starts for a kid the keyset lacks or for a key of another algorithm, so there is
    // nothing to overlap: verify must not spend the two turns, even as the one verification under way.
    const verifier = liveVerifier();
    await verifier.warmup({ required: true });
    const tokens = [
      await sign({ ...key, kid: 'not-in-the-keyset' }, nowSeconds()),
      `${b64({ alg: 'RS256', typ: 'JWT', kid: ec.kid })}.${(await sign(key, nowSeconds())).split('.')[1]}.c2ln`,
    ];
    const reasons = [];
    for (const [i, token] of tokens.entries()) {
      const answer = verifier.verify(token, endpoint);
      expect(decodeBody).toHaveBeenCalledTimes(i + 1);
      reasons.push((await answer).reason);
    }
    expect(reasons).toEqual(['unknown_kid', 'invalid_algorithm']);
    expect(compactVerify).not.toHaveBeenCalled();
  });

  it('on a JWKS URL a malformed token never reaches jose, even with a kid the cache holds', async () => {
    // jose's remote resolver refetches a keyset that went stale since the verifier's lookup: handing it a
    // malformed token ahead of the parse could make that token trigger a fetch.
    const server = await startJwksServer({ keys: [key.publicJwk] });
    try {
      const verifier = createVerifier({
        keys: { jwksUrl: server.url },
        audience: file.audience,
        issuers: [file.issuer],
        replayStore: memoryReplayStore(),
      });
      await verifier.warmup({ required: true });
      const [header, payload, signature] = (await sign(key, nowSeconds())).split('.') as [
        string,
        string,
        string,
      ];
      for (const token of [`${header}.${payload}=.${signature}`, `${header}.${payload}.${signature}=`]) {
        expect(await verifier.verify(token, endpoint)).toMatchObject({ reason: 'malformed_token' });
      }
      expect(compactVerify).not.toHaveBeenCalled();
      expect(await verifier.verify(`${header}.${payload}.${signature}`, endpoint)).toMatchObject({
        status: 200,
      });
      expect(compactVerify).toHaveBeenCalledTimes(1);
    } finally {
      await server.close();
    }
  });
});
