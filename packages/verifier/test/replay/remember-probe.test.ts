import { describe, expect, it } from 'vitest';
import { REMEMBER_FUNCTION, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const NOW_S = Math.floor(Date.now() / 1000);
const EXP = NOW_S + 300;
/** Rows the current partition gains after the remember function's plan was cached. */
const GROWN = 20_000;
/** Keys of the batch measured: a full coalesced statement's worth. */
const BATCH = 64;

interface Reads {
  seqTupRead: number;
  idxTupRead: number;
  idxScan: number;
}

/**
 * Row reads on the replay table's partitions as the statistics system has them. The caller's own
 * backend must have flushed its counters first (pg_stat_force_next_flush, PostgreSQL ≥ 15).
 */
async function partitionReads(db: {
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
}): Promise<Reads> {
  const { rows } = await db.query(
    `SELECT coalesce(sum(t.seq_tup_read), 0)::float8 AS seq_tup_read,
            coalesce(sum(i.idx_tup_read), 0)::float8 AS idx_tup_read,
            coalesce(sum(i.idx_scan), 0)::float8 AS idx_scan
     FROM pg_inherits h
     JOIN pg_stat_user_tables t ON t.relid = h.inhrelid
     LEFT JOIN pg_stat_user_indexes i ON i.relid = h.inhrelid
     WHERE h.inhparent = '${REPLAY_TABLE_NAME}'::regclass`,
  );
  const row = rows[0]!;
  return {
    seqTupRead: Number(row.seq_tup_read),
    idxTupRead: Number(row.idx_tup_read),
    idxScan: Number(row.idx_scan),
  };
}

describe('partitioned remember: every key is looked up by index, whatever statistics its cached plan was made from', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it(`a partition analysed while tiny then grown by ${GROWN} rows: a batch of ${BATCH} new keys reads no partition in full`, async () => {
    // One connection: plpgsql caches the function's plan per connection, and this is the one measured.
    const client = await database.client();
    const reader = database.pool({ max: 1 });
    const remember = (jtis: string[]) =>
      client.query(`SELECT r_iss, r_jti FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`, [
        jtis.map(() => ISS),
        jtis,
        jtis.map(() => EXP),
      ]);
    // A young partition, analysed while it held a handful of rows (as autovacuum does early on): by
    // those statistics a sequential scan of it, or a hash of every partition, costs less than an index.
    await remember(['young-1', 'young-2', 'young-3']);
    await client.query(`ANALYZE ${REPLAY_TABLE_NAME}`);
    // Past the calls after which plpgsql keeps one generic plan for the connection.
    for (let i = 0; i < 8; i++) await remember([`warm-${i}`]);
    // It grows before the next analyse: the plan cached above stays.
    await client.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) SELECT $1, 'grown-' || g, $2::bigint FROM generate_series(1, $3::int) g`,
      [ISS, EXP, GROWN],
    );
    await client.query('SELECT pg_stat_force_next_flush()');
    const before = await partitionReads(reader);

    const batch = Array.from({ length: BATCH }, (_, k) => `new-${k}`);
    const { rows } = await remember(batch);
    await client.query('SELECT pg_stat_force_next_flush()');
    const after = await partitionReads(reader);

    expect(rows).toHaveLength(BATCH);
    // Each key probed through the partitions' primary-key indexes (so the counters did move)...
    expect(after.idxScan - before.idxScan).toBeGreaterThanOrEqual(BATCH);
    // ...and nothing read beyond those keys: no partition scanned, nor walked whole through its index.
    expect(after.seqTupRead - before.seqTupRead).toBe(0);
    expect(after.idxTupRead - before.idxTupRead).toBeLessThanOrEqual(BATCH);
  }, 60_000);
});
