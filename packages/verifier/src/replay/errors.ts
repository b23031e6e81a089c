import { VerifierError } from '../errors.js';

/**
 * Why a replay-store call was refused. Every one of these makes the verifier answer
 * 503 `replay_store_unavailable` (fail closed): the jti was not confirmed as first use.
 */
export type ReplayStoreErrorCode =
  /** No answer within the store's timeout (database slow, locked, stopped or unreachable). */
  | 'ERR_S2S_REPLAY_TIMEOUT'
  /** The statement failed (connection lost, table missing, permission, ...). */
  | 'ERR_S2S_REPLAY_FAILED'
  /** The in-memory store is at `maxEntries` with nothing past retention to evict. */
  | 'ERR_S2S_REPLAY_FULL'
  /**
   * `migrate`, or the store detecting the layout (first use, purge runs), found a
   * `session.s2s_jwt_replay` of another shape (primary key, retain_until, layout, partitions) and
   * refused to use or purge it.
   */
  | 'ERR_S2S_REPLAY_SCHEMA'
  /** The entry cannot be stored (empty or oversized iss/jti, NUL character, exp out of range). */
  | 'ERR_S2S_REPLAY_ENTRY';

export class ReplayStoreError extends VerifierError {
  declare readonly code: ReplayStoreErrorCode;

  constructor(code: ReplayStoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The one wording of a replay store call that outlived its bound (batcher, statements, health). */
export function replayTimeout(ms: number): ReplayStoreError {
  return new ReplayStoreError('ERR_S2S_REPLAY_TIMEOUT', `replay store did not answer within ${ms} ms`);
}

/** The SQLSTATE of a driver error, bare or wrapped in a ReplayStoreError. */
export function sqlState(error: unknown): string | undefined {
  const cause = error instanceof ReplayStoreError ? error.cause : error;
  const code = (cause as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code.length === 5 ? code : undefined;
}
