import { checkInteger, containedLogger, type IntegerBounds, type Logger } from '@hyper/s2s-contracts';
import { VerifierConfigError } from '../errors.js';

/**
 * Tuning defaults of the replay stores. Contract numbers (retention, purge interval, table name) live in
 * @hyper/s2s-contracts; these are operational choices of this SDK.
 */

/**
 * The one default bound on a replay-store call (`replayTimeoutMs`, `S2S_REPLAY_TIMEOUT_MS`, and a store
 * used without a verifier): past it, 503 `replay_store_unavailable` (fail closed). The verifier passes
 * its configured value to the store on every call, so that value is the bound end to end.
 */
export const DEFAULT_REPLAY_TIMEOUT_MS = 1000;

/** Most presentations folded into one INSERT; bounds statement size and parameter array length. */
export const DEFAULT_REPLAY_MAX_BATCH = 256;

/**
 * Coalesced INSERT statements allowed in flight at once (new calls queue behind them and coalesce).
 * One: callers arriving during a statement leave together in the next, so a token costs Postgres a
 * share of one statement and commit; with verification in front (arrivals spread out) a second slot
 * halved the batches and cost 10-40 % end-to-end throughput (bench/RESULTS.md, issue 13).
 */
export const DEFAULT_REPLAY_PIPELINE_DEPTH = 1;

/**
 * Longest a ready INSERT waits for tokens a verifier announced (their signatures being checked) to join
 * it. With verification in front, callers otherwise arrive one by one and each waits for the statement
 * before its own; waiting for the tokens already under way (a fraction of a millisecond) doubled the rows
 * per statement and raised end-to-end throughput by a fifth to two fifths at 8 in flight (REPLAY.md,
 * "Coalescing"). The bound matters when checks queue or stall (a flood, a blocked thread pool).
 */
export const DEFAULT_REPLAY_ANTICIPATE_MS = 1;

/**
 * anticipateMs may be 0 (off) up to this: far longer than a signature check takes on a loaded machine,
 * so anything past it is a stall to stop waiting for, not a check to wait for.
 */
export const MAX_REPLAY_ANTICIPATE_MS = 100;

/** Rows deleted per purge statement: small enough that one batch holds its locks for milliseconds. */
export const DEFAULT_PURGE_BATCH_SIZE = 5000;

/** Longest one purge batch may run before the purge run is abandoned and reported. */
export const DEFAULT_PURGE_TIMEOUT_MS = 30_000;

/** Longest `migrate` waits (including for another replica's migration holding the lock). */
export const DEFAULT_MIGRATE_TIMEOUT_MS = 30_000;

/**
 * Longest a `convertToPartitioned` step waits for its lock on the live table. Inserts queue behind a lock
 * being waited for, so this stays below the default replay timeout: a blocked conversion gives up (and
 * is run again) instead of turning traffic into 503s.
 */
export const DEFAULT_SWITCH_LOCK_TIMEOUT_MS = DEFAULT_REPLAY_TIMEOUT_MS / 2;

/**
 * Memory store capacity. At 24 h retention this is about 11 tokens per second sustained; past it the
 * store refuses (503) rather than forget an unexpired jti, which would re-open replay.
 */
export const DEFAULT_MEMORY_MAX_ENTRIES = 1_000_000;

const AT_LEAST_ONE = { min: 1, max: Number.MAX_SAFE_INTEGER } as const;

/** A whole number within `bound`, or the default when absent; otherwise a config error naming `field`. */
export function integerOption(field: string, value: unknown, bound: IntegerBounds, fallback: number): number {
  if (value === undefined) return fallback;
  const checked = checkInteger(value, bound);
  if (!checked.ok) throw new VerifierConfigError(field, checked.problem);
  return checked.value;
}

/** A whole number of at least 1 (counts, milliseconds), or the default when absent. */
export function positiveInteger(field: string, value: unknown, fallback: number): number {
  return integerOption(field, value, AT_LEAST_ONE, fallback);
}

/**
 * The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days): above it setTimeout fires after
 * 1 ms, so a bound would never bound and an interval would run back to back.
 */
export const MAX_TIMER_MS = 2_147_483_647;

const TIMER_DURATION = { min: 1, max: MAX_TIMER_MS } as const;

/** Milliseconds of at least 1 that a Node timer can hold (bounds, intervals), or the default when absent. */
export function durationMs(field: string, value: unknown, fallback: number): number {
  return integerOption(field, value, TIMER_DURATION, fallback);
}

/** A plain object (not null, not an array): the shape every option group and sink must have. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with each of `methods` as a function (a replay store, a metrics sink, a logger). */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return isObject(value) && methods.every((name) => typeof value[name] === 'function');
}

/**
 * The shared Logger shape (pino fits), or undefined when absent; for the verifier and the stores alike.
 * Returned contained: a sink that throws or rejects never fails the work it reports on.
 */
export function loggerOption(field: string, value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  if (!hasMethods(value, ['info', 'warn'])) {
    throw new VerifierConfigError(field, 'must have info(obj, msg) and warn(obj, msg)');
  }
  return containedLogger(value as Logger);
}

export function clockOption(field: string, value: unknown): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function')
    throw new VerifierConfigError(field, 'must be a function returning epoch ms');
  return value as () => number;
}

/**
 * 9999-12-31T23:59:59.999Z, the stores' one upper bound on time: Postgres timestamptz via to_timestamp()
 * stops at the year 9999, and no epoch-milliseconds clock reads later (microseconds, about 1.8e15 today, do).
 */
export const LATEST_EPOCH_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Reads the injected clock. A clock that returns garbage must not silently disable retention, and one in
 * microseconds or nanoseconds must not purge jtis still within retention (that would re-open replay).
 */
export function readClock(now: () => number): number {
  const ms = now();
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new VerifierConfigError('now', 'must return a finite number of epoch milliseconds');
  }
  if (ms > LATEST_EPOCH_MS) {
    throw new VerifierConfigError(
      'now',
      `must return epoch milliseconds; ${ms} is past the year 9999 (a clock in microseconds or nanoseconds would purge live jtis)`,
    );
  }
  return ms;
}
