import { REPLAY_RETENTION_SECONDS, withDeadline } from '@hyper/s2s-contracts';
import { VerifierConfigError } from '../errors.js';
import { connectionRemedy, describeFailure } from '../unavailable-cause.js';
import { ReplayStoreError, sqlState } from './errors.js';
import { DEFAULT_MIGRATE_TIMEOUT_MS, durationMs } from './options.js';
import type { ReplayLayout } from './pg.js';
import {
  CONVERSION_UNFINISHED_SQLSTATE,
  MIGRATE_LOCK_KEY,
  PARTITION_SHAPE,
  REMEMBER_FUNCTION_SIGNATURE,
  REPLAY_MIGRATION_SQL,
  REPLAY_NEXT_TABLE_NAME,
  REPLAY_PARTITIONED_MIGRATION_FILE,
  REPLAY_PARTITIONED_MIGRATION_SQL,
  REPLAY_TABLE_NAME,
  SHAPE_SQL,
} from './sql.js';
import { column, isReplayDb, type ReplayDb } from './store.js';

export interface MigrateOptions {
  /** Longest to wait, including behind another replica's migration. Default 30 s. */
  readonly timeoutMs?: number;
  /**
   * Layout to create when the table does not exist yet: 'single' (one table, the shipped .sql file) or
   * 'partitioned' (6-hour partitions by exp, dropped when past retention; see REPLAY.md). Default: the
   * layout already there, else 'single'. 'partitioned' replaces an empty single table (as the file 0002
   * does); one holding rows is refused (convert online with `convertToPartitioned`), and so is 'single'
   * on a partitioned table.
   */
  readonly layout?: ReplayLayout;
}

/**
 * One statement, one transaction: the DDL runs inside a DO block after a transaction-scoped advisory
 * lock, so replicas migrating at the same moment queue up instead of racing on the catalog
 * (concurrent CREATE ... IF NOT EXISTS can still fail with a unique violation). Being one statement it
 * works the same through a pool, a single client or PGlite, and the lock cannot leak. The partitioned
 * layout is the shipped file 0002 itself (the same DO block Core's runner applies); the single one
 * wraps 0001, and leaves a table another replica made partitioned meanwhile alone.
 */
