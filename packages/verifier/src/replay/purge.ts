import { ignoreRejection, type Logger, REPLAY_PURGE_INTERVAL_MS } from '@hyper/s2s-contracts';
import { VerifierConfigError } from '../errors.js';
import type { PurgeResult } from '../metrics.js';
import type { MetricsSink } from '../observe.js';
import { durationMs, loggerOption } from './options.js';

/** What one purge run did. */
export interface PurgeOutcome {
  /** Rows (or entries) deleted because their retain_until had passed. */
  readonly deleted: number;
  /**
   * Batches run under the purge lock: with the single layout, every DELETE statement that held it (a run
   * that found nothing expired still counts its one statement); with the partitioned layout, the
   * partitions dropped; with the memory store, 1 when it deleted anything.
   */
  readonly batches: number;
  /** The run stopped (or never started) because another replica held the purge lock. */
  readonly lockBusy: boolean;
  /**
   * Set when the run stopped at its signal (a purger being stopped) with expired rows possibly left:
   * only the single layout's batched DELETE stops early; the partitioned layout finishes its drop.
   */
  readonly stopped?: true;
}

export interface PurgeRunOptions {
  /** Stops a long run between batches (a purger being stopped). */
  readonly signal?: AbortSignal;
}

/** Anything that can purge: both stores, or a custom ReplayStore (then only `purge()` is used). */
export interface PurgeSource {
  purge(): Promise<number>;
  runPurge?(options?: PurgeRunOptions): Promise<PurgeOutcome>;
}

/** @deprecated The purger takes the shared `Logger`; this alias keeps existing imports compiling. */
export type PurgerLogger = Logger;

export interface PurgerOptions {
  /** Default REPLAY_PURGE_INTERVAL_MS (contract: every 5 minutes). */
  readonly intervalMs?: number;
  /** Also purge once right away instead of waiting a full interval. Default false. */
  readonly immediate?: boolean;
  /** Failures are reported here (warn) and never thrown out of the timer; purges that deleted rows at info. */
  readonly logger?: Logger;
  /** Called after every completed run (metrics, tests). */
  readonly onPurge?: (outcome: PurgeOutcome) => void;
  /** s2s_replay_purge_runs_total {result} and s2s_replay_purged_rows_total: pass the verifier's sink. */
  readonly metrics?: Pick<MetricsSink, 'purge'>;
}

export interface ReplayPurger {
  /** Purges now (joining a run already in progress); rejects if that run fails. */
  runNow(): Promise<PurgeOutcome>;
  /** Cancels the timer, stops a run in progress between batches and waits for it. Idempotent. */
  stop(): Promise<void>;
}

/** Runs `source`'s purge every `intervalMs` on an unref'd timer: it never keeps the process alive. */
export function schedulePurges(source: PurgeSource, options: PurgerOptions = {}): ReplayPurger {
  const intervalMs = durationMs('intervalMs', options.intervalMs, REPLAY_PURGE_INTERVAL_MS);
  const { onPurge, metrics } = options;
  const logger = loggerOption('logger', options.logger);
  // Contained like the verifier's sinks: telemetry and the notification hook must not fail a purge or,
  // from the timer's promise chain, surface as an unhandled rejection.
  const count = (result: PurgeResult, deleted: number, seconds: number | undefined) => {
    try {
      ignoreRejection(metrics?.purge?.(result, deleted, seconds));
    } catch {
      // contained
    }
  };
  const notify = (outcome: PurgeOutcome) => {
    try {
      ignoreRejection(onPurge?.(outcome));
    } catch {
      // contained
    }
  };
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<PurgeOutcome> | undefined;
  let stopped = false;

  async function purgeOnce(): Promise<PurgeOutcome> {
    if (source.runPurge) return source.runPurge({ signal: abort.signal });
    const deleted = await source.purge();
    return { deleted, batches: deleted > 0 ? 1 : 0, lockBusy: false };
  }

  function runNow(): Promise<PurgeOutcome> {
    if (running) return running;
    // Monotonic: a wall-clock step during a purge must not log a negative or inflated duration.
    const startedAt = performance.now();
    const run = purgeOnce().then(
      (outcome) => {
        const elapsedMs = performance.now() - startedAt;
        // A run cut short by stop() left expired rows behind: its duration is not a purge's.
        const stoppedEarly = outcome.stopped === true;
        if (outcome.deleted > 0) {
          logger?.info(
            { ...outcome, durationMs: Math.round(elapsedMs) },
            stoppedEarly ? 'replay store purge stopped early' : 'replay store purged',
          );
        }
        count(
          outcome.lockBusy ? 'lock_busy' : outcome.deleted > 0 ? 'deleted' : 'idle',
          outcome.deleted,
          stoppedEarly ? undefined : elapsedMs / 1000,
        );
        notify(outcome);
        return outcome;
      },
      (error: unknown) => {
        // A failure during shutdown (a statement cut off with its pool) says nothing of a purge's time.
        count('error', 0, abort.signal.aborted ? undefined : (performance.now() - startedAt) / 1000);
        throw error;
      },
    );
    running = run;
    const clear = () => {
      if (running === run) running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  function tick(): void {
    timer = undefined;
    runNow()
      .catch((error: unknown) => {
        logger?.warn({ err: describe(error) }, 'replay store purge failed');
      })
      .finally(schedule);
  }

  function schedule(): void {
    if (stopped || timer) return;
    timer = setTimeout(tick, intervalMs);
    timer.unref?.();
  }

  if (options.immediate) {
    timer = setTimeout(tick, 0);
    timer.unref?.();
  } else {
    schedule();
  }

  return {
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      abort.abort();
      await running?.catch(() => undefined);
    },
  };
}

/** Error summary for logs: no stack, no statement values. */
function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const summary: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') summary.code = code;
  if (error.cause instanceof Error) summary.cause = error.cause.message;
  return summary;
}

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
