import { LITE_AUTH_LOG_CATEGORY, type Logger } from '@hyper/s2s-contracts';
import { SignerClosedError, SignerError } from './errors.js';

export interface PrefetchOptions {
  /** Tokens kept signed ahead per scope, for the signer's configured audience only. */
  size: number;
  /** A pooled token is handed out only while it is at most this old (at least `ttl - maxAgeSeconds` left). */
  maxAgeSeconds: number;
}

export interface MintedToken {
  token: string;
  iat: number;
  exp: number;
}

interface Waiter {
  resolve(token: string): void;
  reject(error: unknown): void;
}

interface Lane {
  scope: string;
  tokens: MintedToken[];
  inflight: number;
  waiters: Waiter[];
  failures: number;
  pausedUntil: number;
}

const MAX_REFILL_PAUSE_MS = 30_000;

export interface PrefetchPoolDeps {
  size: number;
  minLifeSeconds: number;
  /** The one audience pooled tokens carry (the signer's configured one); logged with refill failures. */
  audience: string;
  mint(scope: string): Promise<MintedToken>;
  nowSeconds(): number;
  logger: Logger;
  /** Told whether each take() found a ready token (pool hit) or not (miss: waits or signs directly). */
  onTake?: ((hit: boolean) => void) | undefined;
}

/**
 * Tokens signed ahead for a slow (remote) key. Each token leaves the pool exactly once (shift from the
 * queue or hand-over to one waiter), so none is ever served twice; each carries its own jti from signing.
 * One lane per scope string and only for the configured audience: a caller-chosen audience would open
 * a lane, and `size` background KMS signs, per value. Scope strings are combinations of the contract's
 * known scopes, so background signing is bounded by `size` times their number.
 */
export class PrefetchPool {
  readonly #deps: PrefetchPoolDeps;
  readonly #lanes = new Map<string, Lane>();
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(deps: PrefetchPoolDeps) {
    this.#deps = deps;
  }

  /** A pooled or in-flight token for this scope, or undefined: the caller signs directly. */
  take(scope: string): Promise<string> | undefined {
    const lane = this.#lane(scope);
    const now = this.#deps.nowSeconds();
    let served = lane.tokens.shift();
    // Too old to hand out: dropped, never returned to the queue.
    while (served !== undefined && !this.#fresh(served, now)) served = lane.tokens.shift();
    let result: Promise<string> | undefined;
    if (served) {
      result = Promise.resolve(served.token);
    } else if (lane.inflight > lane.waiters.length) {
      // A refill is already signing: wait for it rather than add a KMS call (calls ≈ tokens used).
      result = new Promise<string>((resolve, reject) => lane.waiters.push({ resolve, reject }));
    }
    this.#deps.onTake?.(served !== undefined);
    this.#refill(lane);
    return result;
  }

  /** Tokens ready in the pool for this scope. */
  available(scope: string): number {
    return this.#lanes.get(scope)?.tokens.length ?? 0;
  }

  /** Resolves when no refill is signing (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const lane of this.#lanes.values()) {
      lane.tokens.length = 0;
      for (const waiter of lane.waiters.splice(0)) waiter.reject(new SignerClosedError());
    }
    await this.settled();
    this.#lanes.clear();
  }

  #lane(scope: string): Lane {
    let lane = this.#lanes.get(scope);
    if (!lane) {
      lane = { scope, tokens: [], inflight: 0, waiters: [], failures: 0, pausedUntil: 0 };
      this.#lanes.set(scope, lane);
    }
    return lane;
  }

  /**
   * Enough life left, and not from the future: after the wall clock steps back, a token signed before
   * the step has iat and nbf ahead of now (past the 60 s skew Core refuses it) and would outlive ttl.
   */
  #fresh(token: MintedToken, now: number | undefined): boolean {
    return now !== undefined && token.iat <= now && token.exp - now >= this.#deps.minLifeSeconds;
  }

  /** nowSeconds() for the background: a clock that throws there has no caller to tell (undefined). */
  #nowOrUndefined(): number | undefined {
    try {
      return this.#deps.nowSeconds();
    } catch {
      return undefined;
    }
  }

  #refill(lane: Lane): void {
    // Monotonic: a wall-clock step must not stretch or cancel the pause.
    if (this.#closed || performance.now() < lane.pausedUntil) return;
    while (lane.tokens.length + lane.inflight < this.#deps.size + lane.waiters.length) {
      lane.inflight++;
      const pending = this.#deps
        .mint(lane.scope)
        .then(
          (minted) => this.#delivered(lane, minted),
          (error: unknown) => this.#failed(lane, error),
        )
        .finally(() => this.#pending.delete(pending));
      this.#pending.add(pending);
    }
  }

  #delivered(lane: Lane, minted: MintedToken): void {
    lane.inflight--;
    if (this.#closed) return;
    const waiter = lane.waiters.shift();
    // A waiter gets the token even when KMS took longer than maxAge: it was minted for this wait and is
    // as fresh as a direct sign started at the same moment would be.
    if (waiter) waiter.resolve(minted.token);
    // A throw here would reject a promise nobody awaits (an unhandled rejection ends the process): a
    // broken clock just makes the token unusable for the pool; the next sign() reports it.
    if (this.#fresh(minted, this.#nowOrUndefined())) {
      lane.failures = 0;
      lane.pausedUntil = 0;
      if (!waiter) lane.tokens.push(minted);
      this.#refill(lane);
      return;
    }
    // Signing takes longer than a pooled token may age: refilling now would only re-sign in a loop and
    // burn quota. Back off like a failure; callers sign directly meanwhile.
    this.#pause(lane);
  }

  #pause(lane: Lane): void {
    lane.failures++;
    lane.pausedUntil = performance.now() + Math.min(MAX_REFILL_PAUSE_MS, 250 * 2 ** (lane.failures - 1));
  }

  #failed(lane: Lane, error: unknown): void {
    lane.inflight--;
    // Back off so a failing KMS is not hammered by refills on every sign().
    this.#pause(lane);
    const waiter = lane.waiters.shift();
    if (waiter) waiter.reject(error);
    else {
      this.#deps.logger.warn(
        {
          category: LITE_AUTH_LOG_CATEGORY,
          event: 's2s_prefetch_failed',
          scope: lane.scope,
          audience: this.#deps.audience,
          code: error instanceof SignerError ? error.code : 'UNKNOWN',
          error: error instanceof Error ? error.message : String(error),
        },
        'pre-signing an S2S token failed',
      );
    }
    // Waiters beyond what is still in flight would wait on a paused lane: fail them now.
    while (lane.waiters.length > lane.inflight) lane.waiters.shift()!.reject(error);
  }
}
