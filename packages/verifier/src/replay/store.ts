import { MAX_JTI_LENGTH, REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { ReplayStoreError } from './errors.js';
import { LATEST_EPOCH_MS } from './options.js';

/** One presentation of a token whose signature and claims already passed. */
export interface ReplayEntry {
  readonly iss: string;
  readonly jti: string;
  /** The token's exp, seconds since the epoch; the record is kept until exp + 24 h. */
  readonly exp: number;
}

/** Per-call settings a verifier passes to its store. */
export interface ReplayCallOptions {
  /**
   * The caller's bound, ms (the verifier's `replayTimeoutMs` / `S2S_REPLAY_TIMEOUT_MS`). A store must not
   * give up earlier than this; stores that ignore it are still bounded by the verifier.
   */
  readonly timeoutMs?: number;
}

/**
 * Single-use jti memory keyed by (iss, jti). Atomic: of any number of concurrent `remember` calls with
 * one (iss, jti) — across every verifier sharing the store — exactly one resolves `true`.
 * A rejected promise (store down, timeout) makes the verifier answer 503 `replay_store_unavailable`.
 */
export interface ReplayStore {
  remember(entry: ReplayEntry, options?: ReplayCallOptions): Promise<boolean>;
  /** Deletes records past retention; resolves how many were deleted. */
  purge(): Promise<number>;
  /**
   * Optional hint from the verifier: a `remember` call is likely to follow soon (the token's claims
   * passed, its key is known without a fetch, and its signature is being checked). Returns a function
   * the verifier calls once that check has ended, before its `remember` if one follows. A store that
   * coalesces calls (pgReplayStore) may hold a ready batch briefly for them, so tokens verified together
   * share one statement and commit. A hint only: it never changes an answer; the verifier ignores a
   * hint that throws or returns no function, and an end function that throws.
   */
  anticipate?(): () => void;
  /** Readiness: resolves true when the store answers within its timeout. Never rejects. */
  health?(options?: ReplayCallOptions): Promise<boolean>;
  /**
   * Readiness with the reason: resolves when healthy, rejects with the failure (so `health()` of the
   * verifier can say timeout, unreachable or schema_missing). Preferred over `health` when present.
   */
  check?(options?: ReplayCallOptions): Promise<void>;
}

/**
 * What the Postgres replay store needs from a database handle: `pg.Pool`, `pg.Client` and PGlite all
 * fit, so this package never imports `pg`. Prefer a `pg.Pool`: a lost `pg.Client` connection is never
 * re-established, while a pool replaces it and the store recovers by itself.
 */
export interface ReplayDb {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

/**
 * node-postgres (`pg.Pool`, `pg.Client`): its `query` also takes `{ name, text, values }`, which parses
 * and plans a statement once per connection. Recognised by shape, so this package never imports `pg`;
 * PGlite and other handles take text only.
 */
export interface NodePostgresDb extends ReplayDb {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export function isNodePostgres(db: ReplayDb): db is NodePostgresDb {
  const shape = db as { connect?: unknown; totalCount?: unknown; connectionParameters?: unknown };
  return (
    typeof shape.connect === 'function' &&
    (typeof shape.totalCount === 'number' ||
      (typeof shape.connectionParameters === 'object' && shape.connectionParameters !== null))
  );
}

export function isReplayDb(value: unknown): value is ReplayDb {
  return (
    typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function'
  );
}

/** Reads one column of one result row; undefined when the row is not an object. Callers check the type. */
export function column(row: unknown, name: string): unknown {
  if (typeof row !== 'object' || row === null) return undefined;
  return (row as Record<string, unknown>)[name];
}

/**
 * Longest iss or jti the stores accept, in UTF-16 code units: the contract's 128-character jti may take
 * two code units per character. Far below Postgres' ~2.7 kB btree tuple limit, so no single entry can
 * fail a coalesced INSERT and take its batch-mates down with it (in the partitioned layout an exp with
 * no partition still can: REPLAY.md, "Entries it refuses").
 */
export const MAX_KEY_PART_LENGTH = MAX_JTI_LENGTH * 2;

/** Keeps exp + retention inside the year 9999 (LATEST_EPOCH_MS), where timestamptz via to_timestamp() stops. */
const LATEST_STORABLE_EXP = Math.floor(LATEST_EPOCH_MS / 1000) - REPLAY_RETENTION_SECONDS;

/** Lone UTF-16 surrogates (with the `u` flag, paired ones are one code point and do not match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

export interface NormalizedEntry {
  readonly iss: string;
  readonly jti: string;
  /** Whole seconds, rounded up so retention never ends early. */
  readonly exp: number;
}

/**
 * Checks an entry and brings it to the form Postgres stores. Lone surrogates become U+FFFD exactly as
 * they would on the way into a UTF-8 database, so the memory and Postgres stores agree on identity.
 */
export function normalizeEntry(entry: ReplayEntry): NormalizedEntry {
  const iss = keyPart('iss', entry?.iss);
  const jti = keyPart('jti', entry?.jti);
  const exp = entry?.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp < 0 || exp > LATEST_STORABLE_EXP) {
    throw invalid('exp must be a finite number of seconds within the storable range');
  }
  return { iss, jti, exp: Math.ceil(exp) };
}

/** (iss, jti) as one string, for the Postgres batch's de-duplication; unambiguous because neither part may contain NUL. */
export function replayKey(iss: string, jti: string): string {
  return `${iss}\u0000${jti}`;
}

function keyPart(name: 'iss' | 'jti', value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_PART_LENGTH) {
    throw invalid(`${name} must be a string of 1-${MAX_KEY_PART_LENGTH} characters`);
  }
  // Postgres text cannot hold NUL; sent in a batch it would fail every caller in it.
  if (value.includes('\u0000')) throw invalid(`${name} must not contain NUL`);
  // isWellFormed is a native scan; the regex replace only runs for the rare lone surrogate.
  return value.isWellFormed() ? value : value.replace(LONE_SURROGATE, '\uFFFD');
}

function invalid(message: string): ReplayStoreError {
  return new ReplayStoreError('ERR_S2S_REPLAY_ENTRY', `replay entry refused: ${message}`);
}
