import { REPLAY_RETENTION_SECONDS, REPLAY_TABLE } from '@hyper/s2s-contracts';
import { DEFAULT_REPLAY_TIMEOUT_MS } from './options.js';

const { schema, table } = REPLAY_TABLE;

/**
 * Postgres advisory lock keys (bigint) of the replay store. Spelled from ASCII so they are recognisable
 * in pg_locks and unlikely to collide with an application's own small integer keys.
 */
function asciiKey(text: string): string {
  let key = 0n;
  for (const byte of new TextEncoder().encode(text)) key = (key << 8n) | BigInt(byte);
  return key.toString();
}

/** Serializes concurrent `migrate` runs from replicas starting together. */
export const MIGRATE_LOCK_KEY = asciiKey('s2s:migr');

/** One replica purges at a time (transaction-scoped, taken per purge batch). */
export const PURGE_LOCK_KEY = asciiKey('s2s:purg');

/** Name of the shipped migration file (packages/verifier/migrations/), for migration runners. */
export const REPLAY_MIGRATION_FILE = '0001_s2s_jwt_replay.sql';

/** Schema-qualified replay table, `session.s2s_jwt_replay`. */
export const REPLAY_TABLE_NAME = `${schema}.${table}`;

/**
 * The DDL of migrations/0001_s2s_jwt_replay.sql, character for character (a test holds them equal).
 * Core runs the file with its own migration runner; everyone else calls `migrate(db)`.
 */
export const REPLAY_MIGRATION_SQL = `-- @hyper/s2s-verifier replay store, migration 0001 (contract: "Replay protection").
-- One row per first presentation of (iss, jti), kept until the token's exp + 24 h, then purged.
-- Idempotent: every statement makes only what is missing, so running it again is harmless.
CREATE SCHEMA IF NOT EXISTS ${schema};

CREATE TABLE IF NOT EXISTS ${REPLAY_TABLE_NAME} (
  -- "C" collation: byte-exact identity and the cheapest comparisons in the primary key.
  iss text COLLATE "C" NOT NULL,
  jti text COLLATE "C" NOT NULL,
  -- The token's exp claim, whole seconds since the epoch.
  exp bigint NOT NULL,
  -- Derived, so no writer can get retention wrong: exp + ${REPLAY_RETENTION_SECONDS} s (24 h).
  retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + ${REPLAY_RETENTION_SECONDS})) STORED,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (iss, jti)
);

-- The purge walks this index in bounded batches. Made only where missing: CREATE INDEX IF NOT EXISTS
-- takes a SHARE lock on the live table before it looks, queueing every insert behind an open writer.
DO $index$
BEGIN
  IF to_regclass('${schema}.${table}_retain_until_idx') IS NULL
     AND (SELECT relkind FROM pg_class WHERE oid = to_regclass('${REPLAY_TABLE_NAME}')) = 'r' THEN
    CREATE INDEX ${table}_retain_until_idx ON ${REPLAY_TABLE_NAME} (retain_until);
  END IF;
END
$index$;
`;

/**
 * Records a coalesced batch of (already de-duplicated) presentations in one atomic statement and
 * returns the keys that were first seen. ON CONFLICT DO NOTHING is the whole replay decision: of
 * concurrent inserts of one key, across any number of connections and replicas, Postgres lets exactly
 * one through. Rows go in primary-key order: two batches sharing keys in opposite orders would each
 * wait on the other's uncommitted row, a deadlock Postgres breaks by failing one (a 503 for its
 * callers). $1 iss[], $2 jti[], $3 exp[] (whole seconds).
 */
