import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import fc from 'fast-check';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { createVerifier } from '../../src/index.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { requestLogs } from '../harness/recorder.js';
import { sign, vectorKey } from '../harness/tokens.js';
import { file } from '../harness/vectors.js';

const ISS = 'https://lite.example';
const EXP = 1_900_000_000;

describe('memoryReplayStore', () => {
  it('refuses new entries when full rather than forget one still in retention', async () => {
    let clock = EXP * 1000;
    const store = memoryReplayStore({ now: () => clock, maxEntries: 3 });
    for (const jti of ['a', 'b', 'c']) expect(await store.remember({ iss: ISS, jti, exp: EXP })).toBe(true);
    await expect(store.remember({ iss: ISS, jti: 'd', exp: EXP })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_FULL',
    });
    expect(await store.remember({ iss: ISS, jti: 'a', exp: EXP })).toBe(false); // still remembered
    expect(store.size).toBe(3);
    clock = (EXP + REPLAY_RETENTION_SECONDS + 1) * 1000; // now all three are past retention
    expect(await store.remember({ iss: ISS, jti: 'd', exp: EXP + REPLAY_RETENTION_SECONDS })).toBe(true);
    expect(store.size).toBe(1);
  });

  it('records an entry whose issuer the purge for room just emptied (never into a dropped map)', async () => {
    let clock = EXP * 1000;
    const store = memoryReplayStore({ now: () => clock, maxEntries: 1 });
    expect(await store.remember({ iss: ISS, jti: 'old', exp: EXP })).toBe(true);
    clock = (EXP + REPLAY_RETENTION_SECONDS + 1) * 1000;
    // Full: the purge for room removes 'old', the issuer's last entry, before 'new' is recorded.
    expect(await store.remember({ iss: ISS, jti: 'new', exp: EXP + REPLAY_RETENTION_SECONDS })).toBe(true);
    expect(await store.remember({ iss: ISS, jti: 'new', exp: EXP + REPLAY_RETENTION_SECONDS })).toBe(false);
    expect(store.size).toBe(1);
  });

  it('keeps (iss, jti) pairs apart: the same jti under two issuers is two entries', async () => {
    const store = memoryReplayStore();
    expect(await store.remember({ iss: 'a', jti: 'j', exp: EXP })).toBe(true);
    expect(await store.remember({ iss: 'b', jti: 'j', exp: EXP })).toBe(true);
    expect(await store.remember({ iss: 'a', jti: 'j', exp: EXP })).toBe(false);
    expect(await store.remember({ iss: 'b', jti: 'j', exp: EXP })).toBe(false);
    expect(store.size).toBe(2);
  });

  it('purges exactly the entries past retention, for any mix of exp values and purge times', async () => {
    const scenario = fc.record({
      exps: fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 120 }),
      issuers: fc.array(fc.constantFrom('lite-a', 'lite-b', 'lite-c'), { minLength: 120, maxLength: 120 }),
      purgeAt: fc.array(fc.integer({ min: 0, max: 4200 * 1000 }), { minLength: 1, maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async ({ exps, issuers, purgeAt }) => {
        let clock = 0;
        const store = memoryReplayStore({ now: () => clock });
        const model = new Map<string, number>();
        // Two issuers may send the same jti: a pair is one entry, a jti alone is not.
        const iss = (i: number) => issuers[i]!;
        const jti = (i: number) => `j${i % 40}`;
        for (const [i, exp] of exps.entries()) {
          const fresh = !model.has(`${iss(i)} ${jti(i)}`);
          expect(await store.remember({ iss: iss(i), jti: jti(i), exp })).toBe(fresh);
          if (fresh) model.set(`${iss(i)} ${jti(i)}`, exp + REPLAY_RETENTION_SECONDS);
        }
        for (const offsetMs of [...purgeAt].sort((a, b) => a - b)) {
          clock = REPLAY_RETENTION_SECONDS * 1000 + offsetMs;
          const expected = [...model].filter(([, until]) => until * 1000 < clock).map(([key]) => key);
          expect(await store.purge()).toBe(expected.length);
          for (const key of expected) model.delete(key);
          expect(store.size).toBe(model.size);
        }
        for (const [i] of exps.entries()) {
          const key = `${iss(i)} ${jti(i)}`;
          const fresh = !model.has(key);
          expect(await store.remember({ iss: iss(i), jti: jti(i), exp: exps[i]! })).toBe(fresh);
          if (fresh) model.set(key, exps[i]! + REPLAY_RETENTION_SECONDS);
        }
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['maxEntries', { maxEntries: 0 }],
    ['now', { now: 'yesterday' }],
  ])('refuses an invalid %s at construction', (field, options) => {
    expect(() => memoryReplayStore(options as never)).toThrow(expect.objectContaining({ field }));
    expect(() => memoryReplayStore(options as never)).toThrow(VerifierConfigError);
  });

  it('fails closed when its clock returns garbage', async () => {
    const store = memoryReplayStore({ now: () => Number.NaN });
    await store.remember({ iss: ISS, jti: 'a', exp: EXP });
    await expect(store.purge()).rejects.toThrow(VerifierConfigError);
  });

  it('through a verifier: first use 200, replay 401, full 503 (refused, never forgotten)', async () => {
    const key = await vectorKey('lite-2026-03');
    const store = memoryReplayStore({ maxEntries: 2 });
    const verifier = createVerifier({
      keys: { jwks: { keys: file.jwks.keys as JWK[] } },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: store,
      logger: requestLogs().logger,
    });
    const now = Math.floor(Date.now() / 1000);
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((jti) => sign(key, now, { jti })));
    const verdict = async (token: string) => {
      const { status, reason } = await verifier.verify(token, { scope: 'spaces:create', path: '/p' });
      return `${status} ${reason}`;
    };
    expect([await verdict(a!), await verdict(a!), await verdict(b!), await verdict(c!)]).toEqual([
      '200 ok',
      '401 replayed_token',
      '200 ok',
      '503 replay_store_unavailable',
    ]);
    expect(store.size).toBe(2);
  });
});
