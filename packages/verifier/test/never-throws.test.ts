import { isReason, MAX_TOKEN_LENGTH } from '@hyper/s2s-contracts';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VerifiedHeaders } from '../src/compact.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import type { VerifyResult } from '../src/result.js';
import { createVerifier } from '../src/verifier.js';
import { recorder } from './harness/recorder.js';
import { file, staticKeys } from './harness/vectors.js';

/**
 * A verifier with every observer attached. Built inside each test, not at module level: mutation
 * testing then sees which tests reach createVerifier instead of running every test for its mutants.
 */
function observedVerifier() {
  const observed = recorder();
  const verifier = createVerifier({
    keys: staticKeys(),
    audience: file.audience,
    issuers: [file.issuer],
    algorithms: ['RS256', 'ES256'],
    replayStore: memoryReplayStore(),
    now: () => file.now * 1000,
    logger: observed.logger,
    metrics: observed.metrics,
  });
  return { observed, verifier };
}
// Thousands of runs on a shared 2-core machine: a generous budget, so the file passes alone and loaded.
const PROPERTY_TIMEOUT_MS = 120_000;
const call = { scope: 'spaces:create', path: '/integrations/spaces' };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null').toString('base64url');

function expectRejection(result: VerifyResult): void {
  expect(result.ok).toBe(false);
  expect([401, 403, 503]).toContain(result.status);
  expect(isReason(result.reason)).toBe(true);
}

