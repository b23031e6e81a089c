import { withDeadline } from '../deadline.js';
import { VerifierConfigError } from '../errors.js';
import { isReplayDb, type ReplayDb } from './db.js';
import { DEFAULT_MIGRATE_TIMEOUT_MS } from './defaults.js';
import { ReplayStoreError } from './errors.js';
import { MIGRATE_LOCK_KEY } from './lock-keys.js';
import { REPLAY_MIGRATION_SQL, REPLAY_TABLE_NAME } from './migration-sql.js';
import { positiveInteger } from './options.js';
import {
  ENSURE_PARTITIONS_FUNCTION,
  PARTITION_LEAD_SECONDS,
  PARTITIONED_FUNCTIONS_SQL,
  partitionedTableSql,
} from './partitioned-sql.js';
import type { ReplayLayout } from './pg.js';
import { checkReplayShape } from './shape.js';

export interface MigrateOptions {
  /** Longest to wait, including behind another replica's migration. Default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Layout to create when the table does not exist yet: 'single' (one table, the shipped .sql file) or
   * 'partitioned' (hourly partitions by exp, dropped when past retention; see REPLAY.md). Default: the
   * layout already there, else 'single'. Asking for the other layout than the one present is an error
   * (convert online with `convertToPartitioned`).
   */
  readonly layout?: ReplayLayout;
}

/**
 * One statement, one transaction: the DDL runs inside a DO block after a transaction-scoped advisory
 * lock, so replicas migrating at the same moment queue up instead of racing on the catalog
 * (concurrent CREATE ... IF NOT EXISTS can still fail with a unique violation). Being one statement it
 * works the same through a pool, a single client or PGlite, and the lock cannot leak. The layout
 * already present wins when none is asked for, so `migrate(db)` on every replica stays harmless after
 * an operator converted the table.
 */
function migrateStatement(layout: ReplayLayout | undefined): string {
  const present = `(SELECT relkind FROM pg_class WHERE oid = to_regclass('${REPLAY_TABLE_NAME}'))`;
  const wantsPartitioned =
    layout === 'partitioned'
      ? `${present} IS DISTINCT FROM 'r'`
      : layout === 'single'
        ? 'false'
        : `${present} = 'p'`;
  return `DO $migrate$
BEGIN
PERFORM pg_advisory_xact_lock(${MIGRATE_LOCK_KEY});
IF ${wantsPartitioned} THEN
CREATE SCHEMA IF NOT EXISTS ${REPLAY_TABLE_NAME.split('.')[0]};
${partitionedTableSql(REPLAY_TABLE_NAME)}
${PARTITIONED_FUNCTIONS_SQL}
PERFORM ${ENSURE_PARTITIONS_FUNCTION}('${REPLAY_TABLE_NAME}', ${PARTITION_LEAD_SECONDS});
ELSIF ${present} IS DISTINCT FROM 'p' THEN
${REPLAY_MIGRATION_SQL}
END IF;
END
$migrate$`;
}

/**
 * Creates `session.s2s_jwt_replay` (and, for the partitioned layout, its functions and partitions) if
 * missing, then checks the shape of what is there: a table this SDK did not create — another primary
 * key, a retain_until it does not derive from exp — is refused with `ERR_S2S_REPLAY_SCHEMA` instead of
 * being written to and purged by a column it does not control. Idempotent and safe to run concurrently.
 *
 * @example
 * ```ts
 * import { migrate } from '@hyper/s2s-verifier';
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * await migrate(pool, { timeoutMs: 10_000 }); // creates session.s2s_jwt_replay if missing
 * // at high volume instead: await migrate(pool, { layout: 'partitioned' }) (REPLAY.md)
 * ```
 */
export async function migrate(db: ReplayDb, options: MigrateOptions = {}): Promise<void> {
  if (!isReplayDb(db)) throw new VerifierConfigError('db', 'must have a query(text, values) method');
  const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, DEFAULT_MIGRATE_TIMEOUT_MS);
  const layout = options.layout;
  if (layout !== undefined && layout !== 'single' && layout !== 'partitioned') {
    throw new VerifierConfigError('layout', "must be 'single' or 'partitioned'");
  }
  const work = async () => {
    // Check first: DDL against a foreign table of the same name must not run at all.
    await checkReplayShape(db, layout, { allowMissing: true });
    await db.query(migrateStatement(layout));
    await checkReplayShape(db, layout, { allowMissing: false });
  };
  try {
    await withDeadline(
      Promise.resolve().then(work),
      timeoutMs,
      () =>
        new ReplayStoreError(
          'ERR_S2S_REPLAY_TIMEOUT',
          `replay migration did not finish within ${timeoutMs} ms`,
        ),
    );
  } catch (error) {
    if (error instanceof ReplayStoreError) throw error;
    throw new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'replay migration failed', { cause: error });
  }
}