export const REMEMBER_SQL = `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
SELECT u.iss, u.jti, u.exp FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(iss, jti, exp)
ORDER BY u.iss COLLATE "C", u.jti COLLATE "C"
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

/**
 * Width of one partition of the partitioned layout, in seconds of `exp` (6 hours). Postgres has no
 * global unique index, so every new key is looked up in every retained partition: the width sets that
 * count (24 h / width + 1 filled ones). Hourly partitions cost ~25 index lookups per key and ran at
 * 0.34-0.42x of the single table; 6-hour ones cost ~5 and ran at 0.64-0.85x in alternating runs
 * (REPLAY.md, "Partition width"). The price: a row outlives its retention by up to 6 h, and one purge
 * drops 6 h of rows.
 */
export const PARTITION_SECONDS = 6 * 3600;

/**
 * How far past the current time the purger keeps partitions ready. Tokens live at most MAX_TTL (300 s)
 * plus skew, so 6 h of lead survives close to 6 h of purgers not running before any insert could
 * find no partition (it would then fail closed: 503).
 */
export const PARTITION_LEAD_SECONDS = 6 * 3600;

/** Table name a conversion builds before it swaps it in, and the name the single table retires to. */
export const REPLAY_NEXT_TABLE_NAME = `${schema}.${table}_next`;
export const REPLAY_RETIRED_TABLE = `${table}_retired`;

/** SQLSTATE object_in_use: what 0002 raises while a conversion's `_next` table exists. */
export const CONVERSION_UNFINISHED_SQLSTATE = '55006';

/** Functions of the partitioned layout (schema-qualified). */
export const REMEMBER_FUNCTION = `${schema}.${table}_remember`;
export const MAINTAIN_FUNCTION = `${schema}.${table}_maintain`;
export const ENSURE_PARTITIONS_FUNCTION = `${schema}.${table}_ensure_partitions`;
const ENSURE_PARTITIONS_SIGNATURE = `${ENSURE_PARTITIONS_FUNCTION}(text,bigint)`;
export const EXPIRED_PARTITIONS_FUNCTION = `${schema}.${table}_expired_partitions`;

/** Prefix of partition names: `<table>_e<first exp of the partition, epoch seconds>`. */
export const PARTITION_PREFIX = `${table}_e`;

/**
 * Advisory-lock class (first of the two int4 keys) serialising writers of one (iss, jti) in the
 * partitioned layout; the two-key form never collides with the bigint keys below (MIGRATE_LOCK_KEY, PURGE_LOCK_KEY).
 */
const KEY_LOCK_CLASS = 0x7332_6b79; // 's2ky'

/**
 * lock_timeout of the migrations' and the purge's DDL on the live table: a lock they wait for queues every
 * insert behind them, so they give up (and a later run retries) rather than wait on a long transaction.
 */
const DDL_LOCK_TIMEOUT_MS = DEFAULT_REPLAY_TIMEOUT_MS / 2;

/**
 * True when the transaction reads through one snapshot (REPEATABLE READ, SERIALIZABLE): a check made after
 * a lock wait would not see what the holder committed. (READ UNCOMMITTED is READ COMMITTED in Postgres.)
 */
const NOT_READ_COMMITTED = `current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted')`;

/** The parent table of the partitioned layout, created under `name` (the live name, or `_next`). */
export function partitionedTableSql(name: string): string {
  const constraint = `${name.split('.')[1]}_pk`;
  return `CREATE TABLE IF NOT EXISTS ${name} (
  iss text COLLATE "C" NOT NULL,
  jti text COLLATE "C" NOT NULL,
  exp bigint NOT NULL,
  retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + ${REPLAY_RETENTION_SECONDS})) STORED,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  -- Unique per partition and the index every (iss, jti) probe uses; uniqueness of (iss, jti) over the
  -- whole retention is enforced by ${REMEMBER_FUNCTION} (per-key lock + probe of every partition).
  CONSTRAINT ${constraint} PRIMARY KEY (iss, jti, exp)
) PARTITION BY RANGE (exp);`;
}

