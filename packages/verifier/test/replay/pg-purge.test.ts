import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import type { PurgeOutcome } from '../../src/replay/purge.js';
import { startPurger } from '../../src/replay/purge.js';
import { PURGE_LOCK_KEY, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { useReplayDatabase } from '../support/replay-database.js';

const database = useReplayDatabase();
/** Past retention by an hour on the database clock (the purge's only clock). */
const EXP = Math.floor(Date.now() / 1000) - REPLAY_RETENTION_SECONDS - 3600;

/** Inserts `count` rows with exp EXP (past retention) and `kept` rows still in retention for an hour. */
async function seed(count: number, kept = 0): Promise<void> {
  const pool = database.pool({ max: 1 });
  await pool.query(
    `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
     SELECT 'iss', 'old-' || g, $2::bigint FROM generate_series(1, $1::int) AS g
     UNION ALL SELECT 'iss', 'kept-' || g, $2::bigint + 7200 FROM generate_series(1, $3::int) AS g`,
    [count, EXP, kept],
  );
}

async function rowCounts(): Promise<{ old: number; kept: number }> {
  const { rows } = await database.pool({ max: 1 }).query(
    `SELECT count(*) FILTER (WHERE jti LIKE 'old-%')::int AS old, count(*) FILTER (WHERE jti LIKE 'kept-%')::int AS kept
     FROM ${REPLAY_TABLE_NAME}`,
  );
  return rows[0];
}

beforeEach(() => database.truncate());

describe('purge across replicas: one at a time under a Postgres advisory lock', () => {
  it('skips, deleting nothing, while another session holds the purge lock', async () => {
    await seed(30);
    const holder = await database.client();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [PURGE_LOCK_KEY]);
    const store = pgReplayStore({ db: database.pool() });
    try {
      expect(await store.runPurge()).toEqual({ deleted: 0, batches: 0, lockBusy: true });
      expect(await store.purge()).toBe(0);
      expect((await rowCounts()).old).toBe(30);
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [PURGE_LOCK_KEY]);
    }
    expect(await store.runPurge()).toEqual({ deleted: 30, batches: 1, lockBusy: false });
  });

  it('a second purger skips while the first is inside a batch; the first then finishes alone', async () => {
    await seed(50);
    // Hold a row lock on one expired row so purger A's batch blocks part-way, holding the purge lock.
    const blocker = await database.client();
    await blocker.query('BEGIN');
    await blocker.query(`SELECT 1 FROM ${REPLAY_TABLE_NAME} WHERE jti = 'old-1' FOR UPDATE`);
    const a = pgReplayStore({ db: database.pool(), purgeBatchSize: 20 });
    const b = pgReplayStore({ db: database.pool(), purgeBatchSize: 20 });
    let purgeA: Promise<PurgeOutcome> | undefined;
    try {
      purgeA = a.runPurge();
      const observer = database.pool({ max: 1 });
      // Wait until A holds the advisory lock (it is waiting on the row lock inside its batch).
      for (let i = 0; ; i++) {
        const { rows } = await observer.query(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
          [PURGE_LOCK_KEY],
        );
        if (rows[0].n === 1) break;
        if (i > 200) throw new Error('purger A never took the lock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await b.runPurge()).toEqual({ deleted: 0, batches: 0, lockBusy: true });
    } finally {
      await blocker.query('COMMIT');
    }
    expect(await purgeA).toEqual({ deleted: 50, batches: 3, lockBusy: false });
    expect(await rowCounts()).toEqual({ old: 0, kept: 0 });
  });

  it('two purgers racing over many rows delete each expired row once and no row within retention', async () => {
    await seed(20_000, 500);
    const stores = [database.pool(), database.pool()].map((db) => pgReplayStore({ db, purgeBatchSize: 500 }));
    let deleted = 0;
    for (let round = 0; round < 200 && (await rowCounts()).old > 0; round++) {
      const outcomes = await Promise.all(stores.map((store) => store.runPurge()));
      deleted += outcomes.reduce((sum, outcome) => sum + outcome.deleted, 0);
    }
    expect(deleted).toBe(20_000);
    expect(await rowCounts()).toEqual({ old: 0, kept: 500 });
  }, 30_000);
});

describe('the purge cutoff is the database clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a replica whose clock runs two days ahead deletes only rows past retention by now()', async () => {
    await seed(6, 4);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 2 * REPLAY_RETENTION_SECONDS * 1000);
    const store = pgReplayStore({ db: database.pool() });
    expect(await store.runPurge()).toEqual({ deleted: 6, batches: 1, lockBusy: false });
    expect(await rowCounts()).toEqual({ old: 0, kept: 4 });
  });

  it('refuses a `now` option: no process clock may decide what is past retention', () => {
    const options = { db: database.pool(), now: () => Date.now() };
    expect(() => pgReplayStore(options as never)).toThrow(VerifierConfigError);
    expect(() => pgReplayStore(options as never)).toThrow(expect.objectContaining({ field: 'now' }));
  });
});

