import type { Logger } from '@hyper/s2s-contracts';
import { withDeadline } from '@hyper/s2s-contracts';
import { VerifierConfigError } from '../errors.js';
import { statementFailed } from '../unavailable-cause.js';
import { createBatcher } from './batcher.js';
import { ReplayStoreError, replayTimeout, sqlState } from './errors.js';
import { checkReplayShape } from './migrate.js';
import {
  DEFAULT_PURGE_BATCH_SIZE,
  DEFAULT_PURGE_TIMEOUT_MS,
  DEFAULT_REPLAY_ANTICIPATE_MS,
  DEFAULT_REPLAY_MAX_BATCH,
  DEFAULT_REPLAY_PIPELINE_DEPTH,
  DEFAULT_REPLAY_TIMEOUT_MS,
  durationMs,
  integerOption,
  loggerOption,
  MAX_REPLAY_ANTICIPATE_MS,
  positiveInteger,
} from './options.js';
import type { PurgeOutcome, PurgeRunOptions } from './purge.js';
import {
  CANCEL_STATEMENT_SQL,
  detachPartitionSql,
  EXPIRED_PARTITIONS_SQL,
  EXTEND_NEXT_PARTITIONS_SQL,
  HEALTH_SQL,
  MAINTAIN_SQL,
  PARTITION_LEAD_SECONDS,
  PARTITION_NAME_PATTERN,
  PURGE_BATCH_SQL,
  PURGE_LOCK_KEY,
  REMEMBER_PREPARED,
  REPLAY_TABLE_NAME,
} from './sql.js';
import type { ReplayCallOptions, ReplayEntry, ReplayStore } from './store.js';
import {
  column,
  isNodePostgres,
  isReplayDb,
  type NodePostgresDb,
  type NormalizedEntry,
  normalizeEntry,
  type ReplayDb,
  replayKey,
} from './store.js';

/** The two table layouts `migrate` can create; the store detects which one it finds. */
export type ReplayLayout = 'single' | 'partitioned';

export interface PgReplayStoreOptions {
  /** `pg.Pool` (recommended), `pg.Client` or PGlite; anything with `query(text, values) → { rows }`. */
  readonly db: ReplayDb;
  /**
   * Bound on a `remember` or `health` call, queueing included, when the caller passes none. A verifier
   * always passes its `replayTimeoutMs`, which then governs. Default DEFAULT_REPLAY_TIMEOUT_MS (1000).
   */
  readonly timeoutMs?: number;
  /** Most presentations per coalesced INSERT. Default 256. */
  readonly maxBatch?: number;
  /** Coalesced INSERTs in flight at once. Default DEFAULT_REPLAY_PIPELINE_DEPTH (1). */
  readonly pipelineDepth?: number;
  /**
   * Longest a ready INSERT waits for tokens the verifier announced (`anticipate`: claims passed,
   * signature being checked) to join it, ms; 0 sends at once. A caller waits at most once, and only when
   * its own timeout is at least 10 x this (the wait never costs it its answer). Keep it small: a flood
   * of forged tokens with a known kid keeps announcements open and can make every statement wait this
   * long. Default DEFAULT_REPLAY_ANTICIPATE_MS (1); 0..MAX_REPLAY_ANTICIPATE_MS (100).
   */
  readonly anticipateMs?: number;
  /** Rows per purge statement (single layout). Default 5000. */
  readonly purgeBatchSize?: number;
  /** Bound on each purge statement. Default 30 s. */
  readonly purgeTimeoutMs?: number;
  /**
   * Send the remember INSERT as a named prepared statement, parsed and planned once per connection
   * instead of on every batch (about a fifth to a third less Postgres CPU per token, REPLAY.md).
   * Default: true for a node-postgres `pg.Pool` or `pg.Client` passed as itself, false for anything else
   * (PGlite and wrappers take text only). Should the database refuse it (SQLSTATE 26000 or 42P05: PgBouncer
   * in transaction mode without `max_prepared_statements`, or DISCARD ALL), the store resends that batch
   * as text (unless all its callers have timed out), sends text from then on and reports it once
   * (`logger`). Set false behind such a pooler (REPLAY.md says why).
   */
  readonly prepare?: boolean;
  /**
   * Where the store reports a refused prepared statement (`warn`, event `s2s_replay_prepare_refused`),
   * e.g. the verifier's logger. Without one, a process warning (HYPER_S2S_REPLAY_PREPARE_REFUSED).
   */
  readonly logger?: Logger;
}

