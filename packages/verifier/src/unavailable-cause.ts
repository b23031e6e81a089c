import type { UnavailableCause } from '@hyper/s2s-contracts';
import { KeysUnavailableError } from './keys/source.js';
import { ReplayStoreError } from './replay/errors.js';

/** Postgres SQLSTATEs: undefined_table, invalid_schema_name, undefined_function (a migration's function). */
const SCHEMA_MISSING_SQLSTATES = new Set(['42P01', '3F000', '42883']);
/** admin_shutdown, crash_shutdown, cannot_connect_now; class 08 (connection exception) is checked apart. */
const UNREACHABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03']);
/** query_canceled (statement_timeout, lock_timeout). */
const TIMEOUT_SQLSTATES = new Set(['57014']);
const UNREACHABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
/**
 * invalid_catalog_name (no such database) and class 28, invalid authorization (login, password): the
 * server refused the connection at login, so the database cannot be reached with these settings.
 */
const LOGIN_REFUSED_SQLSTATES = /^(?:3D000|28[0-9A-Z]{3})$/;

// node-postgres and PGlite report a lost or closed connection by message only.
const UNREACHABLE_MESSAGE =
  /connection terminated|connection (?:is )?closed|not queryable|client has encountered a connection error|pglite is closed/i;
const MAX_CAUSE_DEPTH = 8;

function causeOfOne(error: unknown): UnavailableCause | undefined {
  if (error instanceof KeysUnavailableError) return error.unavailableCause;
  if (error instanceof ReplayStoreError && error.code === 'ERR_S2S_REPLAY_TIMEOUT') return 'timeout';
  // A table `migrate` did not make: the schema the store needs is not there either.
  if (error instanceof ReplayStoreError && error.code === 'ERR_S2S_REPLAY_SCHEMA') return 'schema_missing';
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SCHEMA_MISSING_SQLSTATES.has(code)) return 'schema_missing';
    if (UNREACHABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || LOGIN_REFUSED_SQLSTATES.test(code))
      return 'unreachable';
    if (TIMEOUT_SQLSTATES.has(code) || code === 'ETIMEDOUT') return 'timeout';
    if (UNREACHABLE_ERRNOS.has(code)) return 'unreachable';
  }
  const name = (error as { name?: unknown }).name;
  if (name === 'TimeoutError') return 'timeout';
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string' && UNREACHABLE_MESSAGE.test(message)) return 'unreachable';
  return undefined;
}

/**
 * Classifies a dependency failure into the contract's closed cause set, following `cause` chains
 * (a ReplayStoreError wraps the driver's error) and AggregateErrors (a refused dual-stack connect).
 */
export function unavailableCauseOf(error: unknown): UnavailableCause {
  const queue: unknown[] = [error];
  for (let seen = 0; seen < MAX_CAUSE_DEPTH && queue.length > 0; seen++) {
    const next = queue.shift();
    const cause = causeOfOne(next);
    if (cause !== undefined) return cause;
    if (typeof next === 'object' && next !== null) {
      if ('cause' in next) queue.push((next as { cause?: unknown }).cause);
      const inner = (next as { errors?: unknown }).errors;
      if (Array.isArray(inner)) queue.push(...inner);
    }
  }
  return 'error';
}

/**
 * A clause for a replay-store failure's message ('' when it does not apply): a refused connection, an
 * unknown host or database, or a refused login means the pool's connection settings are wrong.
 */
export function connectionRemedy(error: unknown): string {
  return unavailableCauseOf(error) === 'unreachable'
    ? " (check the pool's connection settings: host, port, database, user, password)"
    : '';
}

/** Longest driver message a replay error repeats. */
const MAX_QUOTED_FAILURE = 200;

/**
 * The driver's code and message (`ECONNREFUSED`, `3D000 database "core" does not exist`): a logger that
 * prints only `message` still says why.
 */
export function describeFailure(error: unknown): string {
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const text = typeof message === 'string' ? message.slice(0, MAX_QUOTED_FAILURE) : 'unknown error';
  return typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text;
}

/**
 * A failed replay-store statement. When the connection settings are the likely cause, the message says
 * what failed and what to check; otherwise the driver's error stays in `cause` only (a statement's error
 * may quote the row it was given).
 */
export function statementFailed(cause: unknown): ReplayStoreError {
  const remedy = connectionRemedy(cause);
  const message =
    remedy === ''
      ? 'replay store statement failed'
      : `replay store statement failed: ${describeFailure(cause)}${remedy}`;
  return new ReplayStoreError('ERR_S2S_REPLAY_FAILED', message, { cause });
}