/**
 * Functions of the partitioned layout. All run as one statement each, so they work through a pool,
 * a single client or PGlite.
 *
 * remember: for each distinct key, in sorted order (no deadlock between batches), take a transaction
 * advisory lock on (class, hash(iss), hash(jti)); then, in a NEW statement (a volatile plpgsql function
 * takes a fresh snapshot per statement, so it sees every writer that held the lock before it), insert
 * the keys that no partition holds, once per (iss, jti) of the call. Two presentations of one (iss, jti)
 * — same or different exp, one call or two, any replica — are serialised on the lock and the second sees
 * the first, or are one row of the call: exactly one is first use. That
 * fresh snapshot exists at READ COMMITTED only (SERIALIZABLE fails the second instead): under
 * REPEATABLE READ the function refuses to run.
 *
 * ensure_partitions: creates the PARTITION_SECONDS-wide partitions of `parent` covering exp from the first one still
 * within retention (exp >= now() - 24 h) to `lead` seconds ahead (missing ones only). Each is created
 * standalone and then ATTACHed: ATTACH takes SHARE UPDATE EXCLUSIVE on the parent, which inserts do not
 * wait for, where CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE.
 *
 * expired_partitions: the partitions whose every row is past retention (exp + 24 h < now(), database
 * clock), for the client to `DETACH PARTITION ... CONCURRENTLY` one statement at a time (Postgres
 * refuses that inside a function or transaction block). A concurrent detach never blocks inserts.
 *
 * maintain: under the purge advisory lock, creates the partitions ahead, then drops the expired tables —
 * already detached ones (that DROP locks nothing else), pending detaches after FINALIZE, and partitions
 * still attached (a caller that skipped the detach step: that DROP takes a brief ACCESS EXCLUSIVE on the
 * parent, bounded by a short lock_timeout, under the verifier's default replay timeout). A table whose
 * lock is not granted is kept for a later run (a WARNING in the server log), never failing the run: the
 * partitions ahead must not depend on a long transaction ending. After one such wait the run tries no
 * other attached partition, so inserts queue behind at most one wait per run.
 */
