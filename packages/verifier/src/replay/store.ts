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
  /** Readiness: resolves true when the store answers within its timeout. Never rejects. */
  health?(options?: ReplayCallOptions): Promise<boolean>;
  /**
   * Readiness with the reason: resolves when healthy, rejects with the failure (so `health()` of the
   * verifier can say timeout, unreachable or schema_missing). Preferred over `health` when present.
   */
  check?(options?: ReplayCallOptions): Promise<void>;
}
