import { timeoutSignal } from '@hyper/s2s-contracts';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface RemoteJwksTiming {
  /** Abort a fetch after this long. */
  readonly timeoutMs: number;
  /** Refetch once the keyset is this old. */
  readonly cacheMaxAgeMs: number;
  /** After a fetch, an unknown kid is answered from the cache for this long. */
  readonly cooldownMs: number;
}

export interface RemoteJwksSet extends JWTVerifyGetKey {
  /** The cached keyset is younger than cacheMaxAgeMs. */
  readonly fresh: boolean;
  /** Fresh, past the refresh-ahead point (REFRESH_AHEAD_SHARE of cacheMaxAgeMs), and no fetch in flight. */
  readonly due: boolean;
  /** Fetches now (sharing a fetch already in flight). */
  reload(): Promise<void>;
}

/**
 * jose's createRemoteJWKSet semantics (one shared in-flight fetch, cache max age, unknown-kid cooldown,
 * timeout) on the monotonic clock: jose ages its cache by Date.now(), so a backward wall-clock step
 * would keep a stale keyset "fresh" and an unknown kid "cooling down" for the size of the step.
 * `load` fetches and checks the keyset; it must honour `signal`.
 */
/**
 * Share of cacheMaxAgeMs after which a keyset in use is refetched in the background. A failing endpoint
 * then shows in the fetch-failure metric and logs while the cached keys still verify: the other half of
 * the max age is the operator's warning before the first 503 (without it, the first failed fetch and the
 * first 503 came in the same request). A success renews the cache, so traffic never waits for a fetch.
 */
export const REFRESH_AHEAD_SHARE = 0.5;

export function remoteJwksSet(
  load: (signal: AbortSignal) => Promise<JSONWebKeySet>,
  timing: RemoteJwksTiming,
): RemoteJwksSet {
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt: number | undefined;
  let pending: Promise<void> | undefined;

  const youngerThan = (ms: number) => fetchedAt !== undefined && performance.now() - fetchedAt < ms;

  const reload = (): Promise<void> => {
    if (pending !== undefined) return pending;
    // The timeout covers the whole load, body included: the signal stays armed until load settles.
    const timeout = timeoutSignal(timing.timeoutMs);
    pending = load(timeout.signal)
      .then((jwks) => {
        local = createLocalJWKSet(jwks);
        fetchedAt = performance.now();
      })
      .finally(() => {
        timeout.cancel();
        pending = undefined;
      });
    return pending;
  };

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (local === undefined || !youngerThan(timing.cacheMaxAgeMs)) await reload();
    try {
      return await local!(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && !youngerThan(timing.cooldownMs)) {
        await reload();
        return local!(header, token);
      }
      throw error;
    }
  };

  return Object.defineProperties(getKey, {
    fresh: { get: () => youngerThan(timing.cacheMaxAgeMs) },
    due: {
      get: () =>
        pending === undefined &&
        youngerThan(timing.cacheMaxAgeMs) &&
        !youngerThan(timing.cacheMaxAgeMs * REFRESH_AHEAD_SHARE),
    },
    reload: { value: reload },
  }) as RemoteJwksSet;
}
