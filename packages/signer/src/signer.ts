import {
  containedLogger,
  DEFAULT_SIGNER_TTL_SECONDS,
  isStorableText,
  type Logger,
  MAX_JTI_LENGTH,
  MAX_TOKEN_LENGTH,
  SIGNER_METRIC_NAMES,
  type SupportedAlgorithm,
  utf8Length,
} from '@hyper/s2s-contracts';
import { nanoid } from 'nanoid';
import { SignerClosedError, SignerConfigError, SignRequestError } from './errors.js';
import { createKmsKey, type KmsKeyOptions } from './kms/kms-signing-key.js';
import { type SignerMetricsSink, type SignerTelemetry, signerTelemetry } from './metrics.js';
import { createPemKey, resolveAlgorithm } from './pem-key.js';
import { type MintedToken, type PrefetchOptions, PrefetchPool } from './prefetch-pool.js';
import type { Jwks } from './public-jwk.js';
import { scopeClaim } from './scope.js';
import { type SignedFetchOptions, signedFetch } from './signed-fetch.js';
import type { SigningKey } from './signing-key.js';
import { stderrLogger } from './stderr-logger.js';
import { audienceJsonBudget, encodedHeader, payloadEncoder } from './token-encoding.js';
import {
  claimTextProblem,
  MAX_EPOCH_MS,
  requireClaimText,
  requireFunction,
  requireInteger,
  requireIssuer,
  requireKid,
  requireTtl,
} from './validate.js';

export interface PemKeyConfig {
  /** PKCS#8 (or PKCS#1 / SEC1) private key PEM: RSA of at least 2048 bits, or EC P-256. */
  privateKeyPem: string;
  kid: string;
  /** Defaults to what the key signs: RS256 for RSA, ES256 for P-256. */
  alg?: SupportedAlgorithm;
}

export interface KmsKeyConfig {
  kms: KmsKeyOptions;
  kid: string;
  /** Default RS256 (the contract's algorithm); checked against the key version's algorithm. */
  alg?: SupportedAlgorithm;
}

export interface SignerOptions {
  key: PemKeyConfig | KmsKeyConfig;
  issuer: string;
  subject: string;
  audience: string;
  /** Token lifetime, 1..300 s (default 60). */
  ttlSeconds?: number;
  /** Epoch milliseconds (default Date.now), above 0 and below 2^43; otherwise sign() throws. */
  now?: () => number;
  /**
   * jti source (default nanoid()); must return a fresh string of 1..128 UTF-8 bytes on every call. A
   * value it returned within its last 1024 calls is refused (SignRequestError), never signed.
   */
  jti?: () => string;
  /** KMS keys only: keep tokens signed ahead per scope, for the configured audience (not a per-call one). */
  prefetch?: PrefetchOptions;
  /** Pino-shaped (`info`, `warn`): `signer.fetch` rejections and KMS events. Default: JSON lines on stderr. */
  logger?: Logger;
  /** Sign and KMS latency histograms, pool hits/misses: `prometheusMetrics()` (./prometheus) or `otelMetrics()` (./otel). */
  metrics?: SignerMetricsSink;
}

export interface SignRequest {
  /** One scope string (may hold several, space-separated) or a list of scopes; known scopes only. */
  scope: string | readonly string[];
  /** Overrides the signer's audience for this token. */
  audience?: string;
}

export interface Signer {
  readonly kid: string;
  readonly alg: SupportedAlgorithm;
  /** A new compact JWT with a fresh jti; never cached, never reused. */
  sign(request: SignRequest): Promise<string>;
  /** The public JWKS of this signer's key (no private members). */
  jwks(): Promise<Jwks>;
  /**
   * fetch with `Authorization: Bearer <fresh token>` per attempt; logs 401/403/503 without the token.
   * Redirects are returned to the caller (`redirect: 'manual'`) unless `init.redirect` says otherwise;
   * with `'follow'` each same-origin hop gets a fresh token and no hop after leaving the origin gets one.
   */
  fetch(url: string | URL, init: RequestInit | undefined, options: SignedFetchOptions): Promise<Response>;
  /** Stops pre-signing and closes a KMS client the signer created itself; `sign()` and `jwks()` then reject. */
  close(): Promise<void>;
}

const MAX_PREFETCH_SIZE = 1000;

/** How many of a custom jti()'s latest values a new one must differ from (bounded memory: ≤ 1024 × 128 B). */
const RECENT_JTI_COUNT = 1024;

/**
 * A KMS key's signature size is known only after GetPublicKey, so the token-length budget assumes the
 * largest its algorithm allows: RSA_SIGN_PKCS1_4096_SHA256 (KMS_ALGORITHMS) and P-256's r||s.
 */
const LARGEST_SIGNATURE_BYTES: Readonly<Record<SupportedAlgorithm, number>> = { RS256: 512, ES256: 64 };

/** The last RECENT_JTI_COUNT jtis of a custom source, so a repeating one is caught before it signs. */
class RecentJtis {
  readonly #ring: (string | undefined)[] = new Array(RECENT_JTI_COUNT);
  readonly #seen = new Set<string>();
  #next = 0;

