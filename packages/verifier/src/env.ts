import {
  ConfigProblems,
  ENV,
  type EnvSource,
  FORBIDDEN_ENV,
  type IntegerBounds,
  parseInteger,
  readEnv,
  unknownEnvNames,
} from '@hyper/s2s-contracts';
import { VerifierConfigError } from './errors.js';
import { BOUNDS, type VerifierOptions } from './options.js';
import type { ReplayStore } from './replay/store.js';
import { createVerifier, type Verifier } from './verifier.js';

/** Optional tuning variables read by verifierFromEnv (beyond the contract's ENV names). */
export const TUNING_ENV = {
  algorithms: 'S2S_JWT_ALGORITHMS',
  jwksTimeoutMs: 'S2S_JWKS_TIMEOUT_MS',
  jwksCacheMaxAgeMs: 'S2S_JWKS_CACHE_MAX_AGE_MS',
  jwksCooldownMs: 'S2S_JWKS_COOLDOWN_MS',
  jwksFailureBackoffMs: 'S2S_JWKS_FAILURE_BACKOFF_MS',
  replayTimeoutMs: 'S2S_REPLAY_TIMEOUT_MS',
  warmupRequired: 'S2S_WARMUP_REQUIRED',
} as const;

/** What `verifierFromEnv` reads variables from (`process.env` by default); the contracts' `EnvSource`. */
export type Environment = EnvSource;

export interface VerifierFromEnvOptions extends Partial<Omit<VerifierOptions, 'replayStore'>> {
  replayStore: ReplayStore;
  /** Defaults to process.env. */
  env?: Environment;
}

// Option path prefix -> the variable it came from, so a startup error names what the operator set.
const SOURCES: ReadonlyArray<readonly [string, string]> = [
  ['keys.jwksUrl', ENV.jwksUrl],
  ['keys.jwks', ENV.publicKeysJson],
  ['keys.timeoutMs', TUNING_ENV.jwksTimeoutMs],
  ['keys.cacheMaxAgeMs', TUNING_ENV.jwksCacheMaxAgeMs],
  ['keys.cooldownMs', TUNING_ENV.jwksCooldownMs],
  ['keys.failureBackoffMs', TUNING_ENV.jwksFailureBackoffMs],
  ['audience', ENV.audience],
  ['issuers', ENV.allowedIssuers],
  ['algorithms', TUNING_ENV.algorithms],
  ['replayTimeoutMs', TUNING_ENV.replayTimeoutMs],
  ['warmupRequired', TUNING_ENV.warmupRequired],
];

const S2S_VARIABLE = /^(?:HYPER_)?S2S_/;

/**
 * The families of variables the verifier reads. A name in one of them that it does not read is a typo
 * (S2S_JWKS_CACHE_MAX_AGE for S2S_JWKS_CACHE_MAX_AGE_MS) that would leave the default in force silently.
 * HYPER_S2S_JWT_* is the signer's family (it checks it); of it the verifier judges HYPER_S2S_JWT_PUBLIC_*,
 * where its static keyset lives.
 */
const VERIFIER_PREFIXES = [
  'S2S_JWKS_',
  'S2S_JWT_',
  'S2S_ALLOWED_',
  'S2S_REPLAY_',
  'S2S_WARMUP_',
  'HYPER_S2S_JWT_PUBLIC_',
] as const;
const VERIFIER_VARIABLES: ReadonlySet<string> = new Set([
  ...Object.values(ENV).filter((name) => VERIFIER_PREFIXES.some((prefix) => name.startsWith(prefix))),
  ...Object.values(TUNING_ENV),
]);

/** A variable with no default: a blank value is reported as such, not as "unset it". */
const REQUIRED = { required: true } as const;
const HMAC_ALGORITHM = /^HS\d+$/i;

/** The shared rule (contracts `readEnv`): unset is undefined, set but blank is an error. */
function present(
  env: Environment,
  name: string,
  options?: { readonly required?: boolean },
): string | undefined {
  const read = readEnv(env, name, options);
  if (!read.ok) throw new VerifierConfigError(name, read.problem);
  return read.value;
}

