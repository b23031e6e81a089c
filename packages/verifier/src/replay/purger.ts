import { VerifierConfigError } from '../errors.js';
import { type PurgerOptions, type PurgeSource, type ReplayPurger, schedulePurges } from './purge-schedule.js';

/**
 * Purges the replay store every `intervalMs` (default REPLAY_PURGE_INTERVAL_MS, 5 minutes) on an unref'd
 * timer until `stop()`. With the Postgres store each batch runs under a transaction-scoped advisory
 * lock, so across replicas one purges at a time and the others skip. Failures go to `logger.warn`;
 * nothing is ever thrown out of the timer. The one way to start a purger.
 *
 * @example
 * ```ts
 * import { pgReplayStore, startPurger } from '@hyper/s2s-verifier';
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const replayStore = pgReplayStore({ db: pool });
 * const purger = startPurger(replayStore, { logger: console });
 * process.once('SIGTERM', () => void purger.stop());
 * ```
 */
export function startPurger(replayStore: PurgeSource, options: PurgerOptions = {}): ReplayPurger {
  if (typeof (replayStore as Partial<PurgeSource> | undefined)?.purge !== 'function') {
    throw new VerifierConfigError(
      'replayStore',
      'must be a replay store (pgReplayStore, memoryReplayStore or one with purge())',
    );
  }
  return schedulePurges(replayStore, options);
}