export const PARTITIONED_FUNCTIONS_SQL = `CREATE OR REPLACE FUNCTION ${REMEMBER_FUNCTION}(p_iss text[], p_jti text[], p_exp bigint[])
RETURNS TABLE (r_iss text, r_jti text) LANGUAGE plpgsql VOLATILE
-- plpgsql keeps one plan per connection, made from the statistics of that moment. Planned while the
-- partitions were empty or tiny, the probe read them whole (a hash of every partition, or a scan per key)
-- and went on doing so as they grew: 13 ms per 64-key statement at 60 000 rows. Whatever the statistics,
-- each key is an index lookup per partition: no sequential scan, and (OFFSET 0 below) no join.
SET enable_seqscan = off
AS $fn$
BEGIN
  -- Above READ COMMITTED the snapshot predates the lock wait: the probe below would miss a first use
  -- committed meanwhile under another exp and accept the jti twice (SERIALIZABLE detects that only
  -- when the other writer is SERIALIZABLE too). Refused (503), never guessed.
  IF ${NOT_READ_COMMITTED} THEN
    RAISE EXCEPTION '${REMEMBER_FUNCTION} needs READ COMMITTED, not %: under a transaction snapshot its per-key lock cannot show it a concurrent first use (REPLAY.md, "Transaction isolation")',
      upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  PERFORM pg_advisory_xact_lock(${KEY_LOCK_CLASS}, k.h)
  FROM (SELECT DISTINCT hashtext(u.i || ' ' || u.j) AS h
        FROM unnest(p_iss, p_jti) AS u(i, j) ORDER BY 1) AS k;
  -- One row per (iss, jti) of the call: the primary key holds exp, so two presentations of a key under
  -- two exps in one call would both insert. The latest exp is kept: the record lasts longest.
  RETURN QUERY
  INSERT INTO ${REPLAY_TABLE_NAME} AS r (iss, jti, exp)
  SELECT DISTINCT ON (u.i, u.j) u.i, u.j, u.e FROM unnest(p_iss, p_jti, p_exp) AS u(i, j, e)
  -- OFFSET 0: the planner may not turn the probe into a join, which could hash whole partitions.
  WHERE NOT EXISTS (SELECT 1 FROM ${REPLAY_TABLE_NAME} AS h WHERE h.iss = u.i AND h.jti = u.j OFFSET 0)
  ORDER BY u.i, u.j, u.e DESC
  ON CONFLICT DO NOTHING
  RETURNING r.iss, r.jti;
END
$fn$;

CREATE OR REPLACE FUNCTION ${ENSURE_PARTITIONS_FUNCTION}(p_parent text, p_lead bigint)
RETURNS int LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  first_lo bigint := (floor(extract(epoch FROM now()))::bigint - ${REPLAY_RETENTION_SECONDS}) / ${PARTITION_SECONDS} * ${PARTITION_SECONDS};
  last_lo bigint := (floor(extract(epoch FROM now()))::bigint + p_lead) / ${PARTITION_SECONDS} * ${PARTITION_SECONDS};
  lo bigint;
  created int := 0;
BEGIN
  lo := first_lo;
  WHILE lo <= last_lo LOOP
    IF to_regclass(format('${schema}.%I', '${PARTITION_PREFIX}' || lo)) IS NULL THEN
      EXECUTE format('CREATE TABLE ${schema}.%I (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED)',
                     '${PARTITION_PREFIX}' || lo, p_parent);
      EXECUTE format('ALTER TABLE %s ATTACH PARTITION ${schema}.%I FOR VALUES FROM (%s) TO (%s)',
                     p_parent, '${PARTITION_PREFIX}' || lo, lo, lo + ${PARTITION_SECONDS});
      created := created + 1;
    END IF;
    lo := lo + ${PARTITION_SECONDS};
  END LOOP;
  RETURN created;
END
$fn$;

CREATE OR REPLACE FUNCTION ${EXPIRED_PARTITIONS_FUNCTION}()
RETURNS TABLE (partition text) LANGUAGE sql STABLE AS $fn$
  SELECT format('${schema}.%I', c.relname)
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = '${REPLAY_TABLE_NAME}'::regclass AND NOT i.inhdetachpending
    AND c.relname ~ '^${PARTITION_PREFIX}[0-9]+$'
    -- Every exp in [lo, lo + width) is past retention once lo + width - 1 + 24 h < now().
    AND substr(c.relname, length('${PARTITION_PREFIX}') + 1)::bigint + ${PARTITION_SECONDS} - 1 + ${REPLAY_RETENTION_SECONDS}
        < extract(epoch FROM now())
  ORDER BY 1
$fn$;

CREATE OR REPLACE FUNCTION ${MAINTAIN_FUNCTION}(p_lock bigint, p_lead bigint)
RETURNS TABLE (held boolean, dropped int, deleted bigint, created int) LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  part record;
  n bigint;
  blocked boolean := false;
BEGIN
  held := pg_try_advisory_xact_lock(p_lock);
  dropped := 0; deleted := 0; created := 0;
  IF NOT held THEN RETURN NEXT; RETURN; END IF;
  PERFORM set_config('lock_timeout', '${DDL_LOCK_TIMEOUT_MS}', true);
  -- First: the partitions ahead never wait for an expired one a long reader keeps from being dropped.
  created := ${ENSURE_PARTITIONS_FUNCTION}('${REPLAY_TABLE_NAME}', p_lead);
  FOR part IN
    SELECT c.relname, c.reltuples, i.inhrelid IS NOT NULL AS attached, coalesce(i.inhdetachpending, false) AS pending,
           substr(c.relname, length('${PARTITION_PREFIX}') + 1)::bigint AS lo, pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
    WHERE c.relnamespace = '${schema}'::regnamespace AND c.relkind = 'r' AND c.relname ~ '^${PARTITION_PREFIX}[0-9]+$'
      -- A partition of this table, or a table detached from it; never a partition of another table
      -- (the _next table of a conversion in progress names its partitions alike).
      AND (i.inhparent IS NULL OR i.inhparent = '${REPLAY_TABLE_NAME}'::regclass)
    ORDER BY 5
  LOOP
    -- Every exp in [lo, lo + width) is past retention once lo + width - 1 + 24 h < now().
    EXIT WHEN part.lo + ${PARTITION_SECONDS} - 1 + ${REPLAY_RETENTION_SECONDS} >= extract(epoch FROM now());
    -- Each wait for the parent's lock queues every insert behind it: at most one per run.
    CONTINUE WHEN blocked AND part.attached;
    BEGIN
      -- Exact for small (never analysed) tables; the planner's estimate for large ones, so the
      -- purge never scans a partition of rows just to count them.
      IF part.reltuples >= 0 THEN n := part.reltuples::bigint;
      ELSE EXECUTE format('SELECT count(*) FROM ${schema}.%I', part.relname) INTO n;
      END IF;
      -- An interrupted DETACH ... CONCURRENTLY: complete it (no ACCESS EXCLUSIVE on the parent).
      IF part.pending THEN
        EXECUTE format('ALTER TABLE ${REPLAY_TABLE_NAME} DETACH PARTITION ${schema}.%I FINALIZE', part.relname);
      END IF;
      EXECUTE format('DROP TABLE ${schema}.%I', part.relname);
      dropped := dropped + 1;
      deleted := deleted + n;
    EXCEPTION WHEN lock_not_available THEN
      -- A long transaction holds the table: it is kept (rows past retention, never fewer) until a later
      -- run gets the lock; detached tables are still dropped, other attached ones wait for that run too.
      blocked := true;
      RAISE WARNING '% kept: a lock on it was not granted within lock_timeout (a long transaction holds the replay table); a later purge run drops it', part.relname;
    WHEN insufficient_privilege THEN
      -- Another role made it (purgers under two roles): kept, never failing the run, or the partitions
      -- ahead made above would roll back with it and inserts would run out of partitions.
      RAISE WARNING '% kept: role % may not drop it (SQLSTATE 42501, it belongs to %); run every purger as one role (REPLAY.md, "What Core calls")',
        part.relname, current_user, part.owner;
    END;
  END LOOP;
  RETURN NEXT;
END
$fn$;`;

