import type { UnavailableCause } from '@hyper/s2s-contracts';
import { withDeadline } from '@hyper/s2s-contracts';
import { errors, type JSONWebKeySet } from 'jose';
import { secondsSince } from '../metrics.js';
import type { JwksFetchOutcome, Observer } from '../observe.js';
import { importAll } from './import.js';
import type { KeyInfo } from './jwk-policy.js';
import { checkFetchedKeySet } from './keyset.js';
import { remoteJwksSet } from './remote-jwks-set.js';
import {
  type KeySource,
  type KeysHealth,
  KeysUnavailableError,
  type KeysWarmup,
  type RefreshReport,
} from './source.js';

export interface RemoteKeySettings {
  readonly url: URL;
  /** Abort a JWKS request after this long (jose timeoutDuration). */
  readonly timeoutMs: number;
  /** Refetch once the keyset is this old (jose cacheMaxAge). */
  readonly cacheMaxAgeMs: number;
  /** After a fetch, an unknown kid is answered from the cache for this long (jose cooldownDuration). */
  readonly cooldownMs: number;
  /** After a failed fetch, do not try again for this long: no fetch storm against a struggling endpoint. */
  readonly failureBackoffMs: number;
}

/** Beyond the fetch timeout, time a forced refresh allows for reading and checking the body. */
const REFRESH_MARGIN_MS = 1000;

/** A JWKS is a few kilobytes; a response larger than this is not one. */
export const MAX_JWKS_BYTES = 256 * 1024;

class FetchFailure extends Error {
  readonly outcome: JwksFetchOutcome;
  /** http_status only: the status the endpoint answered. */
  readonly status: number | undefined;
  /** invalid_keyset only: the keyset check's problem (fixed text, never the document's). */
  readonly problem: string | undefined;

  constructor(outcome: JwksFetchOutcome, status?: number, problem?: string) {
    super(outcome);
    this.outcome = outcome;
    this.status = status;
    this.problem = problem;
  }
}

// A system error code (ENOTFOUND, ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, CERT_HAS_EXPIRED …).
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * What an operator needs to tell a wrong URL from a down endpoint: the HTTP status, or the network
 * error's code (fetch wraps it as `cause`). Never a message: it could quote the response.
 */
function failureDetail(error: unknown): { status?: number; code?: string } {
  if (error instanceof FetchFailure) return error.status === undefined ? {} : { status: error.status };
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof code === 'string' && ERROR_CODE.test(code) ? { code } : {};
}

/**
 * The warmup error's detail (`HTTP 404 from https://host/path`): what failed and where, so a startup
 * failure tells a wrong URL from a down endpoint without the logs. `where` is origin and path only.
 */
function failureText(error: unknown, outcome: JwksFetchOutcome, timeoutMs: number, where: string): string {
  const { status, code } = failureDetail(error);
  let what: string;
  if (status !== undefined) what = `HTTP ${status}`;
  else if (code !== undefined) what = code;
  else if (outcome === 'timeout') what = `no answer within ${timeoutMs} ms`;
  else if (outcome === 'too_large') what = `a body over ${MAX_JWKS_BYTES} bytes`;
  else if (outcome === 'invalid_json') what = 'a body that is not UTF-8 JSON';
  else if (error instanceof FetchFailure && error.problem !== undefined) what = error.problem;
  else what = 'a failed request'; // no status, no error code: nothing more to say
  return `${what} from ${where}`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

async function readCapped(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_JWKS_BYTES) {
    await response.body?.cancel();
    throw new FetchFailure('too_large');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body !== null) {
    const reader = response.body.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength;
      if (size > MAX_JWKS_BYTES) {
        await reader.cancel();
        throw new FetchFailure('too_large');
      }
      chunks.push(read.value);
    }
  }
  try {
    return strictUtf8.decode(Buffer.concat(chunks));
  } catch {
    throw new FetchFailure('invalid_json');
  }
}

const CAUSE_OF_OUTCOME: Readonly<Record<Exclude<JwksFetchOutcome, 'ok'>, UnavailableCause>> = {
  timeout: 'timeout',
  network: 'unreachable',
  http_status: 'http_status',
  too_large: 'invalid_body',
  invalid_json: 'invalid_body',
  invalid_keyset: 'invalid_body',
};

function outcomeOf(error: unknown): JwksFetchOutcome {
  if (error instanceof FetchFailure) return error.outcome;
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
}

const REQUEST_HEADERS = { accept: 'application/json, application/jwk-set+json' };

/** A background fetch's failure is already counted and logged by `load`. */
function ignoreFailure(): void {}

/**
 * Remote JWKS through remoteJwksSet (jose's remote semantics on the monotonic clock: shared in-flight
 * fetches, cache max age, unknown-kid cooldown, timeout). Every response passes through `load`, which
 * enforces the keyset policy jose does not (public keys only, algorithm fit, size cap), counts fetches
 * and backs off on failure.
 */
