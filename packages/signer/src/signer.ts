import {
  containedLogger,
  DEFAULT_SIGNER_TTL_SECONDS,
  isStorableText,
  type Logger,
  MAX_JTI_LENGTH,
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
import { encodedHeader, payloadEncoder } from './token-encoding.js';
import {
  requireFunction,
  requireInteger,
  requireIssuer,
  requireKid,
  requireNonEmptyString,
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
  /** Epoch milliseconds (default Date.now). */
  now?: () => number;
  /** jti source (default nanoid()); must return a fresh string of 1..128 characters on every call. */
  jti?: () => string;
  /** KMS keys only: keep tokens signed ahead per (audience, scope). */
  prefetch?: PrefetchOptions;
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
  /** fetch with `Authorization: Bearer <fresh token>` per attempt; logs 401/403 without the token. */
  fetch(url: string | URL, init: RequestInit | undefined, options: SignedFetchOptions): Promise<Response>;
  /** Stops pre-signing and closes a KMS client the signer created itself. */
  close(): Promise<void>;
}

const MAX_PREFETCH_SIZE = 1000;

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
  deps: Pick<ConstructorParameters<typeof PrefetchPool>[0], 'mint' | 'nowSeconds' | 'logger' | 'onTake'>,
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
  const subject = requireNonEmptyString(options.subject, 'subject');
  const audience = requireNonEmptyString(options.audience, 'audience');
  const ttl = requireTtl(options.ttlSeconds ?? DEFAULT_SIGNER_TTL_SECONDS, 'ttlSeconds');
  const now = requireFunction<() => number>(options.now ?? Date.now, 'now');
  const nextJti = requireFunction<() => string>(options.jti ?? nanoid, 'jti');
  const given = options.logger ?? stderrLogger;
  if (typeof given?.warn !== 'function' || typeof given.info !== 'function') {
    throw new SignerConfigError('logger', 'must have info(obj, msg) and warn(obj, msg)');
  }
  const logger = containedLogger(given);
  const telemetry = signerTelemetry(options.metrics);
  const key = createKey(options.key, telemetry);

  const header = encodedHeader(key.alg, key.kid);
  const encodePayload = payloadEncoder(issuer, subject);
  const defaultAudJson = JSON.stringify(audience);

  const nowSeconds = (): number => {
    const ms = now();
    if (typeof ms !== 'number' || !Number.isFinite(ms))
      throw new SignRequestError('now', 'must return epoch milliseconds');
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
      !isStorableText(jti)
    ) {
      throw new SignRequestError(
        'jti',
        `must return a string of 1 to ${MAX_JTI_LENGTH} UTF-8 bytes without U+0000`,
      );
    }
    const input = `${header}.${encodePayload(audJson, iat, exp, scope, jti)}`;
    const signature = await key.sign(Buffer.from(input, 'latin1'));
    return { token: `${input}.${signature.toString('base64url')}`, exp };
  };

  const pool = createPool(options.prefetch, key, ttl, {
    mint: (aud, scope) => mint(JSON.stringify(aud), scope),
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
    const aud = request.audience === undefined ? audience : requireAudience(request.audience);
    const pooled = pool?.take(aud, scope);
    if (pooled) return pooled;
    return (await mint(aud === audience ? defaultAudJson : JSON.stringify(aud), scope)).token;
  };
  // Without a sink, sign() is the untimed function itself: no clock read, no extra frame.
  const sign = telemetry ? timed(signUntimed, telemetry) : signUntimed;

  const signer: Signer = {
    kid: key.kid,
    alg: key.alg,
    sign,
    jwks: async () => ({ keys: [await key.publicJwk()] }),
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

function requireAudience(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SignRequestError('audience', 'must be a non-empty string');
  }
  return value;
}
