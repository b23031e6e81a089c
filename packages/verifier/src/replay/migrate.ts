import { withDeadline } from '../deadline.js';
import { VerifierConfigError } from '../errors.js';
import { isReplayDb, type ReplayDb } from './db.js';
import { DEFAULT_MIGRATE_TIMEOUT_MS } from './defaults.js';
import { ReplayStoreError } from './errors.js';
import { MIGRATE_LOCK_KEY } from './lock-keys.js';
import { REPLAY_MIGRATION_SQL } from './migration-sql.js';
import { positiveInteger } from './options.js';

export interface MigrateOptions {
  /** Longest to wait, including behind another replica's migration. Default 30 s. */
  readonly timeoutMs?: number;
}

/**
 * One statement, one transaction: the DDL runs inside a DO block after a transaction-scoped advisory
 * lock, so replicas migrating at the same moment queue up instead of racing on the catalog
 * (concurrent CREATE ... IF NOT EXISTS can still fail with a unique violation). Being one statement it
 * works the same through a pool, a single client or PGlite, and the lock cannot leak.
 */
const MIGRATE_STATEMENT = `DO $migrate$
BEGIN
PERFORM pg_advisory_xact_lock(${MIGRATE_LOCK_KEY});
${REPLAY_MIGRATION_SQL}
END
$migrate$`;

/** Creates `session.s2s_jwt_replay` and its purge index if missing. Idempotent and safe to run concurrently. */
export async function migrate(db: ReplayDb, options: MigrateOptions = {}): Promise<void> {
  if (!isReplayDb(db)) throw new VerifierConfigError('db', 'must have a query(text, values) method');
  const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, DEFAULT_MIGRATE_TIMEOUT_MS);
  try {
    await withDeadline(
      Promise.resolve().then(() => db.query(MIGRATE_STATEMENT)),
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
