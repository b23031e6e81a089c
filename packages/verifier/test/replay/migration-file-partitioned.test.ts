import { readFile } from 'node:fs/promises';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { convertToPartitioned } from '../../src/replay/convert.js';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import {
  PARTITION_LEAD_SECONDS,
  PARTITION_PREFIX,
  PARTITION_SECONDS,
  REPLAY_MIGRATION_FILE,
  REPLAY_PARTITIONED_MIGRATION_FILE,
  REPLAY_PARTITIONED_MIGRATION_SQL,
  REPLAY_TABLE_NAME,
} from '../../src/replay/sql.js';
import { countingDb } from '../support/counting-db.js';
import { useFreshDatabases } from '../support/database.js';
import {
  expsInDistinctPartitions,
  partitionNames,
  partitionStarts,
  partitionWindow,
  windowsSince,
} from '../support/partition-window.js';

/**
 * The partitioned layout as Core applies it: the .sql file run as it is, the way psql or a Rust
 * migration runner does (one simple-protocol query of the whole file), then the store's behaviour on it.
 */
const databases = useFreshDatabases();
const poolOn = databases.poolOn;
const freshPool = (max = 4) => databases.fresh(max);

const migrationFile = (name: string) =>
  readFile(new URL(`../../migrations/${name}`, import.meta.url), 'utf8');

/** Runs a whole .sql file as psql -f or a migration runner would: one query, no parameters. */
async function runFile(pool: pg.Pool, name: string): Promise<void> {
  await pool.query(await migrationFile(name));
}

/** Everything a store or Core depends on: columns, constraints, indexes, partitions, function bodies. */
async function catalog(pool: pg.Pool): Promise<unknown> {
  const { rows } = await pool.query(
    `SELECT
       (SELECT json_agg(json_build_object('c', column_name, 't', data_type, 'n', is_nullable,
                'coll', collation_name, 'g', generation_expression, 'd', column_default) ORDER BY ordinal_position)
          FROM information_schema.columns WHERE table_schema = 'session' AND table_name = 's2s_jwt_replay') AS columns,
       (SELECT json_agg(pg_get_constraintdef(oid) ORDER BY conname) FROM pg_constraint
          WHERE conrelid = to_regclass($1)) AS constraints,
       (SELECT pg_get_partkeydef(to_regclass($1))) AS partkey,
       (SELECT json_agg(c.relname ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = to_regclass($1)) AS partitions,
       (SELECT json_agg(pg_get_functiondef(p.oid) ORDER BY p.proname) FROM pg_proc p
          WHERE p.pronamespace = 'session'::regnamespace) AS functions`,
    [REPLAY_TABLE_NAME],
  );
  return rows[0];
}