/** Name of the partitioned layout's migration file (packages/verifier/migrations/), for migration runners. */
export const REPLAY_PARTITIONED_MIGRATION_FILE = '0002_s2s_jwt_replay_partitioned.sql';

/** What the migration's partitions are, for the refusals of any other (migrate's and the file's). */
export const PARTITION_SHAPE = `partitions are ${PARTITION_SECONDS} s of exp wide, from a multiple of ${PARTITION_SECONDS}, named ${PARTITION_PREFIX}<first exp>`;

/**
 * The first partition of `parent` (an expression for its oid) that the migration would not make, as
 * `<name> <bound>`, or NULL: another width or grid (a table made by a build with another
 * PARTITION_SECONDS), another name, kind or schema than the parent's, a DEFAULT partition. The purge judges a partition's
 * age by its name and this width, and the migration's new partitions would overlap one of another width.
 * Bounds are constants, so pg_get_expr needs no relation (0): it locks nothing.
 */
function foreignPartitionSql(parent: string): string {
  const lo = `substr(p.relname, length('${PARTITION_PREFIX}') + 1)::bigint`;
  return `(SELECT format('%s %s', p.relname, pg_get_expr(p.relpartbound, 0))
     FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid JOIN pg_class parent ON parent.oid = i.inhparent
    WHERE i.inhparent = ${parent}
      -- The cast runs only on a name the pattern admits (at most 18 digits: no overflow).
      AND NOT CASE WHEN p.relname ~ '^${PARTITION_PREFIX}[1-9][0-9]{0,17}$'
                        AND p.relnamespace = parent.relnamespace AND p.relkind = 'r' THEN
        ${lo} % ${PARTITION_SECONDS} = 0
        AND pg_get_expr(p.relpartbound, 0) = format('FOR VALUES FROM (%L) TO (%L)', ${lo}, ${lo} + ${PARTITION_SECONDS})
      ELSE false END
    ORDER BY p.relname LIMIT 1)`;
}

