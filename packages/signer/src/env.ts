import {
  ConfigProblems,
  ENV,
  type EnvSource,
  FORBIDDEN_ENV,
  type Logger,
  MAX_TTL_SECONDS,
  parseInteger,
  readEnv,
  type SupportedAlgorithm,
  unknownEnvNames,
} from '@hyper/s2s-contracts';
import { SignerConfigError } from './errors.js';
import type { KmsClient } from './kms/client-types.js';
import type { SignerMetricsSink } from './metrics.js';
import type { PrefetchOptions } from './prefetch-pool.js';
import { scopeClaim } from './scope.js';
import { createSigner, type Signer, type SignerOptions } from './signer.js';

/** The Lite-side variables beyond key PEM, kid and scope prefix; names come from the contract. */
export const SIGNER_ENV = {
  kmsKeyVersion: ENV.kmsKeyVersion,
  alg: ENV.signerAlgorithm,
  issuer: ENV.signerIssuer,
  subject: ENV.signerSubject,
  audience: ENV.signerAudience,
  ttlSeconds: ENV.signerTtlSeconds,
} as const;

export interface SignerFromEnvOptions {
  /** Defaults to process.env. */
  env?: Environment;
  /** Used with HYPER_S2S_JWT_KMS_KEY_VERSION instead of importing @google-cloud/kms. */
  kmsClient?: KmsClient;
  now?: () => number;
  jti?: () => string;
  prefetch?: PrefetchOptions;
  logger?: Logger;
  /** Sign/KMS latency and pool hits/misses (see SignerOptions.metrics). */
  metrics?: SignerMetricsSink;
}

export interface EnvSigner extends Signer {
  /** Per-operation scopes from HYPER_S2S_JWT_SCOPE_<OPERATION>, keyed by <OPERATION> (e.g. SPACES_CREATE). */
  readonly scopes: Readonly<Record<string, string>>;
}

/** What `signerFromEnv` reads variables from (`process.env` by default); the contracts' `EnvSource`. */
export type Environment = EnvSource;

/** The shared rule (contracts `readEnv`): unset is undefined, set but blank is an error. */
function present(
  env: Environment,
  name: string,
  options?: { readonly required?: boolean },
): string | undefined {
  const read = readEnv(env, name, options);
  if (!read.ok) throw new SignerConfigError(name, read.problem);
  return read.value;
}

function required(env: Environment, name: string): string {
  const value = present(env, name, { required: true });
  if (value === undefined) throw new SignerConfigError(name, 'is required');
  return value;
}

/** The prefix of every variable the SDKs read on the Lite side (and the verifier's static keyset). */
const SDK_PREFIX = 'HYPER_S2S_JWT_';

/**
 * Every HYPER_S2S_JWT_* name an SDK reads (the contract's ENV, which holds the verifier's too, such as
 * HYPER_S2S_JWT_PUBLIC_KEYS_JSON, so one environment can serve both); the scope prefix is matched apart.
 */
const KNOWN_SDK_VARIABLES: ReadonlySet<string> = new Set(
  Object.values(ENV).filter((name) => name.startsWith(SDK_PREFIX) && name !== ENV.scopePrefix),
);

/** A misspelt variable (HYPER_S2S_JWT_TTL) would otherwise be ignored and its default used silently. */
function unknownVariables(env: Environment): SignerConfigError[] {
  return unknownEnvNames(env, [SDK_PREFIX], KNOWN_SDK_VARIABLES, (name) =>
    name.startsWith(ENV.scopePrefix),
  ).map(
    (name) =>
      new SignerConfigError(
        name,
        `is not a variable the S2S SDKs read (a typo?); known: ${[...KNOWN_SDK_VARIABLES].join(', ')}, ${ENV.scopePrefix}<OPERATION>`,
      ),
  );
}

/** .env files often hold a PEM on one line with literal "\n"; restore the line breaks. */
const unescapePem = (pem: string) => (pem.includes('\\n') ? pem.replaceAll('\\n', '\n') : pem);

function parseTtl(env: Environment): number | undefined {
  const raw = present(env, SIGNER_ENV.ttlSeconds);
  if (raw === undefined) return undefined;
  const ttl = parseInteger(raw, { min: 1, max: MAX_TTL_SECONDS });
  if (!ttl.ok) throw new SignerConfigError(SIGNER_ENV.ttlSeconds, `${ttl.problem} (seconds)`);
  return ttl.value;
}

function parseAlg(env: Environment): SupportedAlgorithm | undefined {
  const raw = present(env, SIGNER_ENV.alg);
  if (raw === undefined) return undefined;
  if (raw !== 'RS256' && raw !== 'ES256')
    throw new SignerConfigError(SIGNER_ENV.alg, 'must be RS256 or ES256');
  return raw;
}

function parseScopes(env: Environment): Record<string, string> {
  const scopes: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV.scopePrefix) || value === undefined) continue;
    const operation = name.slice(ENV.scopePrefix.length);
    if (!/^[A-Z0-9_]+$/.test(operation)) {
      throw new SignerConfigError(
        name,
        `the operation after ${ENV.scopePrefix} must be upper-case letters, digits and _`,
      );
    }
    try {
      scopes[operation] = scopeClaim(value);
    } catch (error) {
      throw new SignerConfigError(name, (error as Error).message.replace(/^scope: /, ''));
    }
  }
  return scopes;
}

