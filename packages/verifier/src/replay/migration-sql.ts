import { REPLAY_RETENTION_SECONDS, REPLAY_TABLE } from '@hyper/s2s-contracts';

const { schema, table } = REPLAY_TABLE;

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
-- Idempotent: every statement is IF NOT EXISTS, so running it again is harmless.
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

-- The purge walks this index in bounded batches.
CREATE INDEX IF NOT EXISTS ${table}_retain_until_idx
  ON ${REPLAY_TABLE_NAME} (retain_until);
`;