/**
 * The text of migrations/0002_s2s_jwt_replay_partitioned.sql, character for character (a test holds
 * them equal), and the very statement `migrate(db, { layout: 'partitioned' })` sends. One DO block, so
 * a runner executing the file as it is (psql, sqlx, refinery) applies it atomically, in one transaction,
 * serialised with concurrent `migrate` calls by the same advisory lock.
 */
export const REPLAY_PARTITIONED_MIGRATION_SQL = `-- @hyper/s2s-verifier replay store, migration 0002: the partitioned layout (REPLAY.md, "Two layouts: single table and partitioned").
-- Opt-in, for high volume. Runs after 0001 in the same migration set:
--  * fresh install: 0001 has just created the single table, empty; this replaces it with the partitioned one;
--  * table converted online (convertToPartitioned, REPLAY.md runbook): refreshes functions and partitions;
--  * single table holding rows: refuses (raises) and changes nothing; convert it online first.
-- Idempotent. Afterwards every replica must, every 5 minutes, detach each partition listed by
-- ${EXPIRED_PARTITIONS_FUNCTION}() CONCURRENTLY, then call ${MAINTAIN_FUNCTION} (REPLAY.md, "What Core calls").
DO $replay$
DECLARE
  odd_partition text;
  prior_lock_timeout text;
BEGIN
-- Replicas (and migrate()) applying this at once queue up here instead of racing on the catalog.
PERFORM pg_advisory_xact_lock(${MIGRATE_LOCK_KEY});
-- An unfinished online conversion: its _next table holds the partition names this file would make, so
-- the table made here would get none and every insert would fail. Finish or roll back the conversion first.
IF to_regclass('${REPLAY_NEXT_TABLE_NAME}') IS NOT NULL THEN
  RAISE EXCEPTION '${REPLAY_NEXT_TABLE_NAME} exists: an online conversion is unfinished. Run convertToPartitioned again to finish it, or roll it back, before applying this file (REPLAY.md, "Runbook: online conversion")'
    USING ERRCODE = '${CONVERSION_UNFINISHED_SQLSTATE}';
END IF;
IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('${REPLAY_TABLE_NAME}')) = 'r' THEN
  -- Pass 1 refuses a table with visible rows before taking any lock. Pass 2 checks again under the lock,
  -- which waits for in-flight writers, so only a table still empty then is dropped; that wait is bounded,
  -- or every insert would queue behind it for as long as an open transaction holds the table.
  IF ${NOT_READ_COMMITTED} THEN
    RAISE EXCEPTION 'replacing the empty single table ${REPLAY_TABLE_NAME} needs READ COMMITTED, not %: its check under the lock must see writes committed during the wait',
      upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  FOR pass IN 1..2 LOOP
    IF pass = 2 THEN
      prior_lock_timeout := current_setting('lock_timeout');
      PERFORM set_config('lock_timeout', '${DDL_LOCK_TIMEOUT_MS}', true);
      LOCK TABLE ${REPLAY_TABLE_NAME} IN ACCESS EXCLUSIVE MODE;
      -- A runner's later migrations in the same transaction keep their own setting.
      PERFORM set_config('lock_timeout', prior_lock_timeout, true);
    END IF;
    IF EXISTS (SELECT 1 FROM ${REPLAY_TABLE_NAME}) THEN
      RAISE EXCEPTION '${REPLAY_TABLE_NAME} is a single table holding rows: convert it online first (REPLAY.md, "Runbook: online conversion")'
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
  END LOOP;
  DROP TABLE ${REPLAY_TABLE_NAME};
END IF;
CREATE SCHEMA IF NOT EXISTS ${schema};
${partitionedTableSql(REPLAY_TABLE_NAME)}
-- A partition this file would not make (a table made with another partition width): refused before
-- anything is replaced or created.
odd_partition := ${foreignPartitionSql(`'${REPLAY_TABLE_NAME}'::regclass`)};
IF odd_partition IS NOT NULL THEN
  RAISE EXCEPTION '${REPLAY_TABLE_NAME} has the partition %, unlike the partitions this migration makes: ${PARTITION_SHAPE}. Drop the table (its jtis are lost) and apply this file again (REPLAY.md, "Partition width")', odd_partition
    USING ERRCODE = 'invalid_table_definition';
END IF;
${PARTITIONED_FUNCTIONS_SQL}
PERFORM ${ENSURE_PARTITIONS_FUNCTION}('${REPLAY_TABLE_NAME}', ${PARTITION_LEAD_SECONDS});
END
$replay$;
`;

