import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { describe, expect, it } from 'vitest';
import { pgReplayStore } from '../../src/replay/pg.js';
import {
  MAINTAIN_SQL,
  PARTITION_LEAD_SECONDS,
  PARTITION_PREFIX,
  PARTITION_SECONDS,
  PURGE_LOCK_KEY,
  REMEMBER_FUNCTION,
  REPLAY_TABLE_NAME,
} from '../../src/replay/sql.js';
import { expsInDistinctPartitions, partitionNames } from '../support/partition-window.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const NOW_S = Math.floor(Date.now() / 1000);
// The newest 5 of the 6 partitions in the window: none of them can pass retention during the file.
const STORES = 5;
const KEYS = 150;

/**
 * Attaches the partition `back` widths before the oldest one retained (wholly past retention, so the purge
 * retires it), with `rows` rows in it; returns its name.
 */
async function attachExpiredPartition(
  db: { query(text: string, values?: unknown[]): Promise<unknown> },
  back: number,
  rows = 0,
): Promise<string> {
  const old =
    Math.floor((NOW_S - REPLAY_RETENTION_SECONDS - back * PARTITION_SECONDS) / PARTITION_SECONDS) *
    PARTITION_SECONDS;
  const name = `${PARTITION_PREFIX}${old}`;
  await db.query(
    `CREATE TABLE session.${name} PARTITION OF ${REPLAY_TABLE_NAME} FOR VALUES FROM (${old}) TO (${old + PARTITION_SECONDS})`,
  );
  if (rows > 0) {
    await db.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) SELECT $1, 'old-' || g, ${old} + g FROM generate_series(1, $2::int) g`,
      [ISS, rows],
    );
  }
  return name;
}

describe('partitioned layout: (iss, jti) unique over the whole retention, across partitions', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it(`one jti presented at once by ${STORES} replicas under ${STORES} exps in ${STORES} partitions: exactly one is first`, async () => {
    const stores = Array.from({ length: STORES }, () =>
      pgReplayStore({ db: database.pool({ max: 2 }), timeoutMs: 20_000 }),
    );
    // Each store gives the key its own exp, in another partition: the per-partition primary key
    // cannot see the others, only the per-key lock and the probe of every partition can.
    const exps = await expsInDistinctPartitions(database.pool({ max: 1 }), STORES);
    const answers = await Promise.all(
      Array.from({ length: KEYS }, (_, k) =>
        Promise.all(stores.map((store, s) => store.remember({ iss: ISS, jti: `k-${k}`, exp: exps[s]! }))),
      ),
    );
    const firsts = answers.map((perKey) => perKey.filter(Boolean).length);
    expect(firsts.every((n) => n === 1)).toBe(true);
    const { rows } = await database
      .pool({ max: 1 })
      .query(`SELECT count(*)::int AS n, count(DISTINCT jti)::int AS jtis FROM ${REPLAY_TABLE_NAME}`);
    expect(rows[0]).toEqual({ n: KEYS, jtis: KEYS });
  }, 60_000);

  it('one jti presented twice in one call of the remember function (what Core calls), under exps in two partitions: first once, kept under the later exp', async () => {
    const db = database.pool({ max: 1 });
    const [early, late] = await expsInDistinctPartitions(db, 2);
    const remember = (jtis: string[], exps: number[]) =>
      db.query<{ r_iss: string; r_jti: string }>(
        `SELECT r_iss, r_jti FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`,
        [jtis.map(() => ISS), jtis, exps],
      );
    const first = await remember(['twice', 'twice', 'once'], [early!, late!, early!]);
    expect(first.rows.map((row) => row.r_jti).sort()).toEqual(['once', 'twice']);
    const { rows } = await db.query(
      `SELECT jti, exp FROM ${REPLAY_TABLE_NAME} WHERE jti IN ('once', 'twice') ORDER BY jti`,
    );
    expect(rows).toEqual([
      { jti: 'once', exp: String(early) },
      { jti: 'twice', exp: String(late) },
    ]);
    expect((await remember(['twice'], [early!])).rows).toEqual([]);
  });

  it('the purge skips while another replica holds the purge lock, then creates partitions ahead', async () => {
    const holder = await database.client();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [PURGE_LOCK_KEY]);
    const store = pgReplayStore({ db: database.pool() });
    try {
      expect(await store.runPurge()).toEqual({ deleted: 0, batches: 0, lockBusy: true });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [PURGE_LOCK_KEY]);
    }
    // Nothing to drop (should a partition boundary pass during the file, the oldest partition, empty, may go).
    expect(await store.runPurge()).toMatchObject({ deleted: 0, lockBusy: false });
  });
});

describe('partitioned layout: the purge never makes inserts wait', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it('while the purge waits behind a long transaction to retire an expired partition, remember() keeps answering; then the partition is gone and no retained row with it', async () => {
    const admin = database.pool({ max: 1 });
    const expired = await attachExpiredPartition(admin, 3, 5);
    const store = pgReplayStore({ db: database.pool({ max: 4 }), timeoutMs: 1000, purgeTimeoutMs: 20_000 });
    expect(await store.remember({ iss: ISS, jti: 'before', exp: NOW_S + 60 })).toBe(true);

    // A writer (another replica) whose transaction stays open: it holds locks on the table and an old snapshot.
    const writer = await database.client();
    await writer.query('BEGIN');
    await writer.query(`SELECT * FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`, [
      [ISS],
      ['open'],
      [NOW_S + 60],
    ]);
    const purge = store.runPurge();
    // Wait until the purge is waiting on the open transaction.
    await expect
      .poll(
        async () =>
          (await admin.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`)).rows[0].n,
        { timeout: 10_000, interval: 20 },
      )
      .toBeGreaterThan(0);
    // Inserts are not queued behind the purge: every one answers (a DROP of the attached partition
    // would hold them behind its ACCESS EXCLUSIVE lock request past the 1 s store timeout).
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.remember({ iss: ISS, jti: `during-${i}`, exp: NOW_S + 60 })),
    );
    expect(answers).toEqual(Array(20).fill(true));
    await writer.query('COMMIT');
    expect(await purge).toMatchObject({ deleted: 5, lockBusy: false });
    const { rows } = await admin.query(
      `SELECT (SELECT count(*)::int FROM ${REPLAY_TABLE_NAME}) AS n, to_regclass($1) IS NULL AS gone`,
      [`session.${expired}`],
    );
    expect(rows[0]).toEqual({ n: 22, gone: true });
    // Under an exp in the partition before: a replay whatever the exp.
    expect(await store.remember({ iss: ISS, jti: 'open', exp: NOW_S + 60 - PARTITION_SECONDS })).toBe(false);
  }, 60_000);

  it('creates the partitions ahead even when a long transaction keeps an expired partition from being dropped', async () => {
    const admin = database.pool({ max: 1 });
    const older = await attachExpiredPartition(admin, 6);
    const expired = await attachExpiredPartition(admin, 5);
    const newest = (await partitionNames(admin)).at(-1)!;
    await admin.query(`DROP TABLE session.${newest}`);
    // A reader whose transaction stays open (a report, pg_dump): the DROP of the attached expired
    // partition needs ACCESS EXCLUSIVE on the parent and gives up after lock_timeout.
    const reader = await database.client();
    await reader.query('BEGIN');
    await reader.query(`SELECT count(*) FROM ${REPLAY_TABLE_NAME}`);
    const exists = async (name: string) =>
      (await admin.query('SELECT to_regclass($1) IS NOT NULL AS there', [`session.${name}`])).rows[0].there;
    // Each lock wait queues every insert behind it: one per run, whatever the number of stuck partitions.
    const maintainer = await database.client();
    const warnings: string[] = [];
    maintainer.on('notice', (notice) => {
      if (notice.severity === 'WARNING') warnings.push(notice.message ?? '');
    });
    try {
      const { rows } = await maintainer.query(MAINTAIN_SQL, [PURGE_LOCK_KEY, PARTITION_LEAD_SECONDS]);
      expect(rows[0]).toMatchObject({ held: true, dropped: 0, created: 1 });
      expect(warnings).toEqual([
        expect.stringMatching(new RegExp(`^${older} kept: a lock on it was not granted`)),
      ]);
      expect(await exists(newest)).toBe(true);
      expect(await exists(older)).toBe(true); // kept for a later run, not a failed run
      expect(await exists(expired)).toBe(true); // not even tried after the first wait
    } finally {
      await reader.query('COMMIT');
    }
    const { rows } = await admin.query(MAINTAIN_SQL, [PURGE_LOCK_KEY, PARTITION_LEAD_SECONDS]);
    expect(rows[0]).toMatchObject({ held: true, dropped: 2, created: 0 });
    expect(await exists(older)).toBe(false);
    expect(await exists(expired)).toBe(false);
  }, 60_000);

  it('creates the partitions ahead without waiting for writers: the purge completes while a writer transaction stays open', async () => {
    const admin = database.pool({ max: 1 });
    const newest = (await partitionNames(admin)).at(-1)!;
    await admin.query(`DROP TABLE session.${newest}`);
    const writer = await database.client();
    await writer.query('BEGIN');
    await writer.query(`SELECT * FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`, [
      [ISS],
      ['ahead-open'],
      [NOW_S + 60],
    ]);
    const store = pgReplayStore({ db: database.pool({ max: 2 }), purgeTimeoutMs: 20_000 });
    try {
      // CREATE TABLE ... PARTITION OF would wait for the writer's lock (and fail on lock_timeout).
      expect(await store.runPurge()).toMatchObject({ lockBusy: false });
    } finally {
      await writer.query('COMMIT');
    }
    expect(
      (await admin.query('SELECT to_regclass($1) IS NOT NULL AS back', [`session.${newest}`])).rows[0],
    ).toEqual({
      back: true,
    });
  }, 60_000);
});

