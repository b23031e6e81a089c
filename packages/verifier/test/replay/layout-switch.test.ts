import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import {
  PARTITIONED_FUNCTION_SIGNATURES,
  REMEMBER_FUNCTION_SIGNATURE,
  REMEMBER_PARTITIONED_SQL,
  REMEMBER_SQL,
  REPLAY_TABLE_NAME,
  SHAPE_SQL,
} from '../../src/replay/sql.js';
import type { ReplayDb } from '../../src/replay/store.js';
import { countingDb } from '../support/counting-db.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 120;

/** Drops the replay table and lets `migrate` make it again, in `layout`, while a store keeps its own. */
async function remake(database: ReturnType<typeof useReplayDatabase>, layout: 'single' | 'partitioned') {
  const admin = database.pool({ max: 1 });
  await admin.query(`DROP TABLE ${REPLAY_TABLE_NAME} CASCADE`);
  await migrate(admin, { layout });
}

/**
 * `pool` as the store's handle, whose layout reads (SHAPE_SQL) take 300 ms once `slow` is set: longer
 * than a 100 ms caller bound, as a catalog waiting behind a busy server would.
 */
function slowLayoutReads(pool: pg.Pool) {
  const state = { slow: false };
  const db: ReplayDb = {
    async query(text, values) {
      if (state.slow && text === SHAPE_SQL) await new Promise((resolve) => setTimeout(resolve, 300));
      return pool.query(text, values as unknown[]);
    },
  };
  return { db, state };
}