describe('verify never throws for anything a caller sends', () => {
  it.each<[string, string, () => unknown]>([
    ['undefined', 'missing_token', () => undefined],
    ['null', 'missing_token', () => null],
    ['an empty string', 'missing_token', () => ''],
    ['a number', 'malformed_token', () => 42],
    ['NaN', 'malformed_token', () => Number.NaN],
    ['a bigint', 'malformed_token', () => 10n],
    ['a boolean', 'malformed_token', () => true],
    ['an object', 'malformed_token', () => ({ token: 'a.b.c' })],
    ['an array of segments', 'malformed_token', () => ['a', 'b', 'c']],
    ['a Buffer', 'malformed_token', () => Buffer.from('a.b.c')],
    ['a symbol', 'malformed_token', () => Symbol('t')],
    ['a function', 'malformed_token', () => () => 'a.b.c'],
    ['a String object', 'malformed_token', () => new String('a.b.c')],
    [
      'a proxy that throws on every access',
      'malformed_token',
      () =>
        new Proxy(
          {},
          {
            get: () => {
              throw new Error('boom');
            },
          },
        ),
    ],
  ])('%s -> %s', async (_name, reason, make) => {
    const { verifier } = observedVerifier();
    const result = await verifier.verify(make(), call);
    expectRejection(result);
    expect(result.reason).toBe(reason);
  });

  it('refuses a 1 MB string at the size cap, before any parsing', async () => {
    const { verifier } = observedVerifier();
    // Parsed, this header would fail as invalid_algorithm; the cap must answer first.
    const header = b64({ alg: 'none', typ: 'JWT', kid: 'lite-2026-03' });
    const payload = b64({ pad: 'x'.repeat(1024 * 1024) });
    const token = `${header}.${payload}.`;
    expect(token.length).toBeGreaterThan(1024 * 1024);
    expect(await verifier.verify(token, call)).toMatchObject({ status: 401, reason: 'malformed_token' });
    const justOver = `${header}.${b64({ pad: 'x'.repeat(MAX_TOKEN_LENGTH) })}.`.slice(
      0,
      MAX_TOKEN_LENGTH + 1,
    );
    expect(await verifier.verify(justOver, call)).toMatchObject({ reason: 'malformed_token' });
  });

  it(
    'for arbitrary values',
    async () => {
      const { verifier } = observedVerifier();
      await fc.assert(
        fc.asyncProperty(
          fc.anything({ withBigInt: true, withMap: true, withSet: true, withTypedArray: true }),
          async (token) => {
            expectRejection(await verifier.verify(token, call));
          },
        ),
        { numRuns: 500 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'for arbitrary strings, including three-segment ones',
    async () => {
      const { verifier } = observedVerifier();
      const segment = fc.string({ unit: fc.constantFrom(...'AZaz09-_=+/. \t"{}'.split('')), maxLength: 40 });
      const shaped = fc.tuple(segment, segment, segment).map((parts) => parts.join('.'));
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), shaped), async (token) => {
          expectRejection(await verifier.verify(token, call));
        }),
        { numRuns: 1000 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'for arbitrary JSON in the header and payload of an otherwise plausible token',
    async () => {
      const { verifier } = observedVerifier();
      const header = fc.oneof(
        fc.jsonValue(),
        fc.record(
          { alg: fc.jsonValue(), typ: fc.jsonValue(), kid: fc.jsonValue(), crit: fc.jsonValue() },
          { requiredKeys: [] },
        ),
        fc.constant({ alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03' }),
      );
      await fc.assert(
        fc.asyncProperty(header, fc.jsonValue(), fc.base64String(), async (h, p, signature) => {
          expectRejection(
            await verifier.verify(`${b64(h)}.${b64(p)}.${signature.replaceAll('=', '')}`, call),
          );
        }),
        { numRuns: 1000 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it('logs and counts every rejection once, with the vocabulary reason it returned', async () => {
    // Its own inputs: the test must not depend on the property tests above having run first.
    const { observed, verifier } = observedVerifier();
    const inputs: unknown[] = [
      ...fc.sample(fc.anything(), { numRuns: 200, seed: 12 }),
      ...fc.sample(fc.string({ unit: fc.constantFrom(...'Aa0-_.{}'.split('')) }), { numRuns: 200, seed: 12 }),
      `${b64({ alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03' })}.${b64({})}.c2ln`,
    ];
    const calls = observed.calls.length;
    const logs = observed.logs.length;
    const reasons: string[] = [];
    for (const input of inputs) {
      const result = await verifier.verify(input, call);
      expectRejection(result);
      reasons.push(result.reason);
    }
    const counted = observed.calls.slice(calls);
    const logged = observed.logs.slice(logs).filter((line) => 'event' in line.obj);
    expect(counted.map(({ labels }) => labels.reason)).toEqual(reasons);
    expect(logged.map(({ obj }) => (obj as { reason?: unknown }).reason)).toEqual(reasons);
    for (const reason of reasons) expect(isReason(reason)).toBe(true);
  });
});

describe('an internal fault fails closed', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers 401 malformed_token, logs only the error name, and counts the rejection', async () => {
    // Fault injection into the verifier's own header cache (reached inside verification): no input can
    // do this, which is the point: whatever breaks, verify resolves with a rejection.
    const secret = 'internal detail that must not be logged';
    vi.spyOn(VerifiedHeaders.prototype, 'get').mockImplementation(() => {
      throw new RangeError(secret);
    });
    const { observed, verifier } = observedVerifier();
    const token = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03' })}.${b64({})}.c2ln`;
    const result = await verifier.verify(token, call);
    expect(result).toMatchObject({ ok: false, status: 401, reason: 'malformed_token' });
    const internal = observed.logs.find(
      (line) => 'event' in line.obj && line.obj.event === 's2s_verify_internal_error',
    );
    expect(internal).toMatchObject({ level: 'warn', obj: { error: 'RangeError' }, msg: 'verify failed' });
    expect(JSON.stringify(observed.logs)).not.toContain(secret);
    expect(observed.calls.map(({ labels }) => labels.reason)).toEqual(['malformed_token']);
  });

  it('also when the thrown value is not an Error', async () => {
    vi.spyOn(VerifiedHeaders.prototype, 'get').mockImplementation(() => {
      throw null;
    });
    const { observed, verifier } = observedVerifier();
    const token = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'lite-2026-03' })}.${b64({})}.c2ln`;
    expect(await verifier.verify(token, call)).toMatchObject({ status: 401, reason: 'malformed_token' });
    expect(
      observed.logs.some((line) => (line.obj as { event?: string }).event === 's2s_verify_internal_error'),
    ).toBe(true);
  });
});