  /** False when `jti` is among the recent ones; otherwise remembers it (forgetting the oldest). */
  add(jti: string): boolean {
    if (this.#seen.has(jti)) return false;
    const oldest = this.#ring[this.#next];
    if (oldest !== undefined) this.#seen.delete(oldest);
    this.#ring[this.#next] = jti;
    this.#next = (this.#next + 1) % RECENT_JTI_COUNT;
    this.#seen.add(jti);
    return true;
  }
}

function createKey(key: unknown, telemetry: SignerTelemetry | undefined): SigningKey {
  if (key === null || typeof key !== 'object') {
    throw new SignerConfigError('key', 'must be { privateKeyPem, kid } or { kms: { keyVersionName }, kid }');
  }
  const k = key as Partial<PemKeyConfig & KmsKeyConfig>;
  const hasPem = 'privateKeyPem' in k;
  const hasKms = 'kms' in k;
  if (hasPem === hasKms) {
    throw new SignerConfigError('key', 'exactly one of key.privateKeyPem or key.kms is required');
  }
  const kid = requireKid(k.kid, 'key.kid');
  if (hasPem) return createPemKey(k.privateKeyPem, kid, k.alg);
  return createKmsKey(k.kms!, kid, resolveAlgorithm(k.alg ?? 'RS256', k.alg), telemetry?.kmsCall);
}

function createPool(
  prefetch: unknown,
  key: SigningKey,
  ttl: number,
  deps: Pick<
    ConstructorParameters<typeof PrefetchPool>[0],
    'audience' | 'mint' | 'nowSeconds' | 'logger' | 'onTake'
  >,
): PrefetchPool | undefined {
  if (prefetch === undefined) return undefined;
  if (!key.remote) {
    throw new SignerConfigError('prefetch', 'pre-signing is for KMS keys; PEM signing is local and fast');
  }
  const p = prefetch as Partial<PrefetchOptions>;
  const size = requireInteger(p?.size, 'prefetch.size', 1, MAX_PREFETCH_SIZE);
  // maxAge must leave the token some life: a pooled token is only served with ttl - maxAge seconds left.
  const maxAge = requireInteger(p?.maxAgeSeconds, 'prefetch.maxAgeSeconds', 1, ttl - 1);
  return new PrefetchPool({ size, minLifeSeconds: ttl - maxAge, ...deps });
}

/**
 * Validates everything up front (typed SignerConfigError naming the field) and returns the signer.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { createSigner } from '@hyper/s2s-signer';
 *
 * const signer = createSigner({
 *   key: { privateKeyPem: readFileSync('lite-2026-03.pem', 'utf8'), kid: 'lite-2026-03' },
 *   issuer: 'hyper-lite',
 *   subject: 'hyper-lite-gateway',
 *   audience: 'hyper-core',
 * });
 * const token = await signer.sign({ scope: 'spaces:create' }); // a fresh jti every call
 * const res = await fetch('https://core.internal/integrations/spaces', {
 *   method: 'POST',
 *   headers: { authorization: `Bearer ${token}` },
 * });
 * ```
 */
export function createSigner(options: SignerOptions): Signer {
  if (options === null || typeof options !== 'object')
    throw new SignerConfigError('options', 'must be an object');
  const issuer = requireIssuer(options.issuer, 'issuer');
  const subject = requireClaimText(options.subject, 'subject');
  const audience = requireClaimText(options.audience, 'audience');
  const ttl = requireTtl(options.ttlSeconds ?? DEFAULT_SIGNER_TTL_SECONDS, 'ttlSeconds');
  const now = requireFunction<() => number>(options.now ?? Date.now, 'now');
  const nextJti = requireFunction<() => string>(options.jti ?? nanoid, 'jti');
  // nanoid's 126 random bits do not repeat; only a custom source is checked (no cost on the default path).
  const recentJtis = options.jti === undefined ? undefined : new RecentJtis();
  const given = options.logger ?? stderrLogger;
  if (typeof given?.warn !== 'function' || typeof given.info !== 'function') {
    throw new SignerConfigError('logger', 'must have info(obj, msg) and warn(obj, msg)');
  }
  const logger = containedLogger(given);
  const telemetry = signerTelemetry(options.metrics);
  const key = createKey(options.key, telemetry);
  // Anyone can sign with a public test key: said at start (stderr by default), as Core's verifier does.
  if (key.publicTestKeyWarning !== undefined) {
    logger.warn({ event: 's2s_public_test_key', kid: key.kid }, key.publicTestKeyWarning);
  }

  const header = encodedHeader(key.alg, key.kid);
  const encodePayload = payloadEncoder(issuer, subject);
  const defaultAudJson = JSON.stringify(audience);
  const audBudget = audienceJsonBudget(
    header,
    issuer,
    subject,
    key.signatureBytes ?? LARGEST_SIGNATURE_BYTES[key.alg],
  );
  if (Buffer.byteLength(defaultAudJson) > audBudget) {
    // Issuer is capped at MAX_ISS_LENGTH; of the two unbounded settings, name the longer.
    const field = JSON.stringify(subject).length > defaultAudJson.length ? 'subject' : 'audience';
    throw new SignerConfigError(
      field,
      `too long: with the issuer, subject and audience given, the largest token this signer can produce (every scope, a ${MAX_JTI_LENGTH}-byte jti) would exceed the contract's MAX_TOKEN_LENGTH of ${MAX_TOKEN_LENGTH}, which Core refuses`,
    );
  }

  const nowSeconds = (): number => {
    const ms = now();
    // Beyond 2^53 `iat + ttl` rounds and exp - iat stops being ttlSeconds; 2^43 is already year 2248.
    if (typeof ms !== 'number' || !(ms > 0 && ms < MAX_EPOCH_MS))
      throw new SignRequestError('now', 'must return epoch milliseconds above 0 and below 2^43');
    return Math.floor(ms / 1000);
  };

  const mint = async (audJson: string, scope: string): Promise<MintedToken> => {
    const iat = nowSeconds();
    const exp = iat + ttl;
    const jti = nextJti();
    // SPEC.md C3: UTF-8 bytes, no U+0000, so Core can record it.
    if (
      typeof jti !== 'string' ||
      jti.length === 0 ||
      utf8Length(jti) > MAX_JTI_LENGTH ||
      !isStorableText(jti) ||
      claimTextProblem(jti) !== undefined
    ) {
      throw new SignRequestError(
        'jti',
        `must return well-formed text of 1 to ${MAX_JTI_LENGTH} UTF-8 bytes without U+0000`,
      );
    }
    if (recentJtis?.add(jti) === false) {
      // Core would refuse every token after the first as replayed_token.
      throw new SignRequestError(
        'jti',
        `returned a value it already returned within its last ${RECENT_JTI_COUNT} calls`,
      );
    }
    const input = `${header}.${encodePayload(audJson, iat, exp, scope, jti)}`;
    const signature = await key.sign(Buffer.from(input, 'latin1'));
    return { token: `${input}.${signature.toString('base64url')}`, iat, exp };
  };

  const pool = createPool(options.prefetch, key, ttl, {
    audience,
    mint: (scope) => mint(defaultAudJson, scope),
    nowSeconds,
    logger,
    onTake: telemetry
      ? (hit) => telemetry.increment(hit ? SIGNER_METRIC_NAMES.poolHits : SIGNER_METRIC_NAMES.poolMisses)
      : undefined,
  });

  let closed = false;

  const signUntimed = async (request: SignRequest): Promise<string> => {
    if (closed) throw new SignerClosedError();
    const scope = scopeClaim(request?.scope);
    if (request.audience === undefined || request.audience === audience) {
      const pooled = pool?.take(scope);
      if (pooled) return pooled;
      return (await mint(defaultAudJson, scope)).token;
    }
    // A per-call audience is signed directly: it never opens a pool lane (background KMS signing).
    return (await mint(audienceJson(request.audience, audBudget), scope)).token;
  };
  // Without a sink, sign() is the untimed function itself: no clock read, no extra frame.
  const sign = telemetry ? timed(signUntimed, telemetry) : signUntimed;

  const signer: Signer = {
    kid: key.kid,
    alg: key.alg,
    sign,
    jwks: async () => {
      // After close() a KMS key would create a client again (its own was closed or never made), one
      // nothing closes.
      if (closed) throw new SignerClosedError();
      return { keys: [await key.publicJwk()] };
    },
    fetch: (url, init, fetchOptions) => signedFetch({ sign, logger, kid: key.kid }, url, init, fetchOptions),
    close: async () => {
      if (closed) return;
      closed = true;
      await pool?.close();
      await key.close();
    },
  };
  return signer;
}

const SIGN_OK = Object.freeze({ outcome: 'ok' });
const SIGN_ERROR = Object.freeze({ outcome: 'error' });

function timed(
  sign: (request: SignRequest) => Promise<string>,
  telemetry: SignerTelemetry,
): (request: SignRequest) => Promise<string> {
  return async (request) => {
    const started = performance.now();
    try {
      const token = await sign(request);
      telemetry.observe(SIGNER_METRIC_NAMES.signDuration, (performance.now() - started) / 1000, SIGN_OK);
      return token;
    } catch (error) {
      telemetry.observe(SIGNER_METRIC_NAMES.signDuration, (performance.now() - started) / 1000, SIGN_ERROR);
      throw error;
    }
  };
}

/** The `aud` JSON of a per-call audience, checked like the configured one (parseable, token fits). */
function audienceJson(value: unknown, budget: number): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SignRequestError('audience', 'must be a non-empty string');
  }
  const problem = claimTextProblem(value);
  if (problem !== undefined) throw new SignRequestError('audience', problem);
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > budget) {
    throw new SignRequestError(
      'audience',
      `too long: at most ${budget} UTF-8 bytes as JSON, or a token could exceed the contract's MAX_TOKEN_LENGTH of ${MAX_TOKEN_LENGTH}`,
    );
  }
  return json;
}
