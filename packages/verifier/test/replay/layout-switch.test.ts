import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import {
  REMEMBER_PARTITIONED_SQL,
  REMEMBER_SQL,
  REPLAY_TABLE_NAME,
  SHAPE_SQL,
} from '../../src/replay/sql.js';
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

describe('a batch that meets a table switched to the other layout', () => {
  const database = useReplayDatabase();

  it('is answered on the new layout, exactly, without a 503 (text statements)', async () => {
    const db = countingDb(database.pool({ max: 2 }));
    const store = pgReplayStore({ db });
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
    const store = pgReplayStore({ db: database.pool({ max: 4 }) });
    const warm = await Promise.all(
      Array.from({ length: 16 }, (_, i) => store.remember({ iss: ISS, jti: `warm-${i}`, exp: EXP })),
    );
    expect(warm.every(Boolean)).toBe(true);
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

  it('is not sent twice when the table is still the layout it was sent for (the misfit is reported)', async () => {
    await remake(database, 'single');
    const admin = database.pool({ max: 1 });
    // A statement that keeps not fitting the same layout: the error reaches the caller (503), once.
    await admin.query(`CREATE FUNCTION pg_temp_misfit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'misfit' USING ERRCODE = '42P10'; END $$`);
    await admin.query(
      `CREATE TRIGGER misfit BEFORE INSERT ON ${REPLAY_TABLE_NAME} FOR EACH ROW EXECUTE FUNCTION pg_temp_misfit()`,
    );
    try {
      const db = countingDb(database.pool({ max: 1 }));
      const store = pgReplayStore({ db });
      await expect(store.remember({ iss: ISS, jti: 'misfit', exp: EXP })).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_FAILED',
        cause: { code: '42P10' },
      });
      expect(db.calls.map((call) => call.text)).toEqual([SHAPE_SQL, REMEMBER_SQL, SHAPE_SQL]);
    } finally {
      await admin.query(`DROP TRIGGER misfit ON ${REPLAY_TABLE_NAME}`);
      await admin.query('DROP FUNCTION pg_temp_misfit()');
    }
  });
});
