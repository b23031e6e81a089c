import {
  CLOCK_SKEW_SECONDS,
  containedLogger,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  LITE_AUTH_LOG_CATEGORY,
  type Logger,
  MAX_TTL_SECONDS,
  type PublicJwk,
} from '@hyper/s2s-contracts';
import { KeySetError, KeySetUnavailableError } from './errors.js';
import { DEFAULT_JWKS_MAX_AGE_SECONDS } from './jwks-handler.js';
import { jwksPublisher } from './jwks-publisher.js';
import type { Jwks } from './public-jwk.js';
import { MAX_EPOCH_MS, requireFunction, requireInteger } from './validate.js';

/** One key a key set can publish. */
export interface PublishableKey {
  readonly kid: string;
  /** For a Cloud KMS key: the key version published under `kid`. */
  readonly keyVersionName?: string;
  /**
   * The JWK to publish, or `undefined` when this key must not be published (a KMS version that is not
   * ENABLED). Rejects when that cannot be known now (KMS outage): the JWKS then answers 503.
   */
  publicJwk(): Promise<PublicJwk | undefined>;
}

/** A key that signed before the last switch; published until `retireAt` (epoch ms). */
export interface RetiringKey {
  readonly key: PublishableKey;
  readonly retireAt: number;
}

export interface KeySetTimings {
  /** Cache-Control max-age of the JWKS response (default 300). */
  maxAgeSeconds: number;
  /**
   * The longest any verifier keeps a fetched JWKS (Core's S2S_JWKS_CACHE_MAX_AGE_MS / 1000); a next key
   * is safe to sign with once published this long. Default: the verifier's own default cache age
   * (DEFAULT_JWKS_CACHE_MAX_AGE_MS in @hyper/s2s-contracts, 600 s).
   */
  verifierCacheSeconds: number;
  /**
   * How long after a switch a Lite instance may still sign with the previous key (a rolling deploy, a
   * worker that reads the key set late). Default: `maxAgeSeconds`.
   */
  switchPropagationSeconds: number;
  /** The longest token lifetime (contract: 300). */
  maxTtlSeconds: number;
  /** Verifiers accept a token this long past its exp (contract: 60). */
  clockSkewSeconds: number;
}

export interface KeySetOptions extends Partial<KeySetTimings> {
  current: PublishableKey;
  next?: PublishableKey;
  /** When `next` was first published (integer epoch ms); default now. */
  nextPublishedAt?: number;
  previous?: readonly RetiringKey[];
  /** Epoch ms; tests pin it. */
  now?: () => number;
  logger?: Logger;
}

export interface KeySetStatus {
  readonly current: { kid: string; keyVersionName?: string };
  readonly next?: { kid: string; keyVersionName?: string; publishedAt: number; switchNotBefore: number };
  readonly previous: readonly { kid: string; keyVersionName?: string; retireAt: number }[];
}

/**
 * What a JWKS-mode gateway publishes: the key it signs with now, the next key (published ahead of use)
 * and the previous keys until their last token is dead. `createJwksHandler(keySet)` serves it.
 */
export interface KeySet {
  readonly maxAgeSeconds: number;
  readonly timings: Readonly<KeySetTimings>;
  /** The key to sign with now. */
  readonly current: PublishableKey;
  /**
   * Every publishable key, current first; rejects (503) rather than answer a partial or empty set.
   * The contract's key policy runs when the published keys change: while they stay the same, this
   * resolves to the same frozen document.
   */
  jwks(): Promise<Jwks>;
  status(): KeySetStatus;
  /** Rotation step 1: publish `key` ahead of use. Sign with it from `switchNotBefore` on. */
  publishNext(key: PublishableKey): { switchNotBefore: number };
  /**
   * Rotation step 2: the next key becomes current; the current key stays published until `retireAt`.
   * Throws KeySetError before `switchNotBefore` unless `force` (verifiers may not know the kid yet).
   */
  switchToNext(options?: { force?: boolean }): { retireAt: number };
  /**
   * Stops publishing a previous or next key now (compromise). Verifiers that cached the JWKS keep
   * trusting it until their cache expires or `verifier.refreshKeys()` runs.
   */
  retire(kid: string): void;
}

