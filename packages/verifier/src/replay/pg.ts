import { withDeadline } from '../deadline.js';
import { VerifierConfigError } from '../errors.js';
import { createBatcher } from './batcher.js';
import { column, isReplayDb, type ReplayDb } from './db.js';
import {
  DEFAULT_PURGE_BATCH_SIZE,
  DEFAULT_PURGE_TIMEOUT_MS,
  DEFAULT_REPLAY_MAX_BATCH,
  DEFAULT_REPLAY_PIPELINE_DEPTH,
  DEFAULT_REPLAY_TIMEOUT_MS,
} from './defaults.js';
import { type NormalizedEntry, normalizeEntry, replayKey } from './entry.js';
import { ReplayStoreError } from './errors.js';
import { PURGE_LOCK_KEY } from './lock-keys.js';
import { clockOption, positiveInteger, readClock } from './options.js';
import {
  type PurgeOutcome,
  type PurgeRunOptions,
  type PurgerOptions,
  type ReplayPurger,
  schedulePurges,
} from './purge-schedule.js';
import { HEALTH_SQL, PURGE_BATCH_SQL, REMEMBER_SQL } from './statements.js';
import type { ReplayEntry, ReplayStore } from './store.js';

export interface PgReplayStoreOptions {
  /** `pg.Pool` (recommended), `pg.Client` or PGlite; anything with `query(text, values) → { rows }`. */
  readonly db: ReplayDb;
  /** Bound on every `remember` and `health` call, queueing included. Default 500 ms. */
  readonly timeoutMs?: number;
  /** Most presentations per coalesced INSERT. Default 256. */
  readonly maxBatch?: number;
  /** Coalesced INSERTs in flight at once. Default 2. */
  readonly pipelineDepth?: number;
  /** Rows per purge statement. Default 5000. */
  readonly purgeBatchSize?: number;
  /** Bound on each purge statement. Default 30 s. */
  readonly purgeTimeoutMs?: number;
  /** Epoch ms; decides what the purge treats as past retention. Default Date.now. */
  readonly now?: () => number;
}

export interface PgReplayStore extends ReplayStore {
  health(): Promise<boolean>;
  check(): Promise<void>;
  /** Like `purge()`, reporting batches and whether another replica held the purge lock. */
  runPurge(options?: PurgeRunOptions): Promise<PurgeOutcome>;
  /** `startPurger(this, options)`. */
  startPurger(options?: PurgerOptions): ReplayPurger;
}

/**
 * The replay store on PostgreSQL (`session.s2s_jwt_replay`, see `migrate`). Shared by every replica
 * that uses the same database: of any number of concurrent presentations of one (iss, jti), exactly
 * one is answered `true`. Concurrent calls are coalesced into one multi-row INSERT while earlier ones
 * are in flight; every caller gets its own answer, and a failed or timed-out statement rejects all of
 * its callers (503 upstream), never answering `true`.
 */
