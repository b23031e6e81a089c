import { VerifierConfigError } from '../errors.js';
import { isReplayDb, type ReplayDb } from './db.js';
import { type PgReplayStoreOptions, pgReplayStore } from './pg.js';
import { type PurgerOptions, type PurgeSource, type ReplayPurger, schedulePurges } from './purge-schedule.js';

export interface StartPurgerOptions extends PurgerOptions {
  /** When given a database handle: options of the Postgres store built for purging (batch size, timeouts, clock). */
  readonly store?: Omit<PgReplayStoreOptions, 'db'>;
}

/**
 * Purges the replay store every `intervalMs` (default REPLAY_PURGE_INTERVAL_MS, 5 minutes) on an unref'd
 * timer until `stop()`. Given a Postgres store or a database handle, each batch runs under a
 * transaction-scoped advisory lock, so across replicas one purges at a time and the others skip.
 * Failures go to `logger.warn`; nothing is ever thrown out of the timer.
 *
 * @example
 * ```ts
 * import { startPurger } from '@hyper/s2s-verifier';
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const purger = startPurger(pool, { logger: console });
 * process.once('SIGTERM', () => void purger.stop());
 * ```
 */
export function startPurger(target: PurgeSource | ReplayDb, options: StartPurgerOptions = {}): ReplayPurger {
  const { store: storeOptions, ...purgerOptions } = options;
  if (typeof (target as Partial<PurgeSource> | undefined)?.purge === 'function') {
    return schedulePurges(target as PurgeSource, purgerOptions);
  }
  if (isReplayDb(target))
    return schedulePurges(pgReplayStore({ ...storeOptions, db: target }), purgerOptions);
  throw new VerifierConfigError('target', 'must be a replay store or a database handle with query()');
}