/** One coalesced batch in the partitioned layout; $1 iss[], $2 jti[], $3 exp[]. */
export const REMEMBER_PARTITIONED_SQL = `SELECT r_iss AS iss, r_jti AS jti FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`;

/**
 * Name of a statement prepared from `text`: `s2s_replay_` and a 32-bit FNV-1a hash of the text, so
 * another SDK version's text gets another name. On one connection a name holds one text (node-postgres
 * refuses a second, the server answers 42P05). Behind a transaction pooler without prepared-statement
 * support a Bind can reach another server connection's statement of that name: there `prepare: false`.
 */
function preparedName(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return `s2s_replay_${(hash >>> 0).toString(16).padStart(8, '0')}`;
}

/** The remember statements as node-postgres prepares them (parsed and planned once per connection). */
export const REMEMBER_PREPARED = {
  single: { name: preparedName(REMEMBER_SQL), text: REMEMBER_SQL },
  partitioned: { name: preparedName(REMEMBER_PARTITIONED_SQL), text: REMEMBER_PARTITIONED_SQL },
} as const;

/** The partitions past retention, schema-qualified, for the client to detach concurrently. */
export const EXPIRED_PARTITIONS_SQL = `SELECT partition FROM ${EXPIRED_PARTITIONS_FUNCTION}()`;

/**
 * Detaches one expired partition without blocking inserts (SHARE UPDATE EXCLUSIVE on the parent, then
 * waits for queries still using it). Must be a statement of its own, outside any transaction block.
 * `tag`, fresh per attempt, marks the text so CANCEL_STATEMENT_SQL finds this very statement: its wait
 * for the oldest transaction has no bound in the server, and a deadline on this side alone would leave
 * it waiting there, holding a connection.
 */
export function detachPartitionSql(partition: string, tag: string): string {
  return `/* s2s replay purge ${tag} */ ALTER TABLE ${REPLAY_TABLE_NAME} DETACH PARTITION ${partition} CONCURRENTLY`;
}

/**
 * Cancels, in the server, the statements whose text is $1 (one a deadline gave up on). Ours, so the same
 * role: pg_cancel_backend needs nothing more. The pids are chosen first: a cancel in the same WHERE
 * could be evaluated for any backend.
 */
export const CANCEL_STATEMENT_SQL = `WITH target AS MATERIALIZED (
  SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()
)
SELECT count(*) FILTER (WHERE pg_cancel_backend(pid))::int AS cancelled FROM target`;

/** What expired_partitions() answers: `session.<prefix><digits>`, safe to put into DDL as it is. */
export const PARTITION_NAME_PATTERN = new RegExp(`^${schema}\\.${PARTITION_PREFIX}[0-9]+$`);