/** Maps a createSigner field to the variable that fed it, so errors name what the operator sets. */
function renameField(error: unknown, fields: Record<string, string>): unknown {
  if (!(error instanceof SignerConfigError)) return error;
  const variable = Object.entries(fields).find(
    ([field]) => error.field === field || error.field.startsWith(`${field}.`),
  )?.[1];
  if (!variable) return error;
  return new SignerConfigError(variable, error.message.slice(error.field.length + 2), { cause: error });
}

/**
 * A signer configured from the environment: HYPER_S2S_JWT_PRIVATE_KEY_PEM + HYPER_S2S_JWT_KID, or
 * HYPER_S2S_JWT_KMS_KEY_VERSION + HYPER_S2S_JWT_KID; issuer, subject, audience, optional TTL and alg;
 * per-operation scopes from HYPER_S2S_JWT_SCOPE_*. The legacy S2S_JWT_SECRET / S2S_OPEN are refused
 * outright (ADR 0031), even when empty, and so is any other HYPER_S2S_JWT_* variable no SDK reads (a
 * typo would otherwise leave a default in force). Every error names the variable.
 *
 * @example
 * ```ts
 * import { signerFromEnv } from '@hyper/s2s-signer';
 *
 * // HYPER_S2S_JWT_PRIVATE_KEY_PEM (or _KMS_KEY_VERSION), _KID, _ISSUER, _SUBJECT, _AUDIENCE from process.env
 * const signer = signerFromEnv();
 * const res = await signer.fetch(
 *   'https://core.internal/integrations/spaces',
 *   { method: 'POST', body: JSON.stringify({ name: 'demo' }) },
 *   { scope: 'spaces:create' },
 * );
 * ```
 */
export function signerFromEnv(options: SignerFromEnvOptions = {}): EnvSigner {
  const env = options.env ?? process.env;
  for (const name of FORBIDDEN_ENV) {
    if (name in env) {
      throw new SignerConfigError(
        name,
        'is a removed legacy switch (ADR 0031: no shared secret, no open mode); unset it',
      );
    }
  }
  // Every variable is read before any error is thrown, so one deploy shows every variable that is
  // missing or does not parse (checks made when the signer is built still stop at the first).
  const problems = new ConfigProblems(
    (error): error is SignerConfigError => error instanceof SignerConfigError,
    (field, problem) => new SignerConfigError(field, problem),
  );
  const read = <T>(reader: () => T) => problems.read(reader);
  for (const unknown of unknownVariables(env)) problems.add(unknown);
  const pem = present(env, ENV.privateKeyPem);
  const kmsKeyVersion = present(env, SIGNER_ENV.kmsKeyVersion);
  if (pem !== undefined && kmsKeyVersion !== undefined) {
    problems.add(
      new SignerConfigError(ENV.privateKeyPem, `set either it or ${SIGNER_ENV.kmsKeyVersion}, not both`),
    );
  }
  if (pem === undefined && kmsKeyVersion === undefined) {
    problems.add(
      new SignerConfigError(
        ENV.privateKeyPem,
        `is required (or ${SIGNER_ENV.kmsKeyVersion} for a Cloud KMS key)`,
      ),
    );
  }
  const kid = read(() => required(env, ENV.kid));
  const alg = read(() => parseAlg(env));
  const ttlSeconds = read(() => parseTtl(env));
  const issuer = read(() => required(env, SIGNER_ENV.issuer));
  const subject = read(() => required(env, SIGNER_ENV.subject));
  const audience = read(() => required(env, SIGNER_ENV.audience));
  const scopeList = read(() => parseScopes(env));
  problems.throwIfAny();
  const algPart = alg === undefined ? {} : { alg };
  const key: SignerOptions['key'] =
    pem !== undefined
      ? { privateKeyPem: unescapePem(pem), kid: kid!, ...algPart }
      : {
          kms: {
            keyVersionName: kmsKeyVersion!,
            ...(options.kmsClient ? { client: options.kmsClient } : {}),
          },
          kid: kid!,
          ...algPart,
        };
  const signerOptions: SignerOptions = {
    key,
    issuer: issuer!,
    subject: subject!,
    audience: audience!,
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    ...(options.now ? { now: options.now } : {}),
    ...(options.jti ? { jti: options.jti } : {}),
    ...(options.prefetch ? { prefetch: options.prefetch } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
  const scopes = Object.freeze(scopeList!);
  let signer: Signer;
  try {
    signer = createSigner(signerOptions);
  } catch (error) {
    throw renameField(error, {
      'key.privateKeyPem': ENV.privateKeyPem,
      'key.kid': ENV.kid,
      'key.alg': SIGNER_ENV.alg,
      'key.kms': SIGNER_ENV.kmsKeyVersion,
      issuer: SIGNER_ENV.issuer,
      subject: SIGNER_ENV.subject,
      audience: SIGNER_ENV.audience,
      ttlSeconds: SIGNER_ENV.ttlSeconds,
    });
  }
  return Object.assign(signer, { scopes });
}