describe('a run stopped at its signal', () => {
  it('stops between batches and says so; a run that ends by itself does not', async () => {
    await seed(25);
    const store = pgReplayStore({ db: database.pool(), purgeBatchSize: 10 });
    const abort = new AbortController();
    abort.abort();
    expect(await store.runPurge({ signal: abort.signal })).toEqual({
      deleted: 0,
      batches: 0,
      lockBusy: false,
      stopped: true,
    });
    expect((await rowCounts()).old).toBe(25);
    // Aborted after the first batch: one batch deleted, the rest left for the next run.
    const later = new AbortController();
    const pool = database.pool();
    const { rows } = await pool.query('SELECT 1');
    expect(rows).toHaveLength(1);
    const counting = pgReplayStore({
      db: {
        query: async (...args: Parameters<typeof pool.query>) => {
          const result = await pool.query(...args);
          if (String((args[0] as { text?: string }).text ?? args[0]).includes('DELETE')) later.abort();
          return result;
        },
      } as never,
      purgeBatchSize: 10,
    });
    expect(await counting.runPurge({ signal: later.signal })).toEqual({
      deleted: 10,
      batches: 1,
      lockBusy: false,
      stopped: true,
    });
    expect(await store.runPurge()).toEqual({ deleted: 15, batches: 2, lockBusy: false });
  });
});

describe('startPurger', () => {
  it('purges on its interval until stopped', async () => {
    const store = pgReplayStore({ db: database.pool() });
    const outcomes: PurgeOutcome[] = [];
    await seed(10);
    const purger = startPurger(store, { intervalMs: 20, onPurge: (outcome) => outcomes.push(outcome) });
    try {
      await expect.poll(() => outcomes.length, { timeout: 2000 }).toBeGreaterThanOrEqual(3);
      expect(outcomes[0]).toEqual({ deleted: 10, batches: 1, lockBusy: false });
      await seed(5); // rows expiring later are picked up by a later run
      await expect
        .poll(() => outcomes.some((outcome) => outcome.deleted === 5), { timeout: 2000 })
        .toBe(true);
    } finally {
      await purger.stop();
    }
    const runs = outcomes.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outcomes.length).toBe(runs);
  });

  it("purges in batches of the store's purgeBatchSize", async () => {
    await seed(12, 3);
    const purger = startPurger(pgReplayStore({ db: database.pool(), purgeBatchSize: 5 }), {
      intervalMs: 60_000,
    });
    try {
      expect(await purger.runNow()).toEqual({ deleted: 12, batches: 3, lockBusy: false });
    } finally {
      await purger.stop();
    }
    expect(await rowCounts()).toEqual({ old: 0, kept: 3 });
  });

  it('reports failures to the logger, never throws from the timer, and carries on', async () => {
    const warnings: { obj: object; msg: string | undefined }[] = [];
    const logger = {
      info: () => undefined,
      warn: (obj: object, msg?: string) => warnings.push({ obj, msg }),
    };
    const outcomes: PurgeOutcome[] = [];
    const admin = database.pool({ max: 1 });
    await seed(4);
    await admin.query(`ALTER TABLE ${REPLAY_TABLE_NAME} RENAME TO s2s_jwt_replay_away`);
    const purger = startPurger(pgReplayStore({ db: database.pool() }), {
      intervalMs: 20,
      logger,
      onPurge: (outcome) => outcomes.push(outcome),
    });
    try {
      await expect.poll(() => warnings.length, { timeout: 2000 }).toBeGreaterThanOrEqual(2);
      expect(warnings[0]).toEqual({
        msg: 'replay store purge failed',
        obj: { err: expect.objectContaining({ code: 'ERR_S2S_REPLAY_FAILED', cause: expect.any(String) }) },
      });
      await admin.query('ALTER TABLE session.s2s_jwt_replay_away RENAME TO s2s_jwt_replay');
      await expect.poll(() => outcomes.length, { timeout: 2000 }).toBeGreaterThanOrEqual(1);
      expect(outcomes[0]).toEqual({ deleted: 4, batches: 1, lockBusy: false });
    } finally {
      await purger.stop();
    }
  });
});
