-- @hyper/s2s-verifier replay store, migration 0002: the partitioned layout (REPLAY.md, "Two layouts: single table and partitioned").
-- Opt-in, for high volume. Runs after 0001 in the same migration set:
--  * fresh install: 0001 has just created the single table, empty; this replaces it with the partitioned one;
--  * table converted online (convertToPartitioned, REPLAY.md runbook): refreshes functions and partitions;
--  * single table holding rows: refuses (raises) and changes nothing; convert it online first.
-- Idempotent. Afterwards every replica must, every 5 minutes, detach each partition listed by
-- session.s2s_jwt_replay_expired_partitions() CONCURRENTLY, then call session.s2s_jwt_replay_maintain (REPLAY.md, "What Core calls").
DO $replay$
DECLARE
  odd_partition text;
  prior_lock_timeout text;
BEGIN
-- Replicas (and migrate()) applying this at once queue up here instead of racing on the catalog.
PERFORM pg_advisory_xact_lock(8300823757978167154);
-- An unfinished online conversion: its _next table holds the partition names this file would make, so
-- the table made here would get none and every insert would fail. Finish or roll back the conversion first.
IF to_regclass('session.s2s_jwt_replay_next') IS NOT NULL THEN
  RAISE EXCEPTION 'session.s2s_jwt_replay_next exists: an online conversion is unfinished. Run convertToPartitioned again to finish it, or roll it back, before applying this file (REPLAY.md, "Runbook: online conversion")'
    USING ERRCODE = '55006';
END IF;
IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('session.s2s_jwt_replay')) = 'r' THEN
  -- Pass 1 refuses a table with visible rows before taking any lock. Pass 2 checks again under the lock,
  -- which waits for in-flight writers, so only a table still empty then is dropped; that wait is bounded,
  -- or every insert would queue behind it for as long as an open transaction holds the table.
  IF current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted') THEN
    RAISE EXCEPTION 'replacing the empty single table session.s2s_jwt_replay needs READ COMMITTED, not %: its check under the lock must see writes committed during the wait',
      upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  FOR pass IN 1..2 LOOP
    IF pass = 2 THEN
      prior_lock_timeout := current_setting('lock_timeout');
      PERFORM set_config('lock_timeout', '500', true);
      LOCK TABLE session.s2s_jwt_replay IN ACCESS EXCLUSIVE MODE;
      -- A runner's later migrations in the same transaction keep their own setting.
      PERFORM set_config('lock_timeout', prior_lock_timeout, true);
    END IF;
    IF EXISTS (SELECT 1 FROM session.s2s_jwt_replay) THEN
      RAISE EXCEPTION 'session.s2s_jwt_replay is a single table holding rows: convert it online first (REPLAY.md, "Runbook: online conversion")'
        USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
  END LOOP;
  DROP TABLE session.s2s_jwt_replay;
END IF;
CREATE SCHEMA IF NOT EXISTS session;
CREATE TABLE IF NOT EXISTS session.s2s_jwt_replay (
  iss text COLLATE "C" NOT NULL,
  jti text COLLATE "C" NOT NULL,
  exp bigint NOT NULL,
  retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + 86400)) STORED,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  -- Unique per partition and the index every (iss, jti) probe uses; uniqueness of (iss, jti) over the
  -- whole retention is enforced by session.s2s_jwt_replay_remember (per-key lock + probe of every partition).
  CONSTRAINT s2s_jwt_replay_pk PRIMARY KEY (iss, jti, exp)
) PARTITION BY RANGE (exp);
-- A partition this file would not make (a table made with another partition width): refused before
-- anything is replaced or created.
odd_partition := (SELECT format('%s %s', p.relname, pg_get_expr(p.relpartbound, 0))
     FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid JOIN pg_class parent ON parent.oid = i.inhparent
    WHERE i.inhparent = 'session.s2s_jwt_replay'::regclass
      -- The cast runs only on a name the pattern admits (at most 18 digits: no overflow).
      AND NOT CASE WHEN p.relname ~ '^s2s_jwt_replay_e[1-9][0-9]{0,17}$'
                        AND p.relnamespace = parent.relnamespace AND p.relkind = 'r' THEN
        substr(p.relname, length('s2s_jwt_replay_e') + 1)::bigint % 21600 = 0
        AND pg_get_expr(p.relpartbound, 0) = format('FOR VALUES FROM (%L) TO (%L)', substr(p.relname, length('s2s_jwt_replay_e') + 1)::bigint, substr(p.relname, length('s2s_jwt_replay_e') + 1)::bigint + 21600)
      ELSE false END
    ORDER BY p.relname LIMIT 1);
IF odd_partition IS NOT NULL THEN
  RAISE EXCEPTION 'session.s2s_jwt_replay has the partition %, unlike the partitions this migration makes: partitions are 21600 s of exp wide, from a multiple of 21600, named s2s_jwt_replay_e<first exp>. Drop the table (its jtis are lost) and apply this file again (REPLAY.md, "Partition width")', odd_partition
    USING ERRCODE = 'invalid_table_definition';