export function pgReplayStore(options: PgReplayStoreOptions): PgReplayStore {
  const db = options?.db;
  if (!isReplayDb(db)) {
    throw new VerifierConfigError(
      'db',
      'must have a query(text, values) method (pg.Pool, pg.Client, PGlite)',
    );
  }
  const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, DEFAULT_REPLAY_TIMEOUT_MS);
  const maxBatch = positiveInteger('maxBatch', options.maxBatch, DEFAULT_REPLAY_MAX_BATCH);
  const pipelineDepth = positiveInteger(
    'pipelineDepth',
    options.pipelineDepth,
    DEFAULT_REPLAY_PIPELINE_DEPTH,
  );
  const purgeBatchSize = positiveInteger('purgeBatchSize', options.purgeBatchSize, DEFAULT_PURGE_BATCH_SIZE);
  const purgeTimeoutMs = positiveInteger('purgeTimeoutMs', options.purgeTimeoutMs, DEFAULT_PURGE_TIMEOUT_MS);
  const now = clockOption('now', options.now);

  /** Runs one statement; with `ms`, bounded by it. Every failure becomes a ReplayStoreError. */
  async function statement(text: string, values: unknown[], ms?: number): Promise<unknown[]> {
    try {
      const query = Promise.resolve().then(() => db.query(text, values));
      const result = await (ms === undefined
        ? query
        : withDeadline(
            query,
            ms,
            () =>
              new ReplayStoreError('ERR_S2S_REPLAY_TIMEOUT', `replay store did not answer within ${ms} ms`),
          ));
      if (!Array.isArray(result?.rows)) throw new TypeError('query result has no rows array');
      return result.rows;
    } catch (error) {
      if (error instanceof ReplayStoreError) throw error;
      throw new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'replay store statement failed', { cause: error });
    }
  }

  async function insertBatch(entries: readonly NormalizedEntry[]): Promise<readonly boolean[]> {
    // One row per distinct key; a key presented twice in one batch can only be first once.
    const positionOf = new Map<string, number>();
    const slot = new Int32Array(entries.length).fill(-1);
    const iss: string[] = [];
    const jti: string[] = [];
    const exp: number[] = [];
    entries.forEach((entry, i) => {
      if (positionOf.has(entry.key)) return;
      positionOf.set(entry.key, iss.length);
      slot[i] = iss.length;
      iss.push(entry.iss);
      jti.push(entry.jti);
      exp.push(entry.exp);
    });
    // No deadline here: the batcher bounds each caller and each statement.
    const rows = await statement(REMEMBER_SQL, [iss, jti, exp]);
    const firstSeen = new Uint8Array(iss.length);
    for (const row of rows) {
      // Keys come back exactly as sent: entries are normalized to what a UTF-8 database stores.
      const rowIss = column(row, 'iss');
      const rowJti = column(row, 'jti');
      const position =
        typeof rowIss === 'string' && typeof rowJti === 'string'
          ? positionOf.get(replayKey(rowIss, rowJti))
          : undefined;
      if (position === undefined) throw new TypeError('replay INSERT answered a key it was not sent');
      firstSeen[position] = 1;
    }
    return entries.map((_, i) => {
      const position = slot[i]!;
      return position >= 0 && firstSeen[position] === 1;
    });
  }

  const batcher = createBatcher<NormalizedEntry>({ run: insertBatch, timeoutMs, maxBatch, pipelineDepth });

  async function runPurge(runOptions: PurgeRunOptions = {}): Promise<PurgeOutcome> {
    const cutoffSeconds = readClock(now) / 1000;
    let deleted = 0;
    let batches = 0;
    while (!runOptions.signal?.aborted) {
      const rows = await statement(
        PURGE_BATCH_SQL,
        [PURGE_LOCK_KEY, cutoffSeconds, purgeBatchSize],
        purgeTimeoutMs,
      );
      const held = column(rows[0], 'held');
      const count = column(rows[0], 'deleted');
      if (typeof held !== 'boolean' || typeof count !== 'number') {
        throw new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'replay purge answered an unexpected row');
      }
      if (!held) return { deleted, batches, lockBusy: true };
      batches++;
      deleted += count;
      if (count < purgeBatchSize) break;
    }
    return { deleted, batches, lockBusy: false };
  }

  const store: PgReplayStore = {
    remember(entry: ReplayEntry): Promise<boolean> {
      let normalized: NormalizedEntry;
      try {
        normalized = normalizeEntry(entry);
      } catch (error) {
        return Promise.reject(error);
      }
      return batcher.submit(normalized);
    },
    async purge() {
      return (await runPurge()).deleted;
    },
    runPurge,
    async health() {
      try {
        await store.check();
        return true;
      } catch {
        return false;
      }
    },
    async check() {
      await statement(HEALTH_SQL, [], timeoutMs);
    },
    startPurger(purgerOptions?: PurgerOptions) {
      return schedulePurges(store, purgerOptions);
    },
  };
  return store;
}
