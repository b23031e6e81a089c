import { describe, expect, it } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { MAX_REPLAY_ANTICIPATE_MS } from '../../src/replay/options.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REMEMBER_SQL, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import type { ReplayEntry } from '../../src/replay/store.js';
import { countingDb } from '../support/counting-db.js';
import { useReplayDatabase } from '../support/replay-database.js';

const database = useReplayDatabase();
const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 60;
const entry = (jti: string): ReplayEntry => ({ iss: ISS, jti, exp: EXP });
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('pgReplayStore on a real PostgreSQL: exactly once under concurrency', () => {
  it('of 200 concurrent presentations of one token through two separate pools, exactly one is first', async () => {
    // Two verifier instances: own pool, own store; small batches and pipelines spread the
    // presentations over many statements and connections, so the database itself decides the race.
    const instances = [database.pool(), database.pool()].map((db) =>
      pgReplayStore({ db, maxBatch: 4, pipelineDepth: 4, timeoutMs: 5000 }),
    );
    for (const jti of ['race-1', 'race-2', 'race-3']) {
      const presentations = Array.from({ length: 200 }, (_, i) => instances[i % 2]!.remember(entry(jti)));
      const answers = await Promise.all(presentations);
      expect(answers.filter(Boolean)).toHaveLength(1);
    }
    const { rows } = await database
      .pool({ max: 1 })
      .query(`SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'race-%'`);
    expect(rows[0].n).toBe(3);
  });

  it('with 300 tokens each presented three times across two instances, exactly 300 are first', async () => {
    const instances = [database.pool(), database.pool()].map((db) => pgReplayStore({ db, timeoutMs: 5000 }));
    const calls: Promise<boolean>[] = [];
    for (let round = 0; round < 3; round++) {
      for (let t = 0; t < 300; t++) calls.push(instances[(t + round) % 2]!.remember(entry(`many-${t}`)));
      await nextTurn();
    }
    const answers = await Promise.all(calls);
    expect(answers.filter(Boolean)).toHaveLength(300);
    expect(answers.filter((a) => !a)).toHaveLength(600);
  });
});

describe('pgReplayStore coalescing', () => {
  it('sends 64 simultaneous presentations as one multi-row INSERT, each caller getting its own answer', async () => {
    const db = countingDb(database.pool());
    const store = pgReplayStore({ db, pipelineDepth: 1 });
    await store.layout(); // detected once, before the burst
    db.reset();
    const answers = await Promise.all(
      Array.from({ length: 64 }, (_, i) => store.remember(entry(`burst-${i}`))),
    );
    expect(answers).toEqual(answers.map(() => true));
    expect(db.calls).toEqual([{ text: REMEMBER_SQL, rows: 64 }]);
  });

  it('coalesces callers that arrive while a statement is in flight', async () => {
    const db = countingDb(database.pool());
    const store = pgReplayStore({ db, pipelineDepth: 2 });
    const calls: Promise<boolean>[] = [];
    for (let wave = 0; wave < 40; wave++) {
      for (let i = 0; i < 5; i++) calls.push(store.remember(entry(`wave-${wave}-${i}`)));
      await nextTurn();
    }
    expect(await Promise.all(calls)).toEqual(calls.map(() => true));
    const inserts = db.calls.filter((call) => call.text === REMEMBER_SQL);
    expect(inserts.reduce((sum, call) => sum + (call.rows ?? 0), 0)).toBe(200);
    expect(inserts.length).toBeLessThan(40); // one statement per wave would be 40
  });

  it('answers a batch of mixed new, replayed and repeated jtis exactly, sending each key once', async () => {
    const db = countingDb(database.pool());
    const store = pgReplayStore({ db, pipelineDepth: 1 });
    await Promise.all(['seen-a', 'seen-b', 'seen-c'].map((jti) => store.remember(entry(jti))));
    db.reset();
    const jtis = [
      'fresh-1',
      'seen-a',
      'fresh-2',
      'fresh-1',
      'seen-b',
      'seen-a',
      'fresh-3',
      'fresh-2',
      'seen-c',
    ];
    const answers = await Promise.all(jtis.map((jti) => store.remember(entry(jti))));
    expect(answers).toEqual([true, false, true, false, false, false, true, false, false]);
    expect(db.calls).toEqual([{ text: REMEMBER_SQL, rows: 6 }]); // 6 distinct keys, one statement
  });

  it('caps a coalesced statement at maxBatch presentations', async () => {
    const db = countingDb(database.pool());
    const store = pgReplayStore({ db, pipelineDepth: 1, maxBatch: 16 });
    await store.layout();
    db.reset();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.remember(entry(`cap-${i}`))),
    );
    expect(answers.every(Boolean)).toBe(true);
    expect(db.calls.map((call) => call.rows)).toEqual([16, 16, 16, 2]);
  });

  it('rejects every caller of a failed statement, answers none true, and recovers without a restart', async () => {
    const store = pgReplayStore({ db: database.pool() });
    const admin = database.pool({ max: 1 });
    await admin.query(`ALTER TABLE ${REPLAY_TABLE_NAME} RENAME TO s2s_jwt_replay_away`);
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.remember(entry(`doomed-${i}`))),
      );
      for (const result of results) {
        expect(result).toMatchObject({ status: 'rejected', reason: { code: 'ERR_S2S_REPLAY_FAILED' } });
      }
      expect(await store.health()).toBe(false);
    } finally {
      await admin.query('ALTER TABLE session.s2s_jwt_replay_away RENAME TO s2s_jwt_replay');
    }
    expect(await store.health()).toBe(true);
    // Nothing was recorded, so the same jtis are first uses now.
    const retried = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.remember(entry(`doomed-${i}`))),
    );
    expect(retried.every(Boolean)).toBe(true);
  });
});

describe('pgReplayStore configuration', () => {
  it.each([
    ['db', { db: undefined }],
    ['db', { db: {} }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['maxBatch', { maxBatch: 1.5 }],
    ['pipelineDepth', { pipelineDepth: -1 }],
    ['anticipateMs', { anticipateMs: -1 }],
    ['anticipateMs', { anticipateMs: MAX_REPLAY_ANTICIPATE_MS + 1 }],
    ['anticipateMs', { anticipateMs: 0.5 }],
    ['purgeBatchSize', { purgeBatchSize: '10' }],
    ['purgeTimeoutMs', { purgeTimeoutMs: Number.POSITIVE_INFINITY }],
    // Past a Node timer's longest delay: the timer would fire after 1 ms, so the bound would not bound.
    ['timeoutMs', { timeoutMs: 2 ** 31 }],
    ['purgeTimeoutMs', { purgeTimeoutMs: 2 ** 31 }],
    ['now', { now: 12 }],
  ])('refuses an invalid %s at construction, naming it', (field, overrides) => {
    const options = { db: { query: async () => ({ rows: [] }) }, ...overrides };
    expect(() => pgReplayStore(options as never)).toThrow(VerifierConfigError);
    expect(() => pgReplayStore(options as never)).toThrow(expect.objectContaining({ field }));
  });

  it('takes anticipateMs from 0 (never waits) to MAX_REPLAY_ANTICIPATE_MS', () => {
    const db = { query: async () => ({ rows: [] }) };
    for (const anticipateMs of [0, 1, MAX_REPLAY_ANTICIPATE_MS]) {
      expect(typeof pgReplayStore({ db, anticipateMs }).anticipate).toBe('function');
    }
  });
});
