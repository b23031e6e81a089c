import type { UnavailableCause } from '@hyper/s2s-contracts';
import type { JWTVerifyGetKey } from 'jose';
import type { KeyInfo } from './jwk-policy.js';

/** Where verification gets keys: a static keyset or a remote JWKS, both resolved through jose. */
export interface KeySource {
  /** True when an unknown kid may still appear after a refetch (remote JWKS). */
  readonly refreshable: boolean;
  /** What is known now about a kid, without any I/O. */
  lookup(kid: string): KeyInfo | undefined;
  /** jose's key resolver (createLocalJWKSet / createRemoteJWKSet). */
  readonly resolve: JWTVerifyGetKey;
  /** Loads keys (fetching if remote) and imports them; never rejects. */
  warmup(): Promise<KeysWarmup>;
  /** Whether at least one usable key is available now, and why not; fetches if the cache is not fresh. */
  healthy(): Promise<KeysHealth>;
  /** Refetches now, whatever the cache age (an operator's `verifier.refreshKeys()`); never rejects. */
  refresh(): Promise<RefreshReport>;
}

export interface KeysHealth {
  readonly ok: boolean;
  /** Set when not ok: why the keys could not be had. */
  readonly cause?: UnavailableCause;
}

export interface RefreshReport extends KeysReport {
  /** The keys were fetched by this refresh (or a fetch already in flight); false: the cached ones stand. */
  readonly refreshed: boolean;
}

export interface KeysReport {
  /** At least one usable key is loaded. */
  readonly keys: boolean;
  /** The kids available for verification. */
  readonly kids: readonly string[];
  /** Set when no key is loaded: why (from the contract's closed cause set). */
  readonly cause?: UnavailableCause;
}

/** A source's warmup: the public report, plus what the verifier's startup error adds to the cause. */
export interface KeysWarmup extends KeysReport {
  /**
   * Set when no key is loaded and the source knows more than the cause: e.g. `HTTP 404 from
   * https://host/path`. Never a response body, the URL's userinfo or its query.
   */
  readonly detail?: string;
}

/**
 * Thrown by a refreshable source's resolver when keys cannot be had (fetch failed, timed out, was
 * refused). Carries no detail from the token.
 */
export class KeysUnavailableError extends Error {
  /** Why, from the contract's closed cause set (logged with the 503). */
  readonly unavailableCause: UnavailableCause;
  /** What failed and where (KeysWarmup.detail), when known. */
  readonly detail: string | undefined;

  constructor(unavailableCause: UnavailableCause, detail?: string) {
    super(`JWKS unavailable (${unavailableCause})`);
    this.name = 'KeysUnavailableError';
    this.unavailableCause = unavailableCause;
    this.detail = detail;
  }
}
