-- @hyper/s2s-verifier replay store, migration 0001 (contract: "Replay protection").
-- One row per first presentation of (iss, jti), kept until the token's exp + 24 h, then purged.
-- Idempotent: every statement makes only what is missing, so running it again is harmless.
CREATE SCHEMA IF NOT EXISTS session;

CREATE TABLE IF NOT EXISTS session.s2s_jwt_replay (
  -- "C" collation: byte-exact identity and the cheapest comparisons in the primary key.
  iss text COLLATE "C" NOT NULL,
  jti text COLLATE "C" NOT NULL,
  -- The token's exp claim, whole seconds since the epoch.
  exp bigint NOT NULL,
  -- Derived, so no writer can get retention wrong: exp + 86400 s (24 h).
  retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + 86400)) STORED,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (iss, jti)
);

-- The purge walks this index in bounded batches. Made only where missing: CREATE INDEX IF NOT EXISTS
-- takes a SHARE lock on the live table before it looks, queueing every insert behind an open writer.
DO $index$
BEGIN
  IF to_regclass('session.s2s_jwt_replay_retain_until_idx') IS NULL
     AND (SELECT relkind FROM pg_class WHERE oid = to_regclass('session.s2s_jwt_replay')) = 'r' THEN
    CREATE INDEX s2s_jwt_replay_retain_until_idx ON session.s2s_jwt_replay (retain_until);
  END IF;
END
$index$;