function migrateStatement(layout: ReplayLayout): string {
  if (layout === 'partitioned') return REPLAY_PARTITIONED_MIGRATION_SQL;
  return `DO $migrate$
BEGIN
PERFORM pg_advisory_xact_lock(${MIGRATE_LOCK_KEY});
IF (SELECT relkind FROM pg_class WHERE oid = to_regclass('${REPLAY_TABLE_NAME}')) IS DISTINCT FROM 'p' THEN
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
  const timeoutMs = durationMs('timeoutMs', options.timeoutMs, DEFAULT_MIGRATE_TIMEOUT_MS);
  const layout = options.layout;
  if (layout !== undefined && layout !== 'single' && layout !== 'partitioned') {
    throw new VerifierConfigError('layout', "must be 'single' or 'partitioned'");
  }
  const deadline = performance.now() + timeoutMs;
  const work = async () => {
    // Check first: DDL against a foreign table of the same name must not run at all.
    // The layout already there wins when none is asked for, so `migrate(db)` on every replica stays
    // harmless after an operator converted the table.
    // An empty single table asked to be partitioned is replaced, as the file 0002 does; the file
    // itself checks under its lock that it is still empty, so a row written meanwhile is never lost.
    const replacing = layout === 'partitioned';
    const present = await settled(deadline, () =>
      checkReplayShape(db, replacing ? undefined : layout, { allowMissing: true }),
    );
    try {
      await db.query(migrateStatement(layout ?? present ?? 'single'));
    } catch (error) {
      if (sqlState(error) === CONVERSION_UNFINISHED_SQLSTATE) {
        throw refuse(
          `cannot take the partitioned layout while ${REPLAY_NEXT_TABLE_NAME} exists: an online conversion is ` +
            'unfinished (run convertToPartitioned again to finish it, or roll it back: REPLAY.md, "Runbook: online conversion")',
          'changing nothing',
        );
      }
      if (replacing && present === 'single' && sqlState(error) === OBJECT_NOT_IN_PREREQUISITE_STATE) {
        throw refuse(
          'has the single layout and holds rows, not the partitioned layout asked for ' +
            '(convert it online with convertToPartitioned, see REPLAY.md)',
        );
      }
      throw error;
    }
    await settled(deadline, () => checkReplayShape(db, layout, { allowMissing: false, remembering: true }));
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
    throw new ReplayStoreError(
      'ERR_S2S_REPLAY_FAILED',
      `replay migration failed: ${describeFailure(error)}${connectionRemedy(error)}`,
      {
        cause: error,
      },
    );
  }
}

/** Pause between shape reads while another replica's migration replaces the table. */
const SHAPE_RETRY_MS = 20;

/**
 * The shape check, read again while the table is being replaced under it (another replica migrating to
 * the partitioned layout drops the empty single table): that is a moment, not a verdict. Until `deadline`
 * (monotonic), which is also migrate's own bound.
 */
async function settled<T>(deadline: number, check: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (!isShapeChanged(error) || performance.now() + SHAPE_RETRY_MS >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, SHAPE_RETRY_MS));
    }
  }
}

const SHAPE_CHANGED = 'changed while its shape was read';

const isShapeChanged = (error: unknown) =>
  error instanceof ReplayStoreError &&
  error.code === 'ERR_S2S_REPLAY_FAILED' &&
  error.message.endsWith(SHAPE_CHANGED);

/** What the file 0002 raises on a single table holding rows. */
const OBJECT_NOT_IN_PREREQUISITE_STATE = '55000';

/** retain_until as the migration writes it, with casts, spaces and parentheses stripped. */
const RETAIN_EXPRESSION = `to_timestampexp+${REPLAY_RETENTION_SECONDS}::doubleprecision`;

function strip(expression: unknown): string {
  return typeof expression === 'string' ? expression.replace(/[\s()]/g, '') : '';
}

/** A primary key as SHAPE_SQL reads it (`iss, jti`), or as expected here (an array of plain names). */
function list(value: unknown): string {
  if (Array.isArray(value)) return `(${value.join(', ')})`;
  return typeof value === 'string' && value !== '' ? `(${value})` : 'none';
}

/**
 * Refuses (ERR_S2S_REPLAY_SCHEMA) a replay table this SDK would misuse: wrong primary key (uniqueness
 * would not be per (iss, jti)), a retain_until that is not generated from exp (the purge would delete
 * by a value it does not control), another layout than the one asked for, or a partition the
 * migration would not make (its purge judges a partition's age by its name and this width, and the
 * migration's new partitions would overlap it).
 */
export async function checkReplayShape(
  db: ReplayDb,
  layout: ReplayLayout | undefined,
  options: {
    /** A missing table answers undefined, and a partitioned one's missing functions pass (migrate makes them). */
    allowMissing: boolean;
    /**
     * Which of the partitioned layout's functions must exist: `all` (default), or `remember` only, for
     * remembering and readiness, which call nothing else: a purge function dropped by hand fails the
     * purge (and its alert), not every verification.
     */
    functions?: 'all' | 'remember';
    /** Otherwise a missing table throws this (default: ERR_S2S_REPLAY_SCHEMA, "does not exist after migration"). */
    missingTable?: () => Error;
    /**
     * The caller remembers through this connection: a partitioned table is refused while it runs above
     * READ COMMITTED, where its remember function refuses every call (REPLAY.md, "Transaction isolation").
     */
    remembering?: boolean;
  },
): Promise<ReplayLayout | undefined> {
  const { rows } = await db.query(SHAPE_SQL);
  const row = rows[0];
  if (row === undefined) {
    if (options.allowMissing) return undefined;
    throw options.missingTable?.() ?? refuse('does not exist after migration');
  }
  const kind = column(row, 'kind');
  const found: ReplayLayout | undefined = kind === 'r' ? 'single' : kind === 'p' ? 'partitioned' : undefined;
  if (found === undefined) throw refuse(`is not a table (relkind ${String(kind)})`);
  if (layout !== undefined && layout !== found) {
    throw refuse(
      `has the ${found} layout, not the ${layout} layout asked for` +
        (found === 'single' ? ' (convert it online with convertToPartitioned, see REPLAY.md)' : ''),
    );
  }
  const pk = column(row, 'pk');
  const expectedPk = found === 'single' ? ['iss', 'jti'] : ['iss', 'jti', 'exp'];
  if (list(pk) !== list(expectedPk)) {
    throw refuse(`has primary key ${list(pk)}, expected ${list(expectedPk)}`);
  }
  // A generated column whose expression reads NULL: the table was dropped while this query waited for
  // it (pg_get_expr found no relation). Not a verdict on its shape; the caller's next attempt reads again.
  if (column(row, 'generated') === 's' && column(row, 'retain_expr') === null) {
    throw new ReplayStoreError('ERR_S2S_REPLAY_FAILED', `replay table ${REPLAY_TABLE_NAME} ${SHAPE_CHANGED}`);
  }
  if (column(row, 'generated') !== 's' || strip(column(row, 'retain_expr')) !== RETAIN_EXPRESSION) {
    throw refuse(
      `has a retain_until that is not GENERATED ALWAYS AS (to_timestamp(exp + ${REPLAY_RETENTION_SECONDS})) STORED`,
    );
  }
  if (found === 'partitioned') {
    if (column(row, 'partkey') !== 'RANGE (exp)') {
      throw refuse(`is partitioned by ${String(column(row, 'partkey'))}, expected RANGE (exp)`);
    }
    const foreign = column(row, 'foreign_partition');
    if (typeof foreign === 'string') {
      throw refuse(
        `has the partition ${foreign}, unlike the partitions its migration makes: ${PARTITION_SHAPE}. A table made by a build ` +
          `with another width: DROP TABLE ${REPLAY_TABLE_NAME} (its jtis are lost), then migrate with layout ` +
          `'partitioned' (REPLAY.md, "Partition width")`,
      );
    }
    // Remember and the purge call them: without one, every call would fail with a bare 42883.
    const missing = column(row, 'missing_functions');
    // Without the remember function nothing can be remembered; without a purge function only the purge stops.
    const rememberMissing = typeof missing === 'string' && missing.includes(REMEMBER_FUNCTION_SIGNATURE);
    if (
      typeof missing === 'string' &&
      !options.allowMissing &&
      (rememberMissing || options.functions !== 'remember')
    ) {
      const refusing = rememberMissing
        ? 'refusing to use or purge it'
        : 'refusing to purge it (remembering goes on)';
      throw refuse(
        `is partitioned but its functions ${missing} are missing (run migrate, or apply ${REPLAY_PARTITIONED_MIGRATION_FILE} again)`,
        refusing,
      );
    }
    // Said here, at startup and in readiness, rather than as a bare failure of every remember call.
    const isolation = column(row, 'isolation');
    if (options.remembering && isolation !== 'read committed' && isolation !== 'read uncommitted') {
      throw refuse(
        `is partitioned, and this connection runs at ${String(isolation).toUpperCase()}: its remember function ` +
          "needs READ COMMITTED (set default_transaction_isolation = 'read committed' for the store's " +
          'connections: REPLAY.md, "Transaction isolation")',
        'refusing to use it',
      );
    }
  }
  return found;
}

function refuse(what: string, refusing = 'refusing to use or purge it'): ReplayStoreError {
  return new ReplayStoreError(
    'ERR_S2S_REPLAY_SCHEMA',
    `replay table ${REPLAY_TABLE_NAME} ${what}; ${refusing}`,
  );
}
