import type { Logger } from '@hyper/s2s-contracts';
import {
  CLOCK_SKEW_SECONDS,
  DEFAULT_ALGORITHMS,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  type IntegerBounds,
  isStorableText,
  MAX_ISS_LENGTH,
  MAX_TTL_SECONDS,
  MIN_JWKS_COOLDOWN_MS,
  SUPPORTED_ALGORITHMS,
  type SupportedAlgorithm,
  utf8Length,
} from '@hyper/s2s-contracts';
import type { JSONWebKeySet } from 'jose';
import { VerifierConfigError } from './errors.js';
import type { MetricsSink } from './observe.js';
import {
  DEFAULT_REPLAY_TIMEOUT_MS,
  hasMethods,
  integerOption,
  isObject,
  loggerOption,
} from './replay/options.js';
import type { ReplayStore } from './replay/store.js';

/** Remote JWKS (ADR 0031's S2S_JWKS_URL), with bounded fetch behaviour. */
export interface RemoteKeysOptions {
  /** `https:`; plain `http:` only for loopback hosts. */
  jwksUrl: string | URL;
  /** Fetch timeout, default 2000 ms (1..60000). */
  timeoutMs?: number;
  /** Refetch after this age, default 600000 ms (1..86400000). */
  cacheMaxAgeMs?: number;
  /** Unknown kids answered from cache this long after a fetch, default 30000 ms (1000..3600000). */
  cooldownMs?: number;
  /** No refetch this long after a failed fetch, default 1000 ms (0..60000). */
  failureBackoffMs?: number;
}

/** Static public keyset (the contract's HYPER_S2S_JWT_PUBLIC_KEYS_JSON). */
export interface StaticKeysOptions {
  jwks: JSONWebKeySet;
}

export interface VerifierOptions {
  keys: RemoteKeysOptions | StaticKeysOptions;
  /** The `aud` this service accepts. */
  audience: string;
  /** Accepted `iss` values, compared exactly. */
  issuers: readonly string[];
  /** pgReplayStore({ db }) or memoryReplayStore(). */
  replayStore: ReplayStore;
  /** Default ['RS256']; only RS256 and ES256 exist here (ADR 0031: no HS*, no none). */
  algorithms?: readonly SupportedAlgorithm[];
  /** Default 60; the contract's skew is the ceiling. */
  clockToleranceSeconds?: number;
  /** Default 300; the contract's maximum `exp - iat` is the ceiling. */
  maxTtlSeconds?: number;
  /** Bound on one replayStore.remember call, default 1000 ms (1..60000); beyond it: 503. */
  replayTimeoutMs?: number;
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
  /** `warmup()` throws a VerifierConfigError when no key can be loaded (default false). */
  warmupRequired?: boolean;
  metrics?: MetricsSink;
  logger?: Logger;
}

export const DEFAULTS = {
  jwksTimeoutMs: 2000,
  jwksCacheMaxAgeMs: DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  jwksCooldownMs: 30_000,
  jwksFailureBackoffMs: 1000,
  replayTimeoutMs: DEFAULT_REPLAY_TIMEOUT_MS,
} as const;

/** Inclusive bounds of the integer options; `verifierFromEnv` checks its variables against the same. */
export const BOUNDS = {
  timeoutMs: { min: 1, max: 60_000 },
  cacheMaxAgeMs: { min: 1, max: 86_400_000 },
  cooldownMs: { min: MIN_JWKS_COOLDOWN_MS, max: 3_600_000 },
  failureBackoffMs: { min: 0, max: 60_000 },
  replayTimeoutMs: { min: 1, max: 60_000 },
  clockToleranceSeconds: { min: 0, max: CLOCK_SKEW_SECONDS },
  maxTtlSeconds: { min: 1, max: MAX_TTL_SECONDS },
} as const satisfies Record<string, IntegerBounds>;

export type RemoteSettings = {
  readonly url: URL;
  readonly timeoutMs: number;
  readonly cacheMaxAgeMs: number;
  readonly cooldownMs: number;
  readonly failureBackoffMs: number;
};