export function remoteKeySource(
  settings: RemoteKeySettings,
  observer: Observer,
  warnTestKeys: (jwks: unknown) => void = () => undefined,
): KeySource {
  let index = new Map<string, KeyInfo>();
  // performance.now() based: a wall-clock step must not stretch or skip the backoff.
  let retryAt = Number.NEGATIVE_INFINITY;
  // Why the last fetch failed: stands for every refusal within the backoff, and for health().
  let lastCause: UnavailableCause = 'error';
  let lastDetail: string | undefined;
  // Origin and path: the URL's userinfo and query may hold credentials and are never logged or thrown.
  const where = `${settings.url.origin}${settings.url.pathname}`;

  const load = async (signal: AbortSignal): Promise<JSONWebKeySet> => {
    // Within the backoff the previous failure stands: fail fast without touching the network.
    if (performance.now() < retryAt) throw new KeysUnavailableError(lastCause, lastDetail);
    const started = performance.now();
    try {
      const response = await fetch(settings.url, {
        method: 'GET',
        signal,
        redirect: 'manual',
        headers: REQUEST_HEADERS,
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new FetchFailure('http_status', response.status);
      }
      let json: unknown;
      const text = await readCapped(response);
      try {
        json = JSON.parse(text);
      } catch {
        throw new FetchFailure('invalid_json');
      }
      const checked = checkFetchedKeySet(json);
      for (const skipped of checked.skipped ?? []) {
        observer.warn({ event: 's2s_jwks_key_skipped', jwks: where, ...skipped }, 'JWKS key skipped');
      }
      if (!checked.ok) {
        observer.warn({ event: 's2s_jwks_refused', jwks: where, problem: checked.problem }, 'JWKS refused');
        throw new FetchFailure('invalid_keyset', undefined, checked.problem);
      }
      warnTestKeys(checked.jwks);
      index = checked.index;
      retryAt = Number.NEGATIVE_INFINITY;
      observer.jwksFetch('ok', secondsSince(started));
      observer.info({ event: 's2s_jwks_fetched', jwks: where, kids: [...index.keys()] }, 'JWKS fetched');
      return checked.jwks as JSONWebKeySet;
    } catch (error) {
      const outcome = outcomeOf(error);
      const cause = outcome === 'ok' ? 'error' : CAUSE_OF_OUTCOME[outcome];
      retryAt = performance.now() + settings.failureBackoffMs;
      lastCause = cause;
      lastDetail = failureText(error, outcome, settings.timeoutMs, where);
      observer.jwksFetch(outcome, secondsSince(started));
      observer.warn(
        { event: 's2s_jwks_fetch_failed', jwks: where, outcome, cause, ...failureDetail(error) },
        'JWKS fetch failed',
      );
      throw new KeysUnavailableError(cause, lastDetail);
    }
  };

  const remote = remoteJwksSet(load, settings);

  // Refetch ahead of expiry (REFRESH_AHEAD_SHARE), at most once per failure backoff: `load` counts and
  // logs a failure, and the cached keys stand until they expire.
  const refreshAhead = (): void => {
    if (remote.due && performance.now() >= retryAt) remote.reload().catch(ignoreFailure);
  };

  /** Undefined when the keyset is fresh, else why it could not be refreshed. */
  const refresh = async (): Promise<{ cause: UnavailableCause; detail?: string } | undefined> => {
    try {
      await remote.reload();
    } catch (error) {
      if (!(error instanceof KeysUnavailableError)) return { cause: 'error' };
      return error.detail === undefined
        ? { cause: error.unavailableCause }
        : { cause: error.unavailableCause, detail: error.detail };
    }
    return remote.fresh ? undefined : { cause: 'error' };
  };

  // verifier.refreshKeys(): a fetch now, whatever the cache age. jose's reload() joins a fetch already in
  // flight, and so does a second refreshKeys() while this one runs: an operator script in a loop cannot
  // stampede the JWKS endpoint. Bounded by the fetch timeout on a timer (monotonic), plus a margin for
  // reading and checking the body; on failure the cached keys stand and the report says so.
  let refreshing: Promise<RefreshReport> | undefined;
  const forcedRefresh = (): Promise<RefreshReport> => {
    refreshing ??= (async (): Promise<RefreshReport> => {
      let refreshed = true;
      try {
        await withDeadline(
          remote.reload(),
          settings.timeoutMs + REFRESH_MARGIN_MS,
          () => new Error('JWKS refresh timed out'),
        );
      } catch {
        refreshed = false;
      }
      const kids = [...index.keys()].sort();
      const report = { refreshed, keys: kids.length > 0, kids };
      observer[refreshed ? 'info' : 'warn'](
        { event: 's2s_jwks_refresh', jwks: where, ...report },
        refreshed ? 'JWKS refreshed on request' : 'JWKS refresh failed; cached keys stand',
      );
      return report;
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  return {
    refreshable: true,
    // Only a fresh cache answers without I/O; a stale one must be refetched before it decides anything.
    lookup: (kid) => {
      if (!remote.fresh) return undefined;
      refreshAhead();
      return index.get(kid);
    },
    resolve: async (header, token) => {
      refreshAhead();
      try {
        return await remote(header, token);
      } catch (error) {
        if (error instanceof errors.JWKSNoMatchingKey) throw error;
        // Fetch failed, timed out, was refused, or no fetch allowed yet: no usable key (fail closed).
        throw error instanceof KeysUnavailableError ? error : new KeysUnavailableError('error');
      }
    },
    warmup: async (): Promise<KeysWarmup> => {
      const failed = remote.fresh ? undefined : await refresh();
      if (failed !== undefined) return { keys: false, kids: [], ...failed };
      const kids = await importAll(remote, index.values());
      return kids.length > 0
        ? { keys: true, kids }
        : { keys: false, kids, cause: 'invalid_body', detail: `no key imported from ${where}` };
    },
    healthy: async (): Promise<KeysHealth> => {
      const failed = remote.fresh ? undefined : await refresh();
      if (failed !== undefined) return { ok: false, cause: failed.cause };
      return index.size > 0 ? { ok: true } : { ok: false, cause: 'invalid_body' };
    },
    refresh: () => forcedRefresh(),
  };
}