export interface PgReplayStore extends ReplayStore {
  health(options?: ReplayCallOptions): Promise<boolean>;
  check(options?: ReplayCallOptions): Promise<void>;
  /**
   * The layout found in the database, detected on first use, and again after a statement that does not
   * fit the table (SQLSTATE class 42) or a purge run that found another layout. Detection is `migrate`'s
   * shape check: a table `migrate` did not make rejects with ERR_S2S_REPLAY_SCHEMA, naming what differs.
   * The answer is the one last detected: right after another process converted the table it is still
   * the old layout, until the next remember that meets the new table or the next purge run.
   */
  layout(): Promise<ReplayLayout>;
  /** Like `purge()`, reporting batches and whether another replica held the purge lock. */
  runPurge(options?: PurgeRunOptions): Promise<PurgeOutcome>;
}

/**
 * The replay store on PostgreSQL (`session.s2s_jwt_replay`, see `migrate`). Shared by every replica
 * that uses the same database: of any number of concurrent presentations of one (iss, jti), exactly
 * one is answered `true`. Concurrent calls are coalesced into one multi-row INSERT while earlier ones
 * are in flight; every caller gets its own answer, and a failed or timed-out statement rejects all of
 * its callers (503 upstream), never answering `true`.
 *
 * @example
 * ```ts
 * import { createVerifier, migrate, pgReplayStore, startPurger } from '@hyper/s2s-verifier';
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.warn('idle postgres client error', err.message)); // a restart must not crash the process
 * await migrate(pool);
 * const replayStore = pgReplayStore({ db: pool });
 * const purger = startPurger(replayStore); // every 5 minutes, one replica at a time
 * const verifier = createVerifier({
 *   keys: { jwksUrl: 'https://lite.example/.well-known/jwks.json' },
 *   audience: 'hyper-core',
 *   issuers: ['hyper-lite'],
 *   replayStore,
 * });
 * process.once('SIGTERM', () => void purger.stop());
 * ```
 */
