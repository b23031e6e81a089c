import { describe, expect, it } from 'vitest';
import { pgReplayStore } from '../../src/replay/pg.js';
import { PARTITION_SECONDS, PURGE_LOCK_KEY, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const NOW_S = Math.floor(Date.now() / 1000);
const STORES = 6;
const KEYS = 150;

describe('partitioned layout: (iss, jti) unique over the whole retention, across partitions', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it(`one jti presented at once by ${STORES} replicas under ${STORES} exps hours apart: exactly one is first`, async () => {
    const stores = Array.from({ length: STORES }, () =>
      pgReplayStore({ db: database.pool({ max: 2 }), timeoutMs: 20_000 }),
    );
    // Each store gives the key its own exp, in another hourly partition: the per-partition primary key
    // cannot see the others, only the per-key lock and the probe of every partition can.
    const answers = await Promise.all(
      Array.from({ length: KEYS }, (_, k) =>
        Promise.all(
          stores.map((store, s) =>
            store.remember({ iss: ISS, jti: `k-${k}`, exp: NOW_S + 60 + s * PARTITION_SECONDS }),
          ),
        ),
      ),
    );
    const firsts = answers.map((perKey) => perKey.filter(Boolean).length);
    expect(firsts.every((n) => n === 1)).toBe(true);
    const { rows } = await database
      .pool({ max: 1 })
      .query(`SELECT count(*)::int AS n, count(DISTINCT jti)::int AS jtis FROM ${REPLAY_TABLE_NAME}`);
    expect(rows[0]).toEqual({ n: KEYS, jtis: KEYS });
  }, 60_000);

  it('the purge skips while another replica holds the purge lock, then creates partitions ahead', async () => {
    const holder = await database.client();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [PURGE_LOCK_KEY]);
    const store = pgReplayStore({ db: database.pool() });
    try {
      expect(await store.runPurge()).toEqual({ deleted: 0, batches: 0, lockBusy: true });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [PURGE_LOCK_KEY]);
    }
    expect(await store.runPurge()).toEqual({ deleted: 0, batches: 0, lockBusy: false });
  });
});