describe('partitioned layout: purgers under two roles', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it('a partition another role made is kept with a warning, and the partitions ahead are still made', async () => {
    const admin = database.pool({ max: 1 });
    const tag = `${process.pid}_${Date.now()}`;
    const [owner, roleA, roleB] = ['owner', 'a', 'b'].map((r) => `s2s_test_${r}_${tag}`);
    // Both purger roles act for the table's owner; each partition belongs to the role that made it.
    await admin.query(`CREATE ROLE ${owner} NOLOGIN`);
    await admin.query(`CREATE ROLE ${roleA} NOLOGIN IN ROLE ${owner}`);
    await admin.query(`CREATE ROLE ${roleB} NOLOGIN IN ROLE ${owner}`);
    try {
      await admin.query(`GRANT ALL ON SCHEMA session TO ${owner}`);
      await admin.query(`ALTER TABLE ${REPLAY_TABLE_NAME} OWNER TO ${owner}`);
      for (const name of await partitionNames(admin)) {
        await admin.query(`ALTER TABLE session.${name} OWNER TO ${owner}`);
      }
      const expired = await attachExpiredPartition(admin, 3);
      await admin.query(`ALTER TABLE session.${expired} OWNER TO ${roleA}`);
      const newest = (await partitionNames(admin)).at(-1)!;
      await admin.query(`DROP TABLE session.${newest}`);

      const purgerB = await database.client();
      const warnings: string[] = [];
      purgerB.on('notice', (notice) => {
        if (notice.severity === 'WARNING') warnings.push(notice.message ?? '');
      });
      await purgerB.query(`SET ROLE ${roleB}`);
      const { rows } = await purgerB.query(MAINTAIN_SQL, [PURGE_LOCK_KEY, PARTITION_LEAD_SECONDS]);
      await purgerB.query('RESET ROLE');
      expect(rows[0]).toMatchObject({ held: true, dropped: 0, created: 1 });
      expect(warnings).toEqual([
        `${expired} kept: role ${roleB} may not drop it (SQLSTATE 42501, it belongs to ${roleA}); run every purger as one role (REPLAY.md, "What Core calls")`,
      ]);
      const names = await partitionNames(admin);
      expect(names).toContain(newest);
      expect(names).toContain(expired);

      // Its owner's purger drops it.
      const purgerA = await database.client();
      await purgerA.query(`SET ROLE ${roleA}`);
      const after = await purgerA.query(MAINTAIN_SQL, [PURGE_LOCK_KEY, PARTITION_LEAD_SECONDS]);
      await purgerA.query('RESET ROLE');
      expect(after.rows[0]).toMatchObject({ held: true, dropped: 1, created: 0 });
      expect(await partitionNames(admin)).not.toContain(expired);
    } finally {
      // Roles are the server's, not this file's database's: nothing of theirs may outlive the test.
      await admin.query(`REASSIGN OWNED BY ${owner}, ${roleA}, ${roleB} TO CURRENT_USER`);
      await admin.query(`DROP OWNED BY ${owner}, ${roleA}, ${roleB}`);
      await admin.query(`DROP ROLE ${roleA}, ${roleB}, ${owner}`);
    }
  }, 60_000);
});