function list(
  env: Environment,
  name: string,
  options?: { readonly required?: boolean },
): string[] | undefined {
  const value = present(env, name, options);
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new VerifierConfigError(name, 'has an empty entry');
  return items;
}

function boolean(env: Environment, name: string): boolean | undefined {
  const value = present(env, name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw new VerifierConfigError(name, 'must be true or false');
  return value === 'true';
}

function milliseconds(env: Environment, name: string, bounds: IntegerBounds): number | undefined {
  const value = present(env, name);
  if (value === undefined) return undefined;
  // The option's own bounds: the message states the range the value will be held to.
  const ms = parseInteger(value, bounds);
  if (!ms.ok) throw new VerifierConfigError(name, `${ms.problem} (milliseconds)`);
  return ms.value;
}

/** ADR 0031: the open mode, the shared secret and HMAC are gone; any trace of them stops startup. */
function refuseLegacy(env: Environment): void {
  for (const name of FORBIDDEN_ENV) {
    if (env[name] !== undefined) {
      throw new VerifierConfigError(name, 'must not be set: ADR 0031 removed open mode and shared secrets');
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !S2S_VARIABLE.test(name)) continue;
    if (value.split(',').some((item) => HMAC_ALGORITHM.test(item.trim()))) {
      throw new VerifierConfigError(name, 'names an HMAC algorithm: ADR 0031 allows RS256/ES256 only');
    }
  }
}

/** The JWKS URL's fetch settings: option name -> the variable it is read from. */
const JWKS_TUNING = {
  timeoutMs: TUNING_ENV.jwksTimeoutMs,
  cacheMaxAgeMs: TUNING_ENV.jwksCacheMaxAgeMs,
  cooldownMs: TUNING_ENV.jwksCooldownMs,
  failureBackoffMs: TUNING_ENV.jwksFailureBackoffMs,
} as const;

function keysFromEnv(env: Environment): VerifierOptions['keys'] {
  const url = present(env, ENV.jwksUrl);
  const json = present(env, ENV.publicKeysJson);
  if ((url === undefined) === (json === undefined)) {
    throw new VerifierConfigError(
      ENV.jwksUrl,
      `set exactly one of ${ENV.jwksUrl} and ${ENV.publicKeysJson} (${url === undefined ? 'neither is set' : 'both are set'})`,
    );
  }
  if (json !== undefined) {
    // The fetch settings of a JWKS URL do nothing with a static keyset: set, they are a mistake to say.
    const idle = Object.values(JWKS_TUNING).filter((name) => env[name] !== undefined);
    if (idle.length > 0) {
      throw new VerifierConfigError(
        idle[0]!,
        `applies to ${ENV.jwksUrl} only; ${ENV.publicKeysJson} is a static keyset, never fetched (unset ${idle.join(', ')})`,
      );
    }
    try {
      return { jwks: JSON.parse(json) };
    } catch {
      // A file path is the likely mistake: say what the value must be.
      throw new VerifierConfigError(
        ENV.publicKeysJson,
        'is not valid JSON: pass the JWK Set text itself ({"keys":[...]}), not a file path',
      );
    }
  }
  const keys: Record<string, unknown> = { jwksUrl: url };
  for (const [option, name] of Object.entries(JWKS_TUNING) as [keyof typeof JWKS_TUNING, string][]) {
    const value = milliseconds(env, name, BOUNDS[option]);
    if (value !== undefined) keys[option] = value;
  }
  return keys as unknown as VerifierOptions['keys'];
}

/** One audience: a comma means a list was meant, and every token would be invalid_audience. */
function audienceFromEnv(env: Environment): string {
  const audience = required(present(env, ENV.audience, REQUIRED), ENV.audience);
  if (audience.includes(',')) {
    throw new VerifierConfigError(
      ENV.audience,
      "is one audience, this Core's own name: it must not hold a comma",
    );
  }
  return audience;
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new VerifierConfigError(name, 'is required');
  return value;
}

function renamed(error: VerifierConfigError): VerifierConfigError {
  for (const [prefix, variable] of SOURCES) {
    if (
      error.field === prefix ||
      error.field.startsWith(`${prefix}.`) ||
      error.field.startsWith(`${prefix}[`)
    ) {
      const detail = error.message.slice(error.field.length + 2);
      const inner = error.field.slice(prefix.length);
      return new VerifierConfigError(variable, inner ? `${inner.replace(/^\./, '')}: ${detail}` : detail);
    }
  }
  return error;
}

/**
 * Builds a verifier from the environment (ADR 0031): exactly one of S2S_JWKS_URL and
 * HYPER_S2S_JWT_PUBLIC_KEYS_JSON, S2S_JWT_AUDIENCE, S2S_ALLOWED_ISSUERS (comma-separated), optional
 * TUNING_ENV variables. Explicit options override the environment. Throws VerifierConfigError naming
 * the variable at fault.
 *
 * @example
 * ```ts
 * import { pgReplayStore, verifierFromEnv } from '@hyper/s2s-verifier';
 * import pg from 'pg';
 *
 * // S2S_JWKS_URL (or HYPER_S2S_JWT_PUBLIC_KEYS_JSON), S2S_JWT_AUDIENCE, S2S_ALLOWED_ISSUERS from process.env
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.warn('idle postgres client error', err.message)); // a restart must not crash the process
 * const verifier = verifierFromEnv({ replayStore: pgReplayStore({ db: pool }) });
 * console.log(await verifier.warmup()); // { keys: true, kids: ['lite-2026-03'] }
 * ```
 */
export function verifierFromEnv(options: VerifierFromEnvOptions): Verifier {
  const { env = process.env, ...overrides } = options;
  refuseLegacy(env);
  // Every variable is read before any error is thrown, so one deploy shows every variable that is
  // missing or does not parse (checks made when the verifier is built still stop at the first).
  const problems = new ConfigProblems(
    (error): error is VerifierConfigError => error instanceof VerifierConfigError,
    (field, problem) => new VerifierConfigError(field, problem),
  );
  const read = <T>(reader: () => T) => problems.read(reader);
  const fromEnv: Record<string, unknown> = {};
  const algorithms = read(() => list(env, TUNING_ENV.algorithms));
  const replayTimeoutMs = read(() => milliseconds(env, TUNING_ENV.replayTimeoutMs, BOUNDS.replayTimeoutMs));
  const warmupRequired = read(() => boolean(env, TUNING_ENV.warmupRequired));
  if (overrides.keys === undefined) fromEnv.keys = read(() => keysFromEnv(env));
  if (overrides.audience === undefined) fromEnv.audience = read(() => audienceFromEnv(env));
  if (overrides.issuers === undefined) {
    fromEnv.issuers = read(() => required(list(env, ENV.allowedIssuers, REQUIRED), ENV.allowedIssuers));
  }
  for (const name of unknownEnvNames(env, VERIFIER_PREFIXES, VERIFIER_VARIABLES)) {
    problems.add(
      new VerifierConfigError(
        name,
        `is not a variable the verifier reads (a typo?); known: ${[...VERIFIER_VARIABLES].sort().join(', ')}`,
      ),
    );
  }
  problems.throwIfAny();
  if (algorithms !== undefined) fromEnv.algorithms = algorithms;
  if (replayTimeoutMs !== undefined) fromEnv.replayTimeoutMs = replayTimeoutMs;
  if (warmupRequired !== undefined) fromEnv.warmupRequired = warmupRequired;
  const merged: Record<string, unknown> = { ...fromEnv };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) merged[name] = value;
  try {
    const verifier = createVerifier(merged as unknown as VerifierOptions);
    if (fromEnv.keys === undefined) return verifier;
    // warmup({ required }) names the key setting: from here, the variable the keys came from.
    return {
      verify: (token, verifyOptions) => verifier.verify(token, verifyOptions),
      health: () => verifier.health(),
      refreshKeys: () => verifier.refreshKeys(),
      warmup: (warmupOptions) =>
        verifier.warmup(warmupOptions).catch((error: unknown) => {
          throw error instanceof VerifierConfigError ? renamed(error) : error;
        }),
    };
  } catch (error) {
    throw error instanceof VerifierConfigError &&
      merged[topLevel(error.field)] === fromEnv[topLevel(error.field)]
      ? renamed(error)
      : error;
  }
}

function topLevel(field: string): string {
  return field.split(/[.[]/)[0] ?? field;
}