END IF;
CREATE OR REPLACE FUNCTION session.s2s_jwt_replay_remember(p_iss text[], p_jti text[], p_exp bigint[])
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
  IF current_setting('transaction_isolation') NOT IN ('read committed', 'read uncommitted') THEN
    RAISE EXCEPTION 'session.s2s_jwt_replay_remember needs READ COMMITTED, not %: under a transaction snapshot its per-key lock cannot show it a concurrent first use (REPLAY.md, "Transaction isolation")',
      upper(current_setting('transaction_isolation'))
      USING ERRCODE = 'invalid_transaction_state';
  END IF;
  PERFORM pg_advisory_xact_lock(1932684153, k.h)
  FROM (SELECT DISTINCT hashtext(u.i || ' ' || u.j) AS h
        FROM unnest(p_iss, p_jti) AS u(i, j) ORDER BY 1) AS k;
  -- One row per (iss, jti) of the call: the primary key holds exp, so two presentations of a key under
  -- two exps in one call would both insert. The latest exp is kept: the record lasts longest.
  RETURN QUERY
  INSERT INTO session.s2s_jwt_replay AS r (iss, jti, exp)
  SELECT DISTINCT ON (u.i, u.j) u.i, u.j, u.e FROM unnest(p_iss, p_jti, p_exp) AS u(i, j, e)
  -- OFFSET 0: the planner may not turn the probe into a join, which could hash whole partitions.
  WHERE NOT EXISTS (SELECT 1 FROM session.s2s_jwt_replay AS h WHERE h.iss = u.i AND h.jti = u.j OFFSET 0)
  ORDER BY u.i, u.j, u.e DESC
  ON CONFLICT DO NOTHING
  RETURNING r.iss, r.jti;
END
$fn$;

CREATE OR REPLACE FUNCTION session.s2s_jwt_replay_ensure_partitions(p_parent text, p_lead bigint)
RETURNS int LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  first_lo bigint := (floor(extract(epoch FROM now()))::bigint - 86400) / 21600 * 21600;
  last_lo bigint := (floor(extract(epoch FROM now()))::bigint + p_lead) / 21600 * 21600;
  lo bigint;
  created int := 0;
BEGIN
  lo := first_lo;
  WHILE lo <= last_lo LOOP
    IF to_regclass(format('session.%I', 's2s_jwt_replay_e' || lo)) IS NULL THEN
      EXECUTE format('CREATE TABLE session.%I (LIKE %s INCLUDING DEFAULTS INCLUDING GENERATED)',
                     's2s_jwt_replay_e' || lo, p_parent);
      EXECUTE format('ALTER TABLE %s ATTACH PARTITION session.%I FOR VALUES FROM (%s) TO (%s)',
                     p_parent, 's2s_jwt_replay_e' || lo, lo, lo + 21600);
      created := created + 1;
    END IF;
    lo := lo + 21600;
  END LOOP;
  RETURN created;
END
$fn$;

CREATE OR REPLACE FUNCTION session.s2s_jwt_replay_expired_partitions()
RETURNS TABLE (partition text) LANGUAGE sql STABLE AS $fn$
  SELECT format('session.%I', c.relname)
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'session.s2s_jwt_replay'::regclass AND NOT i.inhdetachpending
    AND c.relname ~ '^s2s_jwt_replay_e[0-9]+$'
    -- Every exp in [lo, lo + width) is past retention once lo + width - 1 + 24 h < now().
    AND substr(c.relname, length('s2s_jwt_replay_e') + 1)::bigint + 21600 - 1 + 86400
        < extract(epoch FROM now())
  ORDER BY 1
$fn$;

CREATE OR REPLACE FUNCTION session.s2s_jwt_replay_maintain(p_lock bigint, p_lead bigint)
RETURNS TABLE (held boolean, dropped int, deleted bigint, created int) LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  part record;
  n bigint;
  blocked boolean := false;
BEGIN
  held := pg_try_advisory_xact_lock(p_lock);
  dropped := 0; deleted := 0; created := 0;
  IF NOT held THEN RETURN NEXT; RETURN; END IF;
  PERFORM set_config('lock_timeout', '500', true);
  -- First: the partitions ahead never wait for an expired one a long reader keeps from being dropped.
  created := session.s2s_jwt_replay_ensure_partitions('session.s2s_jwt_replay', p_lead);
  FOR part IN
    SELECT c.relname, c.reltuples, i.inhrelid IS NOT NULL AS attached, coalesce(i.inhdetachpending, false) AS pending,
           substr(c.relname, length('s2s_jwt_replay_e') + 1)::bigint AS lo, pg_get_userbyid(c.relowner) AS owner
    FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
    WHERE c.relnamespace = 'session'::regnamespace AND c.relkind = 'r' AND c.relname ~ '^s2s_jwt_replay_e[0-9]+$'
      -- A partition of this table, or a table detached from it; never a partition of another table
      -- (the _next table of a conversion in progress names its partitions alike).
      AND (i.inhparent IS NULL OR i.inhparent = 'session.s2s_jwt_replay'::regclass)
    ORDER BY 5
  LOOP
    -- Every exp in [lo, lo + width) is past retention once lo + width - 1 + 24 h < now().
    EXIT WHEN part.lo + 21600 - 1 + 86400 >= extract(epoch FROM now());
    -- Each wait for the parent's lock queues every insert behind it: at most one per run.
    CONTINUE WHEN blocked AND part.attached;
    BEGIN
      -- Exact for small (never analysed) tables; the planner's estimate for large ones, so the
      -- purge never scans a partition of rows just to count them.
      IF part.reltuples >= 0 THEN n := part.reltuples::bigint;
      ELSE EXECUTE format('SELECT count(*) FROM session.%I', part.relname) INTO n;
      END IF;
      -- An interrupted DETACH ... CONCURRENTLY: complete it (no ACCESS EXCLUSIVE on the parent).
      IF part.pending THEN
        EXECUTE format('ALTER TABLE session.s2s_jwt_replay DETACH PARTITION session.%I FINALIZE', part.relname);
      END IF;
      EXECUTE format('DROP TABLE session.%I', part.relname);
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
$fn$;
PERFORM session.s2s_jwt_replay_ensure_partitions('session.s2s_jwt_replay', 21600);
END
$replay$;