export interface ResolvedOptions {
  readonly keys: { readonly remote: RemoteSettings } | { readonly jwks: unknown };
  readonly audience: string;
  readonly issuers: ReadonlySet<string>;
  readonly algorithms: readonly SupportedAlgorithm[];
  readonly clockToleranceSeconds: number;
  readonly maxTtlSeconds: number;
  readonly replayTimeoutMs: number;
  readonly replayStore: ReplayStore;
  readonly now: () => number;
  readonly warmupRequired: boolean;
  readonly metrics: MetricsSink | undefined;
  readonly logger: Logger | undefined;
}

const KNOWN_OPTIONS = new Set([
  'keys',
  'audience',
  'issuers',
  'replayStore',
  'algorithms',
  'clockToleranceSeconds',
  'maxTtlSeconds',
  'replayTimeoutMs',
  'now',
  'warmupRequired',
  'metrics',
  'logger',
]);
const KNOWN_REMOTE = new Set(['jwksUrl', 'timeoutMs', 'cacheMaxAgeMs', 'cooldownMs', 'failureBackoffMs']);

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

function rejectUnknown(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  prefix: string,
  elsewhere?: { readonly options: ReadonlySet<string>; readonly problem: string },
): void {
  for (const key of Object.keys(value)) {
    if (known.has(key)) continue;
    // An option of the other key source is a misunderstanding, not a typo: say where it belongs.
    if (elsewhere?.options.has(key)) throw new VerifierConfigError(`${prefix}${key}`, elsewhere.problem);
    // An unknown option is most likely a typo of a security setting; refusing it beats ignoring it.
    throw new VerifierConfigError(`${prefix}${key}`, 'is not a verifier option');
  }
}

function jwksUrl(value: unknown): URL {
  let url: URL;
  try {
    if (!(value instanceof URL) && typeof value !== 'string') throw new TypeError('not a URL');
    url = new URL(value);
  } catch {
    throw new VerifierConfigError('keys.jwksUrl', 'must be an absolute URL');
  }
  // fetch refuses a URL with credentials, so it could never load a key: say so now, not as `unreachable`
  // at every fetch. The credential itself is not echoed.
  if (url.username !== '' || url.password !== '') {
    throw new VerifierConfigError(
      'keys.jwksUrl',
      'must not hold a user name or password (user:pass@host): fetch refuses such URLs; serve the JWKS without credentials',
    );
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && LOOPBACK.test(url.hostname)) return url;
  throw new VerifierConfigError('keys.jwksUrl', 'must use https: (plain http: only for loopback hosts)');
}

function keys(value: unknown): ResolvedOptions['keys'] {
  if (!isObject(value)) throw new VerifierConfigError('keys', 'must be { jwksUrl } or { jwks }');
  const remote = value.jwksUrl !== undefined;
  if (remote === (value.jwks !== undefined)) {
    throw new VerifierConfigError('keys', 'must set exactly one of jwksUrl and jwks');
  }
  if (!remote) {
    rejectUnknown(value, new Set(['jwks']), 'keys.', {
      options: KNOWN_REMOTE,
      problem: 'applies to keys.jwksUrl only: a static keyset (keys.jwks) is never fetched',
    });
    return { jwks: value.jwks };
  }
  rejectUnknown(value, KNOWN_REMOTE, 'keys.');
  const cacheMaxAgeMs = integerOption(
    'keys.cacheMaxAgeMs',
    value.cacheMaxAgeMs,
    BOUNDS.cacheMaxAgeMs,
    DEFAULTS.jwksCacheMaxAgeMs,
  );
  return {
    remote: {
      url: jwksUrl(value.jwksUrl),
      timeoutMs: integerOption('keys.timeoutMs', value.timeoutMs, BOUNDS.timeoutMs, DEFAULTS.jwksTimeoutMs),
      cacheMaxAgeMs,
      cooldownMs: integerOption(
        'keys.cooldownMs',
        value.cooldownMs,
        BOUNDS.cooldownMs,
        DEFAULTS.jwksCooldownMs,
      ),
      failureBackoffMs: integerOption(
        'keys.failureBackoffMs',
        value.failureBackoffMs,
        BOUNDS.failureBackoffMs,
        DEFAULTS.jwksFailureBackoffMs,
      ),
    },
  };
}