function describe(key: PublishableKey): { kid: string; keyVersionName?: string } {
  return key.keyVersionName === undefined
    ? { kid: key.kid }
    : { kid: key.kid, keyVersionName: key.keyVersionName };
}

function requireKey(key: unknown, field: string): PublishableKey {
  const k = key as Partial<PublishableKey> | null;
  if (typeof k?.kid !== 'string' || typeof k.publicJwk !== 'function') {
    throw new KeySetError(`${field} must be a publishable key ({ kid, publicJwk() })`);
  }
  return k as PublishableKey;
}

/** What a verifier caches a JWKS for when not configured: one value, owned by the contracts. */
export const DEFAULT_VERIFIER_CACHE_SECONDS = DEFAULT_JWKS_CACHE_MAX_AGE_MS / 1000;

/** Upper bound of every key set timing (one day): the key set document is held to it too. */
export const MAX_KEY_SET_SECONDS = 86_400;

function seconds(value: number | undefined, fallback: number, field: string): number {
  return requireInteger(value ?? fallback, `keySet.${field}`, 0, MAX_KEY_SET_SECONDS);
}

/** Builds a key set; every timing is whole seconds and the arithmetic is in the README's JWKS-mode runbook. */
export function createKeySet(options: KeySetOptions): KeySet {
  const maxAgeSeconds = seconds(options.maxAgeSeconds, DEFAULT_JWKS_MAX_AGE_SECONDS, 'maxAgeSeconds');
  const timings: KeySetTimings = Object.freeze({
    maxAgeSeconds,
    verifierCacheSeconds: seconds(
      options.verifierCacheSeconds,
      DEFAULT_VERIFIER_CACHE_SECONDS,
      'verifierCacheSeconds',
    ),
    switchPropagationSeconds: seconds(
      options.switchPropagationSeconds,
      maxAgeSeconds,
      'switchPropagationSeconds',
    ),
    maxTtlSeconds: seconds(options.maxTtlSeconds, MAX_TTL_SECONDS, 'maxTtlSeconds'),
    clockSkewSeconds: seconds(options.clockSkewSeconds, CLOCK_SKEW_SECONDS, 'clockSkewSeconds'),
  });
  const now = options.now === undefined ? Date.now : requireFunction<() => number>(options.now, 'keySet.now');
  const logger = options.logger === undefined ? undefined : containedLogger(options.logger);
  // The policy runs when the published keys change, not on every JWKS request.
  const publish = jwksPublisher();

  let current = requireKey(options.current, 'current');
  let next: { key: PublishableKey; publishedAt: number } | undefined;
  let previous: RetiringKey[] = [];

  const kids = () => [current.kid, ...(next ? [next.key.kid] : []), ...previous.map((p) => p.key.kid)];
  const add = (kid: string) => {
    if (kids().includes(kid)) throw new KeySetError(`kid ${kid} is already in the key set`);
  };
  for (const [i, p] of (options.previous ?? []).entries()) {
    const key = requireKey(p?.key, `previous[${i}].key`);
    if (!Number.isFinite(p.retireAt)) throw new KeySetError(`previous[${i}].retireAt must be epoch ms`);
    add(key.kid);
    previous.push({ key, retireAt: p.retireAt });
  }
  if (options.next !== undefined) {
    const key = requireKey(options.next, 'next');
    add(key.kid);
    // Checked: NaN or a date string would make switchNotBefore NaN and turn the too-early guard off.
    const publishedAt =
      options.nextPublishedAt === undefined
        ? now()
        : requireInteger(options.nextPublishedAt, 'keySet.nextPublishedAt', 0, MAX_EPOCH_MS);
    next = { key, publishedAt };
  }
  const switchNotBefore = (publishedAt: number) => publishedAt + timings.verifierCacheSeconds * 1000;

  const prune = (at: number) => {
    const retired = previous.filter((p) => p.retireAt <= at);
    if (retired.length === 0) return;
    previous = previous.filter((p) => p.retireAt > at);
    for (const p of retired) {
      logger?.info(
        { category: LITE_AUTH_LOG_CATEGORY, event: 's2s_key_retired', kid: p.key.kid },
        'previous signing key no longer published',
      );
    }
  };

  return {
    maxAgeSeconds,
    timings,
    get current() {
      return current;
    },
    async jwks() {
      prune(now());
      const entries = [current, ...(next ? [next.key] : []), ...previous.map((p) => p.key)];
      // All or nothing: one unreadable key rejects the whole set, so a verifier never caches a partial one.
      // Every read settles first: a read left running after the answer would be shared by the next
      // request, which would then get a failure from before KMS recovered.
      const settled = await Promise.allSettled(entries.map((key) => key.publicJwk()));
      const failed = settled.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
      const jwks = settled.map((result) => (result as PromiseFulfilledResult<PublicJwk | undefined>).value);
      const keys: PublicJwk[] = [];
      jwks.forEach((jwk, i) => {
        const { kid } = entries[i]!;
        if (jwk === undefined) {
          logger?.warn(
            { category: LITE_AUTH_LOG_CATEGORY, event: 's2s_key_not_published', kid },
            'key is not enabled; left out of the JWKS',
          );
          return;
        }
        if (jwk.kid !== kid) throw new KeySetError(`key ${kid} produced a JWK for kid ${jwk.kid}`);
        keys.push(jwk);
      });
      if (keys.length === 0) throw new KeySetUnavailableError('no key in the key set may be published');
      return publish({ keys });
    },
    status() {
      prune(now());
      return {
        current: describe(current),
        ...(next
          ? {
              next: {
                ...describe(next.key),
                publishedAt: next.publishedAt,
                switchNotBefore: switchNotBefore(next.publishedAt),
              },
            }
          : {}),
        previous: previous.map((p) => ({ ...describe(p.key), retireAt: p.retireAt })),
      };
    },
    publishNext(key) {
      const k = requireKey(key, 'next');
      if (next) throw new KeySetError(`kid ${next.key.kid} is already published as next; switch to it first`);
      add(k.kid);
      next = { key: k, publishedAt: now() };
      return { switchNotBefore: switchNotBefore(next.publishedAt) };
    },
    switchToNext(switchOptions = {}) {
      if (!next) throw new KeySetError('no next key is published');
      const at = now();
      const notBefore = switchNotBefore(next.publishedAt);
      if (at < notBefore && switchOptions.force !== true) {
        throw new KeySetError(
          `kid ${next.key.kid} was published ${Math.floor((at - next.publishedAt) / 1000)} s ago; verifier caches may not hold it until ${new Date(notBefore).toISOString()}; switch then, or force it (switchToNext({ force: true }), CLI: rotation switch --force) once every Core is known to hold it`,
        );
      }
      const { switchPropagationSeconds, maxTtlSeconds, clockSkewSeconds } = timings;
      // Last token of the old key: signed up to switchPropagation after now, valid maxTtl, accepted skew more.
      const retireAt = at + (switchPropagationSeconds + maxTtlSeconds + clockSkewSeconds) * 1000;
      previous.push({ key: current, retireAt });
      current = next.key;
      next = undefined;
      return { retireAt };
    },
    retire(kid) {
      if (kid === current.kid) throw new KeySetError(`kid ${kid} is the current signing key; switch first`);
      if (next?.key.kid === kid) {
        next = undefined;
        return;
      }
      const before = previous.length;
      previous = previous.filter((p) => p.key.kid !== kid);
      if (previous.length === before) throw new KeySetError(`kid ${kid} is not in the key set`);
    },
  };
}