export function pgReplayStore(options: PgReplayStoreOptions): PgReplayStore {
  const db = options?.db;
  if (!isReplayDb(db)) {
    throw new VerifierConfigError(
      'db',
      'must have a query(text, values) method (pg.Pool, pg.Client, PGlite)',
    );
  }
  const timeoutMs = durationMs('timeoutMs', options.timeoutMs, DEFAULT_REPLAY_TIMEOUT_MS);
  const maxBatch = positiveInteger('maxBatch', options.maxBatch, DEFAULT_REPLAY_MAX_BATCH);
  const pipelineDepth = positiveInteger(
    'pipelineDepth',
    options.pipelineDepth,
    DEFAULT_REPLAY_PIPELINE_DEPTH,
  );
  const anticipateMs = integerOption(
    'anticipateMs',
    options.anticipateMs,
    { min: 0, max: MAX_REPLAY_ANTICIPATE_MS },
    DEFAULT_REPLAY_ANTICIPATE_MS,
  );
  const purgeBatchSize = positiveInteger('purgeBatchSize', options.purgeBatchSize, DEFAULT_PURGE_BATCH_SIZE);
  const purgeTimeoutMs = durationMs('purgeTimeoutMs', options.purgeTimeoutMs, DEFAULT_PURGE_TIMEOUT_MS);
  const logger = loggerOption('logger', options.logger);
  const nodePostgres = isNodePostgres(db);
  const prepare = options.prepare === undefined ? nodePostgres : options.prepare;
  if (typeof prepare !== 'boolean') throw new VerifierConfigError('prepare', 'must be true or false');
  if (prepare && !nodePostgres) {
    throw new VerifierConfigError(
      'prepare',
      'needs a node-postgres pg.Pool or pg.Client passed as itself (PGlite and wrapper objects take statement text only)',
    );
  }
  // The handle remember sends prepared statements through; undefined when the store sends text only,
  // from the start or since the database refused the prepared statement.
  let preparing = prepare ? (db as NodePostgresDb) : undefined;
  /** Sends text from now on, and says so once: the operator should set `prepare: false`. */
  function stopPreparing(sqlState: string): void {
    if (preparing === undefined) return;
    preparing = undefined;
    const message =
      `pgReplayStore: the database refused the prepared remember statement (SQLSTATE ${sqlState}); ` +
      'this store sends statement text from now on. Behind a transaction pooler (PgBouncer in ' +
      'transaction mode without max_prepared_statements), pass prepare: false or enable the ' +
      "pooler's prepared-statement support (PgBouncer 1.21+: max_prepared_statements > 0).";
    if (logger === undefined) {
      process.emitWarning(message, { code: 'HYPER_S2S_REPLAY_PREPARE_REFUSED' });
      return;
    }
    // Contained (loggerOption): a failing logger does not fail the batch it reports on.
    logger.warn({ event: 's2s_replay_prepare_refused', sqlState }, message);
  }
  if ((options as { now?: unknown }).now !== undefined) {
    // The purge cutoff is the database clock: one replica's skewed clock must not delete live rows.
    throw new VerifierConfigError(
      'now',
      'is not an option of pgReplayStore: the purge uses the database clock',
    );
  }

  /** Reported as Postgres would report the table missing (undefined_table), so a 503 says schema_missing. */
  const missingTable = () => {
    const message = `replay table ${REPLAY_TABLE_NAME} is missing (run migrate)`;
    return new ReplayStoreError('ERR_S2S_REPLAY_FAILED', message, {
      cause: Object.assign(new Error(message), { code: '42P01' }),
    });
  };

  /** The shape check's catalog query within `ms`, typed like every statement of the store. */
  const catalog = (ms: number): ReplayDb => ({
    query: async (text, values) => ({ rows: await statement(text, values ?? [], ms) }),
  });
  /**
   * `migrate`'s shape check: the layout, or ERR_S2S_REPLAY_SCHEMA naming what differs. Remembering needs
   * only the remember function; a purge run checks for all of them.
   */
  const detect = async (ms: number, functions: 'all' | 'remember' = 'remember'): Promise<ReplayLayout> => {
    const found = await checkReplayShape(catalog(ms), undefined, {
      allowMissing: false,
      missingTable,
      functions,
      remembering: functions === 'remember',
    });
    if (found === undefined) throw missingTable(); // not with allowMissing: false; typed all the same
    return found;
  };

  let layoutFound: Promise<ReplayLayout> | undefined;
  /**
   * Detects the layout once; forgets it when detection fails or a statement does not fit the table, so a
   * table converted online is re-detected. Detection is `migrate`'s shape check: a table `migrate` did
   * not make (a key other than (iss, jti), a retain_until not derived from exp, foreign partitions) is
   * refused with ERR_S2S_REPLAY_SCHEMA before anything is remembered in it or purged from it.
   */
  function layout(ms: number = timeoutMs, fresh = false): Promise<ReplayLayout> {
    if (layoutFound !== undefined && !fresh) return layoutFound;
    const detecting = detect(ms);
    layoutFound = detecting;
    detecting.catch(() => {
      // Only this detection's own failure is forgotten, never a newer one's result.
      if (layoutFound === detecting) layoutFound = undefined;
    });
    return detecting;
  }
  function forgetLayout(): void {
    layoutFound = undefined;
  }

  /**
   * Runs one statement (prepared under `name` when the store prepares); with `ms`, bounded by it. Every
   * failure becomes a ReplayStoreError.
   */
  async function statement(text: string, values: unknown[], ms?: number, name?: string): Promise<unknown[]> {
    try {
      const query = Promise.resolve().then(() =>
        preparing !== undefined && name !== undefined
          ? preparing.query({ name, text, values })
          : db.query(text, values),
      );
      const result = await (ms === undefined ? query : withDeadline(query, ms, () => replayTimeout(ms)));
      if (!Array.isArray(result?.rows)) throw new TypeError('query result has no rows array');
      return result.rows;
    } catch (error) {
      if (error instanceof ReplayStoreError) throw error;
      throw statementFailed(error);
    }
  }

  /**
   * The remember statement of `inLayout`, prepared when the store prepares; as text once refused, then
   * with `resend()`: the rows of callers still waiting, undefined when none is.
   */
  async function rememberIn(
    inLayout: ReplayLayout,
    values: unknown[],
    resend: () => unknown[] | undefined,
  ): Promise<unknown[]> {
    const { name, text } = REMEMBER_PREPARED[inLayout];
    // Read before sending: a batch in flight when another one stopped the preparing still retries.
    const prepared = preparing !== undefined;
    try {
      return await statement(text, values, undefined, name);
    } catch (error) {
      const refused = sqlState(error);
      if (!prepared || refused === undefined || !PREPARED_STATEMENT_REFUSED.has(refused)) throw error;
      // Refused at Parse or Bind, so nothing ran: the same batch as text is exact, not a second try.
      stopPreparing(refused);
      // Callers that already had their 503 must not have their jtis spent behind their backs.
      const live = resend();
      if (live === undefined) throw error;
      return await statement(text, live);
    }
  }

  async function insertBatch(
    entries: readonly NormalizedEntry[],
    waiting: (index?: number) => boolean,
  ): Promise<readonly boolean[]> {
    // One row per distinct key; a key presented twice in one batch can only be first once.
    const positionOf = new Map<string, number>();
    const slot = new Int32Array(entries.length).fill(-1);
    /** The entry answered for each row: its first presentation, or on a resend the first still waiting. */
    const owner: number[] = [];
    const iss: string[] = [];
    const jti: string[] = [];
    const exp: number[] = [];
    entries.forEach((entry, i) => {
      const key = replayKey(entry.iss, entry.jti);
      if (positionOf.has(key)) return;
      positionOf.set(key, iss.length);
      slot[i] = iss.length;
      owner.push(i);
      iss.push(entry.iss);
      jti.push(entry.jti);
      exp.push(entry.exp);
    });
    // No deadline here: the batcher bounds each caller and each statement.
    const values = [iss, jti, exp];
    /**
     * The rows of keys with a caller still waiting, or undefined when none waits. A key whose first
     * presentation's caller has gone is answered to the first one still waiting: it can still be first.
     */
    const resend = (): unknown[] | undefined => {
      const keep = new Uint8Array(iss.length);
      let kept = 0;
      entries.forEach((entry, i) => {
        if (!waiting(i)) return;
        const position = positionOf.get(replayKey(entry.iss, entry.jti))!;
        if (keep[position] === 1) return;
        keep[position] = 1;
        kept++;
        if (owner[position] !== i) {
          slot[owner[position]!] = -1;
          slot[i] = position;
          owner[position] = i;
        }
      });
      if (kept === 0) return undefined;
      if (kept === iss.length) return values;
      const pick = <T>(column: readonly T[]) => column.filter((_, position) => keep[position] === 1);
      return [pick(iss), pick(jti), pick(exp)];
    };
    const used = await layout();
    let rows: unknown[];
    try {
      rows = await rememberIn(used, values, resend);
    } catch (error) {
      // A statement that does not fit the table (SQLSTATE class 42: no matching ON CONFLICT arbiter,
      // table or function missing) means the layout may have changed: look again. Connection loss and
      // timeouts keep it, so recovery costs no extra round trip.
      if (sqlStateClass(error) !== SQLSTATE_CLASS_MISFIT) throw error;
      forgetLayout();
      if (!waiting()) throw error;
      // convertToPartitioned's switch: the batch met the new table. The statement ran in its own implicit
      // transaction, so its error undid everything it did: the same batch on the new layout's statement is
      // exact, not a second try. A table refused outright says why (ERR_S2S_REPLAY_SCHEMA).
      // Read afresh: a detection cached meanwhile may have read the catalog before the switch.
      const now = await layout(timeoutMs, true).catch((detectError: unknown) => {
        if (detectError instanceof ReplayStoreError && detectError.code === 'ERR_S2S_REPLAY_SCHEMA') {
          throw detectError;
        }
        return used;
      });
      // Read after that round trip: callers that had their 503 meanwhile keep their jtis unspent.
      const live = now === used ? undefined : resend();
      if (live === undefined) throw error;
      try {
        rows = await rememberIn(now, live, resend);
      } catch (again) {
        if (sqlStateClass(again) === SQLSTATE_CLASS_MISFIT) forgetLayout();
        throw again;
      }
    }
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

  /** The caller's bound when it passes a sane one (the verifier's replayTimeoutMs), else the store's. */
  function callTimeout(call: ReplayCallOptions | undefined): number {
    const ms = call?.timeoutMs;
    return typeof ms === 'number' && Number.isSafeInteger(ms) && ms >= 1 ? ms : timeoutMs;
  }

  const batcher = createBatcher<NormalizedEntry>({
    run: insertBatch,
    timeoutMs,
    maxBatch,
    pipelineDepth,
    anticipateMs,
  });

  async function runPurge(runOptions: PurgeRunOptions = {}): Promise<PurgeOutcome> {
    // Every run looks again: the table may have been converted since the last one. The purge deletes by
    // retain_until and drops partitions by their names and width, so on a table `migrate` did not make it
    // would delete by a value it does not control; the shape check refuses such a table. The layout purged
    // is the one that check read, so a conversion switching layouts meanwhile is never taken for a foreign
    // table. Within the purge's bound: the check may wait behind a partition's DROP or a conversion's
    // switch. It requires the purge's own functions too, so it stays out of the cache remember and
    // health() read (a purge function dropped by hand fails the purge, not verification); a layout other
    // than the cached one makes them look again.
    const found = await detect(purgeTimeoutMs, 'all');
    const cached = layoutFound;
    cached?.then(
      (layoutNow) => {
        if (layoutNow !== found && layoutFound === cached) forgetLayout();
      },
      () => undefined,
    );
    if (found === 'partitioned') return maintainPartitions(runOptions);
    // First, so a failing DELETE never leaves an unfinished conversion without partitions ahead.
    await statement(EXTEND_NEXT_PARTITIONS_SQL, [], purgeTimeoutMs);
    let deleted = 0;
    let batches = 0;
    for (;;) {
      if (runOptions.signal?.aborted) return { deleted, batches, lockBusy: false, stopped: true };
      const rows = await statement(PURGE_BATCH_SQL, [PURGE_LOCK_KEY, purgeBatchSize], purgeTimeoutMs);
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

  /**
   * Detaches the partitions past retention concurrently, one statement each (inserts never wait on
   * them), then drops them and creates the ones ahead in one statement under the purge lock. Both steps
   * only ever touch partitions wholly past retention, so replicas racing through them cannot lose a retained row.
   */
  async function maintainPartitions(runOptions: PurgeRunOptions): Promise<PurgeOutcome> {
    const expired = await statement(EXPIRED_PARTITIONS_SQL, [], purgeTimeoutMs);
    for (const row of expired) {
      if (runOptions.signal?.aborted) break;
      const partition = column(row, 'partition');
      if (typeof partition !== 'string' || !PARTITION_NAME_PATTERN.test(partition)) {
        throw new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'replay purge answered an unexpected row');
      }
      const detach = detachPartitionSql(partition, globalThis.crypto.randomUUID());
      try {
        await statement(detach, [], purgeTimeoutMs);
      } catch (error) {
        // Another replica is detaching it, or the server cannot detach concurrently (PGlite): maintain
        // below finishes that detach or drops the partition itself. Past its bound it still waits in the
        // server for the oldest transaction, a connection with it: cancelled there (left pending, which
        // maintain finalizes once that transaction ends).
        if (error instanceof ReplayStoreError && error.code === 'ERR_S2S_REPLAY_TIMEOUT') {
          await statement(CANCEL_STATEMENT_SQL, [detach], purgeTimeoutMs).catch(() => undefined);
        }
      }
    }
    const rows = await statement(MAINTAIN_SQL, [PURGE_LOCK_KEY, PARTITION_LEAD_SECONDS], purgeTimeoutMs);
    const held = column(rows[0], 'held');
    const dropped = column(rows[0], 'dropped');
    const deleted = column(rows[0], 'deleted');
    if (typeof held !== 'boolean' || typeof dropped !== 'number' || typeof deleted !== 'number') {
      throw new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'replay purge answered an unexpected row');
    }
    return { deleted, batches: dropped, lockBusy: !held };
  }

  const store: PgReplayStore = {
    remember(entry: ReplayEntry, call?: ReplayCallOptions): Promise<boolean> {
      let normalized: NormalizedEntry;
      try {
        normalized = normalizeEntry(entry);
      } catch (error) {
        return Promise.reject(error);
      }
      return batcher.submit(normalized, callTimeout(call));
    },
    anticipate: batcher.anticipate,
    async purge() {
      return (await runPurge()).deleted;
    },
    runPurge,
    layout,
    async health(call?: ReplayCallOptions) {
      try {
        await store.check(call);
        return true;
      } catch {
        return false;
      }
    },
    async check(call?: ReplayCallOptions) {
      // Not ready on a table the store refuses (ERR_S2S_REPLAY_SCHEMA): every remember would answer 503.
      // Both within the caller's bound (the verifier's replayTimeoutMs), like every call it makes.
      const ms = callTimeout(call);
      if (batcher.stalled()) {
        // Statements past their bound hold every slot: whatever the probe answers, remember cannot send.
        throw new ReplayStoreError(
          'ERR_S2S_REPLAY_TIMEOUT',
          'replay store statements are stuck past their bound (the database or a connection to it stopped answering)',
        );
      }
      const probe = async () => {
        await layout(ms);
        await statement(HEALTH_SQL, [], ms);
      };
      await withDeadline(probe(), ms, () => replayTimeout(ms));
    },
  };
  return store;
}

/**
 * A prepared statement the server connection does not hold (26000: a pooler ran our Parse on another
 * server connection, or DISCARD / DEALLOCATE ran on this one) or already holds under our name (42P05:
 * a pooled server connection kept it from an earlier client). Both fail before anything runs.
 */
const PREPARED_STATEMENT_REFUSED: ReadonlySet<string> = new Set(['26000', '42P05']);

/** Syntax error or access rule violation: here, a statement that does not fit the table it met. */
const SQLSTATE_CLASS_MISFIT = '42';

/** The SQLSTATE class (first two characters) of a driver error wrapped in a ReplayStoreError. */
function sqlStateClass(error: unknown): string | undefined {
  return sqlState(error)?.slice(0, 2);
}