function algorithms(value: unknown): readonly SupportedAlgorithm[] {
  if (value === undefined) return DEFAULT_ALGORITHMS;
  if (!Array.isArray(value) || value.length === 0) {
    throw new VerifierConfigError('algorithms', 'must be a non-empty list');
  }
  for (const alg of value) {
    if (typeof alg === 'string' && (/^HS/i.test(alg) || alg.toLowerCase() === 'none')) {
      throw new VerifierConfigError('algorithms', `"${alg}" is refused (ADR 0031: no HMAC, no none)`);
    }
    if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new VerifierConfigError('algorithms', `must be a subset of ${SUPPORTED_ALGORITHMS.join(', ')}`);
    }
  }
  return [...new Set(value as SupportedAlgorithm[])];
}

/**
 * Claims are compared exactly: an audience or issuer that is blank or padded with whitespace (a template
 * or secret that filled in badly) would match no token, so every call would answer 401.
 */
const unpadded = (value: string) => value.trim() === value && value !== '';
const UNPADDED = 'must not be blank or start or end with whitespace (claims are compared exactly)';

function issuers(value: unknown): ReadonlySet<string> {
  if (!Array.isArray(value) || value.length === 0) {
    throw new VerifierConfigError('issuers', 'must be a non-empty list of issuer strings');
  }
  for (const issuer of value) {
    if (typeof issuer !== 'string' || issuer.length === 0) {
      throw new VerifierConfigError('issuers', 'every issuer must be a non-empty string');
    }
    if (!unpadded(issuer)) throw new VerifierConfigError('issuers', `every issuer ${UNPADDED}`);
    // An issuer the replay store cannot record would turn every token into a 503 (SPEC.md C3).
    if (utf8Length(issuer) > MAX_ISS_LENGTH || !isStorableText(issuer)) {
      throw new VerifierConfigError(
        'issuers',
        `every issuer must be at most ${MAX_ISS_LENGTH} UTF-8 bytes without U+0000 (the replay store records it)`,
      );
    }
  }
  return new Set(value as string[]);
}

/** Validates createVerifier options; throws VerifierConfigError naming the first field at fault. */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (!isObject(options)) throw new VerifierConfigError('options', 'must be an object');
  rejectUnknown(options, KNOWN_OPTIONS, '');
  const { audience, replayStore, now, metrics, logger } = options;
  const resolvedKeys = keys(options.keys);
  if (typeof audience !== 'string' || audience.length === 0) {
    throw new VerifierConfigError('audience', 'must be a non-empty string');
  }
  if (!unpadded(audience)) throw new VerifierConfigError('audience', UNPADDED);
  const resolvedIssuers = issuers(options.issuers);
  if (!hasMethods(replayStore, ['remember', 'purge'])) {
    throw new VerifierConfigError('replayStore', 'is required: pgReplayStore({ db }) or memoryReplayStore()');
  }
  if (now !== undefined && typeof now !== 'function')
    throw new VerifierConfigError('now', 'must be a function');
  if (options.warmupRequired !== undefined && typeof options.warmupRequired !== 'boolean') {
    throw new VerifierConfigError('warmupRequired', 'must be true or false');
  }
  if (metrics !== undefined && !hasMethods(metrics, ['increment'])) {
    throw new VerifierConfigError('metrics', 'must have increment(name, labels)');
  }
  const sink = loggerOption('logger', logger);
  return {
    keys: resolvedKeys,
    audience,
    issuers: resolvedIssuers,
    algorithms: algorithms(options.algorithms),
    clockToleranceSeconds: integerOption(
      'clockToleranceSeconds',
      options.clockToleranceSeconds,
      BOUNDS.clockToleranceSeconds,
      CLOCK_SKEW_SECONDS,
    ),
    maxTtlSeconds: integerOption(
      'maxTtlSeconds',
      options.maxTtlSeconds,
      BOUNDS.maxTtlSeconds,
      MAX_TTL_SECONDS,
    ),
    replayTimeoutMs: integerOption(
      'replayTimeoutMs',
      options.replayTimeoutMs,
      BOUNDS.replayTimeoutMs,
      DEFAULTS.replayTimeoutMs,
    ),
    replayStore: replayStore as unknown as ReplayStore,
    now: (now as (() => number) | undefined) ?? Date.now,
    warmupRequired: options.warmupRequired === true,
    metrics: metrics as MetricsSink | undefined,
    logger: sink,
  };
}
