import { REPLAY_RETENTION_SECONDS, REPLAY_TABLE, withDeadline } from '@hyper/s2s-contracts';
import { VerifierConfigError } from '../errors.js';
import { ReplayStoreError, sqlState } from './errors.js';
import { checkReplayShape } from './migrate.js';
import { DEFAULT_MIGRATE_TIMEOUT_MS, DEFAULT_SWITCH_LOCK_TIMEOUT_MS, durationMs } from './options.js';
import {
  ENSURE_PARTITIONS_FUNCTION,
  MIGRATE_LOCK_KEY,
  PARTITION_LEAD_SECONDS,
  PARTITION_SECONDS,
  PARTITIONED_FUNCTIONS_SQL,
  partitionedTableSql,
  REPLAY_NEXT_TABLE_NAME,
  REPLAY_RETIRED_TABLE,
  REPLAY_TABLE_NAME,
} from './sql.js';
import { column, isReplayDb, type ReplayDb } from './store.js';

const { schema, table } = REPLAY_TABLE;
const RETIRED_TABLE_NAME = `${schema}.${REPLAY_RETIRED_TABLE}`;
const MIRROR = `${table}_mirror`;
/** The bulk copy moves one hour of exp per statement, whatever the partition width: short statements, no long locks. */
const COPY_WINDOW_SECONDS = 3600;
/** stepTimeoutMs ÷ lockTimeoutMs at least: three lock waits per step and a margin for the round trip. */
const LOCK_WAITS_PER_STEP_BOUND = 4;
/** SQLSTATE lock_not_available: `lock_timeout` expired. */
const LOCK_NOT_AVAILABLE = '55P03';

export interface ConvertOptions {
  /**
   * Bound on each step (the shape check, the preparation, the copy of one hour of rows, the switch, the
   * verification), on this side. Default 30 s. At least four times `lockTimeoutMs`.
   */
  readonly stepTimeoutMs?: number;
  /**
   * Longest the preparation (its trigger) and the switch (its ACCESS EXCLUSIVE lock) wait for their lock
   * on the live table, enforced by the database (`lock_timeout`). Inserts queue behind a lock being
   * waited for, so keep it below the verifier's `replayTimeoutMs`. At most a quarter of `stepTimeoutMs`
   * (a step waits for up to three locks). Default 500 ms, or that quarter when smaller.
   */
  readonly lockTimeoutMs?: number;
  /** Drop the retired single table once every row within retention is found in the new one. Default false. */
  readonly dropRetired?: boolean;
}

export interface ConvertOutcome {
  /** Rows within retention copied by the bulk copy (the mirror trigger copied the rest). */
  readonly copied: number;
  /** Rows within retention in the retired table but not in the partitioned one after the switch: must be 0. */
  readonly missing: number;
  /** Whether the retired table was dropped. */
  readonly retiredDropped: boolean;
}

/**
 * Converts the single-table layout to the partitioned one while traffic runs (runbook in REPLAY.md):
 * 1. builds `<table>_next` (partitioned, partitions covering every retained exp) and a statement trigger
 *    on the live table mirroring every new row into it — the live table's primary key still decides;
 * 2. copies the rows within retention, one hour of exp at a time (short statements, no long locks);
 * 3. switches in one transaction: ACCESS EXCLUSIVE on the live table (waits for in-flight inserts, whose
 *    rows the trigger has mirrored), renames it to `<table>_retired`, renames `_next` to the live name;
 * 4. checks that no row within retention is missing, and optionally drops the retired table.
 * Stores detect the new layout by themselves: a batch that meets the switched table fails before it
 * changes anything and is sent again on the new layout. No replay is accepted at any point: before the
 * switch the old primary key decides; after it, the new table holds every retained row. A step that
 * failed before the switch can be run again (REPLAY.md says what each failure leaves).
 *
 * @example
 * ```ts
 * import { convertToPartitioned } from '@hyper/s2s-verifier/replay';
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const outcome = await convertToPartitioned(pool, { dropRetired: true });
 * if (outcome.missing !== 0) throw new Error('rows missing after the switch: keep the retired table');
 * ```
 */
