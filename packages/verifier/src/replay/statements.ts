import { REPLAY_TABLE_NAME } from './migration-sql.js';

/**
 * Records a coalesced batch of (already de-duplicated) presentations in one atomic statement and
 * returns the keys that were first seen. ON CONFLICT DO NOTHING is the whole replay decision: of
 * concurrent inserts of one key, across any number of connections and replicas, Postgres lets exactly
 * one through. $1 iss[], $2 jti[], $3 exp[] (whole seconds).
 */
export const REMEMBER_SQL = `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (iss, jti) DO NOTHING
RETURNING iss, jti`;

/**
 * One purge batch. The advisory lock is transaction-scoped and taken inside the same statement, so it
 * lives exactly as long as the batch, works through any pool connection and cannot leak if the client
 * dies. Without the lock nothing is deleted (the one-time filter stops the scan before it starts).
 * Rows are picked through the retain_until index and deleted by ctid (a TID scan), at most $3 per batch
 * so locks and WAL per statement stay small and inserts are never stalled.
 * The cutoff is the database clock (now()), never a replica's: a skewed replica cannot delete rows
 * still within retention. $1 lock key, $2 batch size.
 */
export const PURGE_BATCH_SQL = `WITH lock AS MATERIALIZED (
  SELECT pg_try_advisory_xact_lock($1::bigint) AS held
), purged AS (
  DELETE FROM ${REPLAY_TABLE_NAME}
  -- The cutoff again: should this ever run against the partitioned layout (a store that has not yet
  -- re-detected it), a ctid matching in another partition still cannot delete a retained row.
  WHERE retain_until < now() AND ctid = ANY (ARRAY(
    SELECT ctid FROM ${REPLAY_TABLE_NAME}
    WHERE retain_until < now() AND (SELECT held FROM lock)
    LIMIT $2::int
  ))
  RETURNING 1
)
SELECT (SELECT held FROM lock) AS held, (SELECT count(*) FROM purged)::int AS deleted`;

/** Readiness: the table exists, is readable and not locked against us, within the timeout. */
export const HEALTH_SQL = `SELECT 1 FROM ${REPLAY_TABLE_NAME} LIMIT 0`;