describe(`migrations/${REPLAY_PARTITIONED_MIGRATION_FILE}`, () => {
  it('is REPLAY_PARTITIONED_MIGRATION_SQL character for character, and is the statement migrate() sends for the partitioned layout', async () => {
    expect(await migrationFile(REPLAY_PARTITIONED_MIGRATION_FILE)).toBe(REPLAY_PARTITIONED_MIGRATION_SQL);
    const db = countingDb(await freshPool());
    await migrate(db, { layout: 'partitioned' });
    expect(db.calls.map((call) => call.text)).toContain(REPLAY_PARTITIONED_MIGRATION_SQL);
  });

  it('applied as a file gives the same catalog as migrate(db, { layout: "partitioned" })', async () => {
    const byFile = await freshPool();
    await runFile(byFile, REPLAY_PARTITIONED_MIGRATION_FILE);
    const byMigrate = await freshPool();
    await migrate(byMigrate, { layout: 'partitioned' });
    // Both ran within one partition window, or a boundary passed between them and one partition
    // differs at each end: compare the partitions both have.
    const a = (await catalog(byFile)) as { partitions: string[] };
    const b = (await catalog(byMigrate)) as { partitions: string[] };
    const common = a.partitions.filter((name) => b.partitions.includes(name));
    expect(common.length).toBeGreaterThanOrEqual(partitionWindow(Math.floor(Date.now() / 1000)).length - 1);
    expect({ ...a, partitions: common }).toEqual({ ...b, partitions: common });
  });

  it('on a fresh database, applied as a file: the store detects the partitioned layout, accepts each key exactly once across 4 replicas and exps, and its purge maintains the partitions', async () => {
    const pool = await freshPool(8);
    await runFile(pool, REPLAY_PARTITIONED_MIGRATION_FILE);
    await runFile(pool, REPLAY_PARTITIONED_MIGRATION_FILE); // idempotent
    const stores = Array.from({ length: 4 }, () =>
      pgReplayStore({ db: poolOn(pool.url, 2), timeoutMs: 20_000 }),
    );
    expect(await Promise.all(stores.map((store) => store.layout()))).toEqual(Array(4).fill('partitioned'));
    const now = Math.floor(Date.now() / 1000);
    // Every key presented at once by 4 replicas, each under its own exp in another partition.
    const exps = await expsInDistinctPartitions(pool, stores.length);
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, k) =>
        Promise.all(
          stores.map((store, s) =>
            store.remember({ iss: 'https://lite.example', jti: `k-${k}`, exp: exps[s]! }),
          ),
        ),
      ),
    );
    expect(answers.map((perKey) => perKey.filter(Boolean).length)).toEqual(Array(100).fill(1));

    // A partition past retention (as left by purgers that stopped): the purge drops it, keeps every
    // partition within retention and keeps partitions ready 6 h ahead.
    const old = Math.floor((now - 86_400 - 3 * PARTITION_SECONDS) / PARTITION_SECONDS) * PARTITION_SECONDS;
    await pool.query(
      `CREATE TABLE session.${PARTITION_PREFIX}${old} PARTITION OF ${REPLAY_TABLE_NAME} FOR VALUES FROM (${old}) TO (${old + PARTITION_SECONDS})`,
    );
    await pool.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) SELECT 'i', 'old-' || g, ${old} + g FROM generate_series(1, 7) g`,
    );
    const outcome = await stores[0]!.runPurge();
    expect(outcome).toMatchObject({ deleted: 7, lockBusy: false });
    const names = await partitionNames(pool);
    expect(names).not.toContain(`${PARTITION_PREFIX}${old}`);
    const ahead = Math.floor((now + PARTITION_LEAD_SECONDS) / PARTITION_SECONDS) * PARTITION_SECONDS;
    expect(names).toContain(`${PARTITION_PREFIX}${ahead}`);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME}`);
    expect(rows[0].n).toBe(100); // every accepted key survived the purge
    await Promise.all(stores.map((store) => store.layout())); // stores still answer after the purge
  }, 60_000);

  it('after 0001 in the same migration set: replaces the empty single table (fresh install)', async () => {
    const pool = await freshPool();
    await runFile(pool, REPLAY_MIGRATION_FILE);
    const store = pgReplayStore({ db: pool });
    expect(await store.layout()).toBe('single');
    const before = Math.floor(Date.now() / 1000);
    await runFile(pool, REPLAY_PARTITIONED_MIGRATION_FILE);
    expect(await pgReplayStore({ db: pool }).layout()).toBe('partitioned');
    expect(windowsSince(before)).toContainEqual(partitionStarts(await partitionNames(pool)));
  });

  it('refuses a single table holding rows and changes nothing; after an online conversion it only refreshes', async () => {
    const pool = await freshPool();
    await runFile(pool, REPLAY_MIGRATION_FILE);
    const store = pgReplayStore({ db: pool });
    const exp = Math.floor(Date.now() / 1000) + 120;
    expect(await store.remember({ iss: 'i', jti: 'kept', exp })).toBe(true);
    await expect(runFile(pool, REPLAY_PARTITIONED_MIGRATION_FILE)).rejects.toMatchObject({
      code: '55000', // object_not_in_prerequisite_state, REPLAY.md "What Core calls"
      message: expect.stringMatching(/convert it online first/),
    });
    expect(await store.remember({ iss: 'i', jti: 'kept', exp })).toBe(false);
    expect(await pgReplayStore({ db: pool }).layout()).toBe('single');

    expect(await convertToPartitioned(pool)).toMatchObject({ missing: 0 });
    await runFile(pool, REPLAY_PARTITIONED_MIGRATION_FILE);
    const after = pgReplayStore({ db: pool });
    expect(await after.layout()).toBe('partitioned');
    expect(await after.remember({ iss: 'i', jti: 'kept', exp: exp - PARTITION_SECONDS })).toBe(false);
  });
});