describe('a batch that meets a table switched to the other layout', () => {
  const database = useReplayDatabase();

  /** A store warmed on the single table, which is then remade partitioned; its layout reads now slow. */
  async function storeMeetingSwitch() {
    await remake(database, 'single');
    const pool = database.pool({ max: 2 });
    const { db, state } = slowLayoutReads(pool);
    const store = pgReplayStore({ db, timeoutMs: 5000 });
    expect(await store.remember({ iss: ISS, jti: 'warm', exp: EXP })).toBe(true);
    await remake(database, 'partitioned');
    state.slow = true;
    return { pool, store };
  }

  it('is answered on the new layout, exactly, without a 503 (text statements)', async () => {
    const db = countingDb(database.pool({ max: 2 }));
    const store = pgReplayStore({ db, timeoutMs: 5000 });
    expect(await store.remember({ iss: ISS, jti: 'before', exp: EXP })).toBe(true);
    await remake(database, 'partitioned');
    db.reset();

    expect(await store.remember({ iss: ISS, jti: 'after', exp: EXP })).toBe(true);
    // The single-table INSERT failed at plan time (no arbiter on the new table); the store looked again
    // and sent the same batch once on the partitioned statement.
    expect(db.calls.map((call) => call.text)).toEqual([REMEMBER_SQL, SHAPE_SQL, REMEMBER_PARTITIONED_SQL]);
    expect(await store.layout()).toBe('partitioned');
    expect(await store.remember({ iss: ISS, jti: 'after', exp: EXP })).toBe(false);
  });

  it('is answered on the new layout by every pooled connection that prepared the old statement', async () => {
    await remake(database, 'single');
    const pool = database.pool({ max: 4 });
    // One row per statement, four statements at a time: the old statement is prepared on four connections.
    const store = pgReplayStore({ db: pool, maxBatch: 1, pipelineDepth: 4, timeoutMs: 5000 });
    const warm = await Promise.all(
      Array.from({ length: 16 }, (_, i) => store.remember({ iss: ISS, jti: `warm-${i}`, exp: EXP })),
    );
    expect(warm.every(Boolean)).toBe(true);
    expect(pool.totalCount).toBe(4);
    await remake(database, 'partitioned');

    const fresh = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => store.remember({ iss: ISS, jti: `fresh-${i}`, exp: EXP })),
    );
    expect(fresh.map((answer) => (answer.status === 'fulfilled' ? answer.value : answer.reason))).toEqual(
      Array.from({ length: 16 }, () => true),
    );
    const again = await Promise.all(
      Array.from({ length: 16 }, (_, i) => store.remember({ iss: ISS, jti: `fresh-${i}`, exp: EXP })),
    );
    expect(again.some(Boolean)).toBe(false);
  });

  it('is not resent when its caller had its 503 while the layout was read again: the jti stays unspent', async () => {
    const { pool, store } = await storeMeetingSwitch();
    await expect(
      store.remember({ iss: ISS, jti: 'timed-out', exp: EXP }, { timeoutMs: 100 }),
    ).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_TIMEOUT' });
    await expect.poll(() => store.layout()).toBe('partitioned');
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti = 'timed-out'`,
    );
    expect(rows).toEqual([{ n: 0 }]);
    // Its client's retry with the same token is a first use, not a replay.
    expect(await store.remember({ iss: ISS, jti: 'timed-out', exp: EXP })).toBe(true);
  });

  it('is resent only for the callers still waiting: one that had its 503 meanwhile keeps its jti unspent', async () => {
    const { pool, store } = await storeMeetingSwitch();
    // Called in the same tick: one batch, one caller with a bound shorter than the layout check.
    const [short, long] = await Promise.allSettled([
      store.remember({ iss: ISS, jti: 'mixed-short', exp: EXP }, { timeoutMs: 100 }),
      store.remember({ iss: ISS, jti: 'mixed-long', exp: EXP }),
    ]);
    expect(short).toMatchObject({ status: 'rejected', reason: { code: 'ERR_S2S_REPLAY_TIMEOUT' } });
    expect(long).toEqual({ status: 'fulfilled', value: true });
    const { rows } = await pool.query(
      `SELECT jti FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'mixed-%' ORDER BY jti`,
    );
    expect(rows).toEqual([{ jti: 'mixed-long' }]);
    expect(await store.remember({ iss: ISS, jti: 'mixed-short', exp: EXP })).toBe(true);
  });

  it('answers a key presented twice, whose first caller had its 503, to the one still waiting', async () => {
    const { pool, store } = await storeMeetingSwitch();
    // One batch: the same key first from a caller whose bound runs out during the layout read, then again.
    const [first, second] = await Promise.allSettled([
      store.remember({ iss: ISS, jti: 'twice', exp: EXP }, { timeoutMs: 100 }),
      store.remember({ iss: ISS, jti: 'twice', exp: EXP }),
    ]);
    expect(first).toMatchObject({ status: 'rejected', reason: { code: 'ERR_S2S_REPLAY_TIMEOUT' } });
    expect(second).toEqual({ status: 'fulfilled', value: true });
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti = 'twice'`,
    );
    expect(rows).toEqual([{ n: 1 }]);
    expect(await store.remember({ iss: ISS, jti: 'twice', exp: EXP })).toBe(false);
  });

  it("keeps remember and health answering while a purge run's check finds a purge function missing", async () => {
    await remake(database, 'partitioned');
    const pool = database.pool({ max: 3 });
    const { db, state } = slowLayoutReads(pool);
    const store = pgReplayStore({ db, timeoutMs: 5000 });
    expect(await store.remember({ iss: ISS, jti: 'before-purge', exp: EXP })).toBe(true);
    await pool.query(`DROP FUNCTION ${PARTITIONED_FUNCTION_SIGNATURES[1]}`);
    state.slow = true;
    const purging = store.runPurge().then(
      () => 'purged',
      (error: { code?: string }) => error.code,
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // the run's check is under way
    expect(await store.remember({ iss: ISS, jti: 'during-purge', exp: EXP })).toBe(true);
    expect(await store.health()).toBe(true);
    expect(await purging).toBe('ERR_S2S_REPLAY_SCHEMA');
    state.slow = false;
    await migrate(pool);
  });

  it('answers a remember function dropped after detection with the schema error, not a bare 42883', async () => {
    await remake(database, 'partitioned');
    const pool = database.pool({ max: 1 });
    const store = pgReplayStore({ db: pool, timeoutMs: 5000 });
    expect(await store.remember({ iss: ISS, jti: 'detected', exp: EXP })).toBe(true);
    await pool.query(`DROP FUNCTION ${REMEMBER_FUNCTION_SIGNATURE}`);
    // The first call after the drop already names the fix (cause schema_missing upstream).
    await expect(store.remember({ iss: ISS, jti: 'dropped', exp: EXP })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringContaining('are missing (run migrate'),
    });
    await migrate(pool);
    expect(await store.remember({ iss: ISS, jti: 'dropped', exp: EXP })).toBe(true);
  });

  it('is not sent twice when the table is still the layout it was sent for (the misfit is reported)', async () => {
    await remake(database, 'single');
    const admin = database.pool({ max: 1 });
    // A statement that keeps not fitting the same layout: the error reaches the caller (503), once.
    await admin.query(`CREATE FUNCTION misfit_trigger_fn() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'misfit' USING ERRCODE = '42P10'; END $$`);
    await admin.query(
      `CREATE TRIGGER misfit BEFORE INSERT ON ${REPLAY_TABLE_NAME} FOR EACH ROW EXECUTE FUNCTION misfit_trigger_fn()`,
    );
    try {
      const db = countingDb(database.pool({ max: 1 }));
      const store = pgReplayStore({ db, timeoutMs: 5000 });
      await expect(store.remember({ iss: ISS, jti: 'misfit', exp: EXP })).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_FAILED',
        cause: { code: '42P10' },
      });
      expect(db.calls.map((call) => call.text)).toEqual([SHAPE_SQL, REMEMBER_SQL, SHAPE_SQL]);
    } finally {
      await admin.query(`DROP TRIGGER misfit ON ${REPLAY_TABLE_NAME}`);
      await admin.query('DROP FUNCTION misfit_trigger_fn()');
    }
  });
});
