import { beforeAll, describe, expect, it } from 'vitest';
import { pgReplayStore } from '../src/replay/pg.js';
import { REMEMBER_SQL } from '../src/replay/sql.js';
import type { ReplayEntry, ReplayStore } from '../src/replay/store.js';
import { requestLogs } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { downStore, liveVerifier, stuckStore } from './harness/verifiers.js';
import { countingDb } from './support/counting-db.js';
import { useReplayDatabase } from './support/replay-database.js';

let key: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});
const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };

/** Records what reaches the store, answering like a single-use store. */
function spyingStore(): ReplayStore & { entries: ReplayEntry[] } {
  const seen = new Set<string>();
  const entries: ReplayEntry[] = [];
  return {
    entries,
    remember: async (entry) => {
      entries.push(entry);
      const id = `${entry.iss}\u0000${entry.jti}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    },
    purge: async () => 0,
  };
}

describe('replay protection in the verifier', () => {
  it('records (iss, jti, exp) only for tokens whose signature and claims are valid', async () => {
    const store = spyingStore();
    const verifier = liveVerifier({ replayStore: store });
    const now = nowSeconds();
    const good = await sign(key, now, { jti: 'good' });
    const [h, p] = good.split('.');
    await verifier.verify(`${h}.${p}.${'A'.repeat(342)}`, endpoint); // forged: must not burn the jti
    await verifier.verify(await sign(key, now, { jti: 'expired', iatOffset: -1000 }), endpoint);
    await verifier.verify(await sign(key, now, { jti: 'wrong-aud', aud: 'elsewhere' }), endpoint);
    expect(store.entries).toEqual([]);
    expect(await verifier.verify(good, endpoint)).toMatchObject({ status: 200 });
    expect(store.entries).toEqual([{ iss: file.issuer, jti: 'good', exp: now + 60 }]);
  });

  it('spends the jti of a token refused for scope (403), so it cannot be retried', async () => {
    const verifier = liveVerifier();
    const token = await sign(key, nowSeconds(), { scope: 'join_tokens:issue' });
    expect(await verifier.verify(token, endpoint)).toMatchObject({
      status: 403,
      reason: 'insufficient_scope',
    });
    expect(await verifier.verify(token, { scope: 'join_tokens:issue', path: '/j' })).toMatchObject({
      status: 401,
      reason: 'replayed_token',
    });
  });

  it('keys replay by (iss, jti): the same jti from another issuer is a different token', async () => {
    const verifier = liveVerifier({ issuers: [file.issuer, 'other'] });
    expect(await verifier.verify(await sign(key, nowSeconds(), { jti: 'same' }), endpoint)).toMatchObject({
      status: 200,
    });
    expect(
      await verifier.verify(await sign(key, nowSeconds(), { jti: 'same', iss: 'other' }), endpoint),
    ).toMatchObject({ status: 200 });
  });

  it('answers 503 replay_store_unavailable when the store fails', async () => {
    expect(
      await liveVerifier({ replayStore: downStore }).verify(await sign(key, nowSeconds()), endpoint),
    ).toEqual({
      ok: false,
      status: 503,
      reason: 'replay_store_unavailable',
    });
  });

  it('answers 503 within the replay timeout when the store does not answer', async () => {
    const verifier = liveVerifier({ replayStore: stuckStore, replayTimeoutMs: 150 });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => sign(key, nowSeconds())));
    // The store never settles: only the replay deadline can answer (the test timeout bounds the wait).
    const results = await Promise.all(tokens.map((token) => verifier.verify(token, endpoint)));
    expect(new Set(results.map((result) => result.reason))).toEqual(new Set(['replay_store_unavailable']));
  });

  it('treats a store answer that is not a boolean as unavailable, never as fresh', async () => {
    const odd = { remember: async () => 'yes' as unknown as boolean, purge: async () => 0 };
    const observed = requestLogs();
    expect(
      await liveVerifier({ replayStore: odd, logger: observed.logger }).verify(
        await sign(key, nowSeconds()),
        endpoint,
      ),
    ).toMatchObject({
      status: 503,
      reason: 'replay_store_unavailable',
    });
    // No error to classify: the cause is the contract's catch-all.
    expect(observed.logs[0]?.obj).toMatchObject({ reason: 'replay_store_unavailable', cause: 'error' });
  });

  it('treats a store that throws synchronously as unavailable', async () => {
    const throwing = {
      remember: (): Promise<boolean> => {
        throw new Error('bug');
      },
      purge: async () => 0,
    };
    expect(
      await liveVerifier({ replayStore: throwing }).verify(await sign(key, nowSeconds()), endpoint),
    ).toMatchObject({ status: 503, reason: 'replay_store_unavailable' });
  });
});

describe("the verifier's replay timeout reaches the store", () => {
  it('hands replayTimeoutMs to remember, health and check', async () => {
    const seen: unknown[] = [];
    const store: ReplayStore = {
      remember: async (_entry, options) => {
        seen.push(['remember', options]);
        return true;
      },
      purge: async () => 0,
      health: async (options) => {
        seen.push(['health', options]);
        return true;
      },
    };
    const verifier = liveVerifier({ replayStore: store, replayTimeoutMs: 1234 });
    expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({ status: 200 });
    expect(await verifier.health()).toMatchObject({ replayStore: true });
    const checking = liveVerifier({
      replayStore: { ...store, check: async (options) => void seen.push(['check', options]) },
      replayTimeoutMs: 1234,
    });
    expect(await checking.health()).toMatchObject({ replayStore: true });
    // check is preferred: health is not asked when check exists.
    expect(seen).toEqual([
      ['remember', { timeoutMs: 1234 }],
      ['health', { timeoutMs: 1234 }],
      ['check', { timeoutMs: 1234 }],
    ]);
  });

  it('logs cause timeout when the store does not answer within it', async () => {
    const observed = requestLogs();
    const verifier = liveVerifier({ replayStore: stuckStore, replayTimeoutMs: 100, logger: observed.logger });
    expect(await verifier.verify(await sign(key, nowSeconds()), endpoint)).toMatchObject({
      status: 503,
      reason: 'replay_store_unavailable',
    });
    expect(observed.logs[0]?.obj).toMatchObject({ reason: 'replay_store_unavailable', cause: 'timeout' });
  });

  it('reports health false with the cause check rejected with, or error for a health answer that is not true', async () => {
    const base = { remember: async () => true, purge: async () => 0 };
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(
      await liveVerifier({ replayStore: { ...base, check: () => Promise.reject(refused) } }).health(),
    ).toEqual({
      keys: true,
      replayStore: false,
      replayStoreCause: 'unreachable',
    });
    expect(
      await liveVerifier({
        replayStore: { ...base, health: async () => 'yes' as unknown as boolean },
      }).health(),
    ).toEqual({ keys: true, replayStore: false, replayStoreCause: 'error' });
    // A store with neither probe is taken as healthy.
    expect(await liveVerifier({ replayStore: base }).health()).toEqual({ keys: true, replayStore: true });
  });
});

describe('with pgReplayStore on real Postgres, two verifiers each with its own pool', () => {
  const database = useReplayDatabase();

  it('accepts a token once across two verifiers sharing the database', async () => {
    // Two pools: the racing INSERTs really run on separate connections, as two replicas' would.
    // A generous replay deadline: this test is about the race, not the timeout, on a busy machine.
    const replayTimeoutMs = 10_000;
    const a = liveVerifier({
      replayStore: pgReplayStore({ db: database.pool({ max: 4 }) }),
      replayTimeoutMs,
    });
    const b = liveVerifier({
      replayStore: pgReplayStore({ db: database.pool({ max: 4 }) }),
      replayTimeoutMs,
    });
    const token = await sign(key, nowSeconds());
    const results = await Promise.all([
      ...Array.from({ length: 10 }, () => a.verify(token, endpoint)),
      ...Array.from({ length: 10 }, () => b.verify(token, endpoint)),
    ]);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.filter((result) => result.reason === 'replayed_token')).toHaveLength(19);
  });
});

describe('the anticipate hint: the verifier announces a token to its store while the signature is checked', () => {
  /** A store recording the order of hints and calls. */
  function hintedStore(anticipate: () => unknown = () => undefined) {
    const events: string[] = [];
    const store = spyingStore();
    const remember = store.remember;
    return {
      events,
      store: {
        ...store,
        remember: (entry: ReplayEntry) => {
          events.push(`remember ${entry.jti}`);
          return remember(entry);
        },
        anticipate: () => {
          events.push('announced');
          const end = anticipate();
          if (end !== undefined) return end as () => void;
          return () => {
            events.push('ended');
          };
        },
      } as ReplayStore,
    };
  }

  it('announces only tokens whose claims pass, and ends every announcement, before remember when one follows', async () => {
    const { events, store } = hintedStore();
    const verifier = liveVerifier({ replayStore: store });
    const now = nowSeconds();
    const good = await sign(key, now, { jti: 'good' });
    const [h, p] = good.split('.');
    expect(await verifier.verify(`${h}.${p}.${'A'.repeat(342)}`, endpoint)).toMatchObject({
      reason: 'invalid_signature',
    });
    expect(events).toEqual(['announced', 'ended']); // a forged signature: announced, ended, nothing remembered
    events.length = 0;
    await verifier.verify(await sign(key, now, { jti: 'expired', iatOffset: -1000 }), endpoint);
    await verifier.verify(await sign(key, now, { jti: 'wrong-aud', aud: 'elsewhere' }), endpoint);
    const mistyped = await sign(key, now, { jti: 'mistyped', scope: 5 as unknown as string });
    expect(await verifier.verify(mistyped, endpoint)).toMatchObject({ status: 401 });
    expect(events).toEqual([]); // claims already refused: no remember can follow, nothing announced
    expect(await verifier.verify(good, endpoint)).toMatchObject({ status: 200 });
    expect(events).toEqual(['announced', 'ended', 'remember good']);
  });

  it("answers as without the hint when the store's anticipate throws or returns no function", async () => {
    for (const anticipate of [
      () => {
        throw new Error('hint failed');
      },
      () => 'not a function',
      () => () => {
        throw new Error('end failed');
      },
    ]) {
      const { store } = hintedStore(anticipate);
      const verifier = liveVerifier({ replayStore: store });
      const token = await sign(key, nowSeconds());
      expect(await verifier.verify(token, endpoint)).toMatchObject({ ok: true, status: 200 });
      expect(await verifier.verify(token, endpoint)).toMatchObject({ reason: 'replayed_token' });
    }
  });
});

describe('with pgReplayStore on real Postgres, tokens verified together', () => {
  const database = useReplayDatabase();

  it('share one INSERT: the first verified waits for the others announced with it', async () => {
    const db = countingDb(database.pool({ max: 4 }));
    // The largest hold, so a loaded machine finishing the 8 RSA checks late still makes one statement.
    const store = pgReplayStore({ db, anticipateMs: 100, timeoutMs: 10_000 });
    await store.layout();
    db.reset();
    const verifier = liveVerifier({ replayStore: store, replayTimeoutMs: 10_000 });
    const now = nowSeconds();
    const tokens = await Promise.all(
      Array.from({ length: 8 }, (_, i) => sign(key, now, { jti: `together-${i}` })),
    );
    const results = await Promise.all(tokens.map((token) => verifier.verify(token, endpoint)));
    expect(results.map((result) => result.status)).toEqual(tokens.map(() => 200));
    expect(db.calls).toEqual([{ text: REMEMBER_SQL, rows: 8 }]);
  });
});