export async function convertToPartitioned(
  db: ReplayDb,
  options: ConvertOptions = {},
): Promise<ConvertOutcome> {
  if (!isReplayDb(db)) throw new VerifierConfigError('db', 'must have a query(text, values) method');
  const stepTimeoutMs = durationMs('stepTimeoutMs', options.stepTimeoutMs, DEFAULT_MIGRATE_TIMEOUT_MS);
  // Lock waits are bounded in the database, each by lockTimeoutMs; a step waits for at most three (the
  // migrate lock, the live table, _next). The step's bound on this side must outlast them with room for
  // the round trip, or a switch still waiting for its lock could commit after the caller was told it failed.
  const maxLockTimeoutMs = Math.floor(stepTimeoutMs / LOCK_WAITS_PER_STEP_BOUND);
  const lockTimeoutMs = durationMs(
    'lockTimeoutMs',
    options.lockTimeoutMs,
    Math.max(1, Math.min(DEFAULT_SWITCH_LOCK_TIMEOUT_MS, maxLockTimeoutMs)),
  );
  if (lockTimeoutMs > maxLockTimeoutMs) {
    throw new VerifierConfigError(
      'lockTimeoutMs',
      `must be at most ${maxLockTimeoutMs} ms, a quarter of stepTimeoutMs (${stepTimeoutMs} ms): a step waits ` +
        'for up to three locks',
    );
  }
  // Every failure names its step (the runbook's numbering), so an operator knows how far it got.
  const step = async (name: string, text: string, values?: unknown[]): Promise<unknown[]> => {
    try {
      const result = await withDeadline(
        Promise.resolve().then(() => db.query(text, values)),
        stepTimeoutMs,
        () =>
          new ReplayStoreError(
            'ERR_S2S_REPLAY_TIMEOUT',
            `replay conversion step "${name}" did not finish within ${stepTimeoutMs} ms; it may still ` +
              'be running in the database: read the layout (store.layout()) before running again',
          ),
      );
      return result.rows;
    } catch (error) {
      if (error instanceof ReplayStoreError) throw error;
      // A lock wait that gave up rolled the step back whole: say so, and what to do next.
      const advice =
        sqlState(error) === LOCK_NOT_AVAILABLE
          ? `: a lock on the replay tables was not granted within lockTimeoutMs (${lockTimeoutMs} ms) and ` +
            'the step was rolled back. A long transaction holds the table (pg_stat_activity): run ' +
            'convertToPartitioned again once it has ended'
          : '';
      throw new ReplayStoreError(
        'ERR_S2S_REPLAY_FAILED',
        `replay conversion step "${name}" failed${advice}`,
        {
          cause: error,
        },
      );
    }
  };

  // The shape checks' statements too: under the step deadline, their failures typed.
  const stepDb = (name: string): ReplayDb => ({
    query: async (text, values) => ({ rows: await step(name, text, values) }),
  });
  const present = await checkReplayShape(stepDb('0 shape check'), undefined, { allowMissing: false });
  if (present === 'partitioned') {
    throw new ReplayStoreError(
      'ERR_S2S_REPLAY_SCHEMA',
      `replay table ${REPLAY_TABLE_NAME} is already partitioned: nothing to convert (after a conversion ` +
        'that failed in step 4, run step 4 by hand: REPLAY.md, "Runbook: online conversion")',
    );
  }
  // 1. The partitioned table beside the live one, partitions up to the latest exp present, the mirror.
  await step(
    '1 prepare',
    `DO $convert$
DECLARE
  latest bigint;
BEGIN
-- First: every lock below (the migrate lock; the trigger's, which waits for open writes on the live
-- table while inserts queue behind it) is bounded in the database.
PERFORM set_config('lock_timeout', '${lockTimeoutMs}', true);
PERFORM pg_advisory_xact_lock(${MIGRATE_LOCK_KEY});
-- Through the retain_until index: no scan of the live table.
latest := coalesce(extract(epoch FROM (SELECT max(retain_until) FROM ${REPLAY_TABLE_NAME}))::bigint - ${REPLAY_RETENTION_SECONDS}, 0);
IF to_regclass('${RETIRED_TABLE_NAME}') IS NOT NULL THEN
  RAISE EXCEPTION '${RETIRED_TABLE_NAME} exists: finish or undo an earlier conversion first';
END IF;
${partitionedTableSql(REPLAY_NEXT_TABLE_NAME)}
${PARTITIONED_FUNCTIONS_SQL}
PERFORM ${ENSURE_PARTITIONS_FUNCTION}('${REPLAY_NEXT_TABLE_NAME}',
  greatest(${PARTITION_LEAD_SECONDS}, latest - floor(extract(epoch FROM now()))::bigint + ${PARTITION_SECONDS}));
CREATE OR REPLACE FUNCTION ${schema}.${MIRROR}() RETURNS trigger LANGUAGE plpgsql AS $m$
BEGIN
  INSERT INTO ${REPLAY_NEXT_TABLE_NAME} (iss, jti, exp, first_seen_at)
  SELECT a.iss, a.jti, a.exp, a.first_seen_at FROM added AS a
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$m$;
-- Kept from an earlier run (a rerun after a failed copy or switch): replacing it would take ACCESS
-- EXCLUSIVE on the live table, behind whatever long transaction made that run fail.
IF NOT EXISTS (SELECT 1 FROM pg_trigger
                WHERE tgrelid = '${REPLAY_TABLE_NAME}'::regclass AND tgname = '${MIRROR}') THEN
  CREATE TRIGGER ${MIRROR} AFTER INSERT ON ${REPLAY_TABLE_NAME}
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION ${schema}.${MIRROR}();
END IF;
END
$convert$`,
  );

  // 2. Bulk copy, one hour of exp per statement, oldest retained first.
  const bounds = await step(
    '2 copy',
    `SELECT coalesce(extract(epoch FROM min(retain_until)) - ${REPLAY_RETENTION_SECONDS}, 0)::float8 AS lo,
            coalesce(extract(epoch FROM max(retain_until)) - ${REPLAY_RETENTION_SECONDS}, -1)::float8 AS hi
     FROM ${REPLAY_TABLE_NAME} WHERE retain_until >= now()`,
  );
  const lo = Number(column(bounds[0], 'lo'));
  const hi = Number(column(bounds[0], 'hi'));
  let copied = 0;
  for (
    let from = Math.floor(lo / COPY_WINDOW_SECONDS) * COPY_WINDOW_SECONDS;
    from <= hi;
    from += COPY_WINDOW_SECONDS
  ) {
    const rows = await step(
      '2 copy',
      `WITH copied AS (
         INSERT INTO ${REPLAY_NEXT_TABLE_NAME} (iss, jti, exp, first_seen_at)
         SELECT iss, jti, exp, first_seen_at FROM ${REPLAY_TABLE_NAME}
         WHERE retain_until >= to_timestamp($1::bigint + ${REPLAY_RETENTION_SECONDS})
           AND retain_until < to_timestamp($2::bigint + ${REPLAY_RETENTION_SECONDS})
           AND retain_until >= now()
         ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*)::float8 AS n FROM copied`,
      [from, from + COPY_WINDOW_SECONDS],
    );
    copied += Number(column(rows[0], 'n'));
  }

  // 3. The switch: one short transaction.
  await step(
    '3 switch',
    `DO $switch$
BEGIN
PERFORM set_config('lock_timeout', '${lockTimeoutMs}', true);
LOCK TABLE ${REPLAY_TABLE_NAME} IN ACCESS EXCLUSIVE MODE;
DROP TRIGGER ${MIRROR} ON ${REPLAY_TABLE_NAME};
ALTER TABLE ${REPLAY_TABLE_NAME} RENAME TO ${REPLAY_RETIRED_TABLE};
ALTER TABLE ${REPLAY_NEXT_TABLE_NAME} RENAME TO ${table};
DROP FUNCTION ${schema}.${MIRROR}();
END
$switch$`,
  );

  // 4. Nothing within retention may be missing.
  const check = await step(
    '4 verify',
    `SELECT count(*)::float8 AS missing FROM ${RETIRED_TABLE_NAME} AS o
     WHERE o.retain_until >= now()
       AND NOT EXISTS (SELECT 1 FROM ${REPLAY_TABLE_NAME} AS n WHERE n.iss = o.iss AND n.jti = o.jti)`,
  );
  const missing = Number(column(check[0], 'missing'));
  let retiredDropped = false;
  if (options.dropRetired === true && missing === 0) {
    await step('4 verify: drop retired', `DROP TABLE ${RETIRED_TABLE_NAME}`);
    retiredDropped = true;
  }
  await checkReplayShape(stepDb('4 verify: shape check'), 'partitioned', { allowMissing: false });
  return { copied, missing, retiredDropped };
}
