import { Deadline, REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import fc from 'fast-check';
import type { JWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { createVerifier } from '../../src/index.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import type { ReplayEntry, ReplayStore } from '../../src/replay/store.js';
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

  it.each([
    ['NaN', Number.NaN],
    ['microseconds', 1_900_000_000_000_000],
    ['nanoseconds', 1_900_000_000_000_000_000],
  ])('refuses a clock in %s at construction (it would stop or wreck the purge)', (_unit, reading) => {
    expect(() => memoryReplayStore({ now: () => reading })).toThrow(
      expect.objectContaining({ field: 'now', code: 'ERR_S2S_VERIFIER_CONFIG' }),
    );
  });

  it('accepts the latest epoch-milliseconds reading it allows, the last millisecond of the year 9999', () => {
    expect(() => memoryReplayStore({ now: () => Date.UTC(9999, 11, 31, 23, 59, 59, 999) })).not.toThrow();
    expect(() => memoryReplayStore({ now: () => Date.UTC(9999, 11, 31, 23, 59, 59, 999) + 1 })).toThrow(
      expect.objectContaining({ field: 'now' }),
    );
  });

  it('fails closed if its clock turns bad after construction', async () => {
    let clock = EXP * 1000;
    const store = memoryReplayStore({ now: () => clock });
    await store.remember({ iss: ISS, jti: 'a', exp: EXP });
    clock = Number.NaN;
    await expect(store.purge()).rejects.toThrow(VerifierConfigError);
    clock = EXP * 1_000_000; // switched to microseconds: every live jti would look past retention
    await expect(store.purge()).rejects.toThrow(VerifierConfigError);
    // Readiness sees it too, though the store is far from full.
    expect(await store.health()).toBe(false);
    await expect(store.check()).rejects.toThrow(VerifierConfigError);
    clock = EXP * 1000;
    expect(await store.remember({ iss: ISS, jti: 'a', exp: EXP })).toBe(false); // still remembered
  });

  it('answers health false and check ERR_S2S_REPLAY_FULL while full of entries within retention', async () => {
    let clock = EXP * 1000;
    const store = memoryReplayStore({ now: () => clock, maxEntries: 2 });
    expect(await store.health()).toBe(true);
    await store.remember({ iss: ISS, jti: 'a', exp: EXP });
    await store.remember({ iss: ISS, jti: 'b', exp: EXP });
    expect(await store.health()).toBe(false);
    await expect(store.check()).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_FULL' });
    clock = (EXP + REPLAY_RETENTION_SECONDS + 1) * 1000; // both past retention: room again
    expect(await store.health()).toBe(true);
    await expect(store.check()).resolves.toBeUndefined();
  });

  it('a full store refusing a burst purges at most once per clock second, and never refuses wrongly', async () => {
    let clock = EXP * 1000 + 500;
    const store = memoryReplayStore({ now: () => clock, maxEntries: 1000 });
    for (let i = 0; i < 1000; i++) await store.remember({ iss: ISS, jti: `j${i}`, exp: EXP });
    const scans = vi.spyOn(Map.prototype, Symbol.iterator);
    try {
      for (let i = 0; i < 200; i++) {
        await expect(store.remember({ iss: ISS, jti: `burst${i}`, exp: EXP })).rejects.toMatchObject({
          code: 'ERR_S2S_REPLAY_FULL',
        });
      }
      // One purge for room in this clock second (it walks the buckets once), none after it.
      expect(scans).toHaveBeenCalledTimes(1);
      // An entry already past retention (a direct caller may send one) makes the next purge worth running.
      clock = (EXP + REPLAY_RETENTION_SECONDS) * 1000 + 500; // this second: every j* is past retention
      expect(await store.remember({ iss: ISS, jti: 'late', exp: EXP })).toBe(true);
      expect(store.size).toBe(1);
    } finally {
      scans.mockRestore();
    }
  });

  it('purges for room again in the same second when an entry added since is already past retention', async () => {
    const clock = (EXP + REPLAY_RETENTION_SECONDS) * 1000 + 500; // exp EXP is past retention now, EXP + 100 is not
    const store = memoryReplayStore({ now: () => clock, maxEntries: 3 });
    // Filled earlier: two entries past retention and one live one.
    await store.remember({ iss: ISS, jti: 'old1', exp: EXP });
    await store.remember({ iss: ISS, jti: 'old2', exp: EXP });
    await store.remember({ iss: ISS, jti: 'live', exp: EXP + 100 });
    // Full: this purge for room removes old1 and old2; a direct caller then records one already past retention.
    expect(await store.remember({ iss: ISS, jti: 'past', exp: EXP })).toBe(true);
    expect(await store.remember({ iss: ISS, jti: 'b', exp: EXP + 100 })).toBe(true);
    // Full again within the same second: only a purge finds room (it removes 'past').
    expect(await store.remember({ iss: ISS, jti: 'c', exp: EXP + 100 })).toBe(true);
    expect(store.size).toBe(3);
  });

  it('the skipped purge for room is exact: same answers as purging on every full call', async () => {
    const step = fc.record({
      jti: fc.integer({ min: 0, max: 30 }),
      exp: fc.integer({ min: 0, max: 20 }),
      advanceMs: fc.constantFrom(0, 0, 0, 250, 999, 1000, 1001, 60_000),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 150 }), async (steps) => {
        let clock = REPLAY_RETENTION_SECONDS * 1000;
        const store = memoryReplayStore({ now: () => clock, maxEntries: 8 });
        const model = new Map<string, number>(); // jti → retain_until
        for (const { jti, exp, advanceMs } of steps) {
          clock += advanceMs;
          const key = `j${jti}`;
          let expected: boolean | 'full';
          if (model.has(key)) expected = false;
          else {
            if (model.size >= 8) for (const [k, until] of model) if (until < clock / 1000) model.delete(k);
            expected = model.size >= 8 ? 'full' : true;
            if (expected === true) model.set(key, exp + REPLAY_RETENTION_SECONDS);
          }
          const answer = await store.remember({ iss: ISS, jti: key, exp }).catch((error) => {
            expect(error).toMatchObject({ code: 'ERR_S2S_REPLAY_FULL' });
            return 'full' as const;
          });
          expect(answer).toBe(expected);
          expect(store.size).toBe(model.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  describe('answered in the calling tick, through a verifier', () => {
    const setup = async (replayStore: ReplayStore, replayTimeoutMs?: number) => {
      const key = await vectorKey('lite-2026-03');
      const observed = requestLogs();
      const verifier = createVerifier({
        keys: { jwks: { keys: file.jwks.keys as JWK[] } },
        audience: file.audience,
        issuers: [file.issuer],
        replayStore,
        logger: observed.logger,
        ...(replayTimeoutMs === undefined ? {} : { replayTimeoutMs }),
      });
      const now = Math.floor(Date.now() / 1000);
      const tokens = await Promise.all(['a', 'b', 'c'].map((jti) => sign(key, now, { jti })));
      const verdict = async (token: string | undefined) => {
        const { status, reason } = await verifier.verify(token, { scope: 'spaces:create', path: '/p' });
        return `${status} ${reason}`;
      };
      return { tokens, verdict, logs: observed.logs };
    };

    it("a memory store's own remember is answered in the calling tick: no deadline armed, same answers", async () => {
      const store = memoryReplayStore({ maxEntries: 2 });
      const { tokens, verdict, logs } = await setup(store);
      const tracked = vi.spyOn(Deadline.prototype, 'track');
      const timers = vi.spyOn(globalThis, 'setTimeout');
      try {
        expect(await verdict(tokens[0])).toBe('200 ok');
        expect(await verdict(tokens[0])).toBe('401 replayed_token');
        expect(await verdict(tokens[1])).toBe('200 ok');
        expect(await verdict(tokens[2])).toBe('503 replay_store_unavailable');
        expect(tracked).not.toHaveBeenCalled();
        expect(timers).not.toHaveBeenCalled();
      } finally {
        tracked.mockRestore();
        timers.mockRestore();
      }
      expect(store.size).toBe(2);
      // The full store's refusal reaches the rejection log as a dependency error, as from any store.
      expect(logs.at(-1)?.obj).toMatchObject({ status: 503, cause: 'error' });
    });

    it('a remember replaced on the instance (a spy, an injected fault) is the one asked, under the deadline', async () => {
      const spied = memoryReplayStore();
      const remember = vi.spyOn(spied, 'remember');
      const first = await setup(spied);
      expect(await first.verdict(first.tokens[0])).toBe('200 ok');
      expect(await first.verdict(first.tokens[0])).toBe('401 replayed_token');
      expect(remember).toHaveBeenCalledTimes(2);

      const hanging = memoryReplayStore();
      hanging.remember = () => new Promise<boolean>(() => undefined);
      const second = await setup(hanging, 50);
      expect(await second.verdict(second.tokens[0])).toBe('503 replay_store_unavailable');
      expect(second.logs.at(-1)?.obj).toMatchObject({ status: 503, cause: 'timeout' });
      expect(hanging.size).toBe(0);
    });

    it('a store wrapping a memory store goes through remember, under the deadline, with the same answers', async () => {
      const inner = memoryReplayStore({ maxEntries: 2 });
      const wrapper: ReplayStore = {
        remember: vi.fn((entry: ReplayEntry) => inner.remember(entry)),
        purge: () => inner.purge(),
      };
      const { tokens, verdict, logs } = await setup(wrapper);
      const answers = [];
      for (const token of [tokens[0], tokens[0], tokens[1], tokens[2]]) answers.push(await verdict(token));
      expect(answers).toEqual(['200 ok', '401 replayed_token', '200 ok', '503 replay_store_unavailable']);
      expect(wrapper.remember).toHaveBeenCalledTimes(4);
      expect(logs.at(-1)?.obj).toMatchObject({ status: 503, cause: 'error' });
    });
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
    expect(await verifier.health()).toMatchObject({ replayStore: false, replayStoreCause: 'error' });
  });
});