/** One purge run in the partitioned layout; $1 purge lock key, $2 lead seconds. */
export const MAINTAIN_SQL = `SELECT held, dropped, deleted::float8 AS deleted, created FROM ${MAINTAIN_FUNCTION}($1::bigint, $2::bigint)`;

/**
 * The single layout's purge while a conversion is unfinished (its `_next` table exists): keeps `_next`'s
 * partitions PARTITION_LEAD_SECONDS ahead as maintain does for the live partitioned table, or once
 * tokens' exp passed the last one the mirror trigger would fail every insert (23514: 503 for every
 * token). Under the purge lock, and skipped while a migration or conversion step holds the migrate lock
 * (it makes them itself). A DO block: the function it calls exists only once a conversion has begun.
 */
export const EXTEND_NEXT_PARTITIONS_SQL = `DO $extend$
BEGIN
IF to_regclass('${REPLAY_NEXT_TABLE_NAME}') IS NOT NULL
   AND to_regprocedure('${ENSURE_PARTITIONS_SIGNATURE}') IS NOT NULL
   AND pg_try_advisory_xact_lock(${PURGE_LOCK_KEY})
   AND pg_try_advisory_xact_lock(${MIGRATE_LOCK_KEY}) THEN
  PERFORM set_config('lock_timeout', '${DDL_LOCK_TIMEOUT_MS}', true);
  PERFORM ${ENSURE_PARTITIONS_FUNCTION}('${REPLAY_NEXT_TABLE_NAME}', ${PARTITION_LEAD_SECONDS});
END IF;
END
$extend$`;

/** The partitioned layout's remember function, as `to_regprocedure` reads it. */
export const REMEMBER_FUNCTION_SIGNATURE = `${REMEMBER_FUNCTION}(text[],text[],bigint[])`;

/** The functions the partitioned layout's remember and purge call, as `to_regprocedure` reads them. */
export const PARTITIONED_FUNCTION_SIGNATURES = [
  REMEMBER_FUNCTION_SIGNATURE,
  `${MAINTAIN_FUNCTION}(bigint,bigint)`,
  ENSURE_PARTITIONS_SIGNATURE,
  `${EXPIRED_PARTITIONS_FUNCTION}()`,
] as const;

/**
 * The facts `migrate` checks about an existing replay table: kind ('r' single, 'p' partitioned),
 * primary-key columns in order, partition key, and how retain_until is produced. No row: no table.
 * The key is text (identifiers quoted where they need it), not an array: a query adapter that does not
 * parse Postgres arrays still reads it, and a column named "iss, jti" cannot pass for two. The
 * partitioned layout's functions that are missing are text too (NULL when none is).
 */
export const SHAPE_SQL = `SELECT c.relkind::text AS kind,
  (SELECT string_agg(quote_ident(a.attname::text), ', ' ORDER BY k.ord)
     FROM pg_constraint con
     CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
    WHERE con.conrelid = c.oid AND con.contype = 'p') AS pk,
  (SELECT a.attgenerated::text FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = 'retain_until' AND NOT a.attisdropped) AS generated,
  (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
     JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    WHERE d.adrelid = c.oid AND a.attname = 'retain_until') AS retain_expr,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partkey,
  ${foreignPartitionSql('c.oid')} AS foreign_partition,
  (SELECT string_agg(s.f, ', ' ORDER BY s.o)
     FROM unnest(ARRAY[${PARTITIONED_FUNCTION_SIGNATURES.map((f) => `'${f}'`).join(', ')}]::text[]) WITH ORDINALITY AS s(f, o)
    WHERE to_regprocedure(s.f) IS NULL) AS missing_functions,
  current_setting('transaction_isolation') AS isolation
FROM pg_class c WHERE c.oid = to_regclass('${REPLAY_TABLE_NAME}')`;