describe('partitioned layout: a detach past its bound is cancelled in the server', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it('a detach waiting behind an old snapshot is cancelled when the purge gives up on it, freeing its connection; a later run drops the partition', async () => {
    const admin = database.pool({ max: 1 });
    const expired = await attachExpiredPartition(admin, 3, 3);
    // A report reading through one snapshot: DETACH ... CONCURRENTLY waits for it to end, however long.
    const reader = await database.client();
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await reader.query(`SELECT count(*) FROM ${REPLAY_TABLE_NAME}`);
    const detaching = async () =>
      (
        await admin.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%DETACH PARTITION%' AND state = 'active' AND pid <> pg_backend_pid()`,
        )
      ).rows[0].n;
    try {
      const store = pgReplayStore({ db: database.pool({ max: 2 }), purgeTimeoutMs: 1000 });
      expect(await store.runPurge()).toMatchObject({ deleted: 0, lockBusy: false });
      await expect.poll(detaching, { timeout: 5000, interval: 20 }).toBe(0);
      expect((await partitionNames(admin)).includes(expired)).toBe(true);
    } finally {
      await reader.query('COMMIT');
    }
    const store = pgReplayStore({ db: database.pool({ max: 2 }) });
    expect(await store.runPurge()).toMatchObject({ deleted: 3, lockBusy: false });
    expect(
      (await admin.query('SELECT to_regclass($1) IS NULL AS gone', [`session.${expired}`])).rows[0],
    ).toEqual({ gone: true });
  }, 60_000);
});
