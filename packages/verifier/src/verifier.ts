import { type Claims, MAX_JTI_LENGTH, MAX_KID_LENGTH } from '@hyper/s2s-contracts';
import { jwtVerify } from 'jose';
import { bounded, Deadline } from './bounded.js';
import { type CallContext, callContext, type VerifyOptions } from './call.js';
import { type ClaimPolicy, checkClaimPolicy, checkClaimTypes } from './claims.js';
import { type DecodedToken, decodeCompact, VerifiedHeaders } from './compact.js';
import { VerifierUsageError } from './errors.js';
import { checkHeader } from './header.js';
import { isClaimError, reasonForJoseClaimError, reasonForJoseError } from './jose-errors.js';
import { remoteKeySource } from './keys/remote.js';
import type { KeySource, KeysReport } from './keys/source.js';
import { staticKeySource } from './keys/static.js';
import { Observer, type RejectionFacts } from './observe.js';
import { type ResolvedOptions, resolveOptions, type VerifierOptions } from './options.js';
import { failure, success, type VerifyResult } from './result.js';
import { grantsAll } from './scope.js';

export type WarmupReport = KeysReport;

export interface HealthReport {
  /** At least one usable key is loaded (for a JWKS URL: fetched and within its cache age). */
  readonly keys: boolean;
  /** The replay store answered its health probe in time (true when the store has no probe). */
  readonly replayStore: boolean;
}

export interface Verifier {
  /**
   * Verifies a compact JWT for an endpoint. Never throws for anything in `token`; rejects only for
   * programmer error in `options` (VerifierUsageError).
   */
  verify(token: unknown, options: VerifyOptions): Promise<VerifyResult>;
  /** Loads and imports keys ahead of traffic; an unreachable JWKS is reported, never thrown. */
  warmup(): Promise<WarmupReport>;
  /** For readiness probes; never rejects. */
  health(): Promise<HealthReport>;
}

// Logged claim values are the token sender's text: cap them like the longest contract string claim.
const MAX_LOGGED_CLAIM_LENGTH = MAX_JTI_LENGTH;
const LOGGED_CLAIMS = ['iss', 'sub', 'jti'] as const;

function factsOf(decoded: DecodedToken | undefined): RejectionFacts | undefined {
  if (decoded === undefined) return undefined;
  const facts: RejectionFacts = {};
  const { kid } = decoded.header;
  if (typeof kid === 'string' && kid.length <= MAX_KID_LENGTH) facts.kid = kid;
  for (const name of LOGGED_CLAIMS) {
    const value = decoded.payload[name];
    if (typeof value === 'string') facts[name] = value.slice(0, MAX_LOGGED_CLAIM_LENGTH);
  }
  return facts;
}

/** Per-call scratch: what verification got to, for the rejection log. */
interface Attempt {
  decoded?: DecodedToken;
}

/**
 * One class rather than closures per createVerifier: every instance shares the same optimised code,
 * so a verifier created per tenant, per test or per benchmark round starts warm.
 */
class S2sVerifier implements Verifier {
  readonly #config: ResolvedOptions;
  readonly #observer: Observer;
  readonly #keys: KeySource;
  readonly #allowed: ReadonlySet<string>;
  readonly #policy: ClaimPolicy;
  readonly #joseAlgorithms: string[];
  readonly #joseIssuers: string[];
  readonly #replayDeadline: Deadline;
  readonly #verifiedHeaders = new VerifiedHeaders();

  constructor(options: VerifierOptions) {
    const config = resolveOptions(options);
    this.#config = config;
    this.#observer = new Observer(config.metrics, config.logger);
    this.#keys =
      'remote' in config.keys
        ? remoteKeySource(config.keys.remote, this.#observer)
        : staticKeySource(config.keys.jwks, 'keys.jwks');
    this.#allowed = new Set(config.algorithms);
    this.#policy = {
      issuers: config.issuers,
      audience: config.audience,
      clockToleranceSeconds: config.clockToleranceSeconds,
      maxTtlSeconds: config.maxTtlSeconds,
    };
    // jose enforces its share as well (defence in depth): algorithm allow-list, iss, aud, exp, nbf.
    // With the same skew and `now` it never rejects a token these rules accept.
    this.#joseAlgorithms = [...config.algorithms];
    this.#joseIssuers = [...config.issuers];
    this.#replayDeadline = new Deadline(config.replayTimeoutMs, () => new Error('replay store timed out'));
  }

  async verify(token: unknown, verifyOptions: VerifyOptions): Promise<VerifyResult> {
    const call = callContext(verifyOptions);
    const nowMs = this.#config.now();
    if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) {
      throw new VerifierUsageError('now() must return epoch milliseconds');
    }
    const attempt: Attempt = {};
    const observer = this.#observer;
    let result: VerifyResult;
    try {
      result = await this.#evaluate(token, call, nowMs, attempt);
    } catch (error) {
      // Not reachable by design; if it is, fail closed without echoing anything from the error.
      observer.warn({ event: 's2s_verify_internal_error', error: (error as Error)?.name }, 'verify failed');
      result = failure('malformed_token');
    }
    observer.authResult(
      result.status,
      result.reason,
      call.path,
      call.scopeLabel,
      result.ok || !observer.logging ? undefined : factsOf(attempt.decoded),
    );
    return result;
  }

  async #evaluate(token: unknown, call: CallContext, nowMs: number, attempt: Attempt): Promise<VerifyResult> {
    if (token === undefined || token === null || token === '') return failure('missing_token');
    if (typeof token !== 'string') return failure('malformed_token');
    const decoded = decodeCompact(token, this.#verifiedHeaders);
    if (decoded === undefined) return failure('malformed_token');
    attempt.decoded = decoded;

    const headerFailure = checkHeader(decoded.header, this.#allowed);
    if (headerFailure !== undefined) return failure(headerFailure);
    const kid = decoded.header.kid as string;
    const alg = decoded.header.alg as string;
    const keys = this.#keys;
    const known = keys.lookup(kid);
    if (known === undefined && !keys.refreshable) return failure('unknown_kid');
    // A key verifies with its own algorithm only (no RSA key used for ES256, no key alg overridden).
    if (known !== undefined && known.alg !== alg) return failure('invalid_algorithm');

    let joseError: unknown;
    let rejected = false;
    try {
      await jwtVerify(token, known?.key ?? keys.resolve, {
        algorithms: this.#joseAlgorithms,
        issuer: this.#joseIssuers,
        audience: this.#policy.audience,
        clockTolerance: this.#policy.clockToleranceSeconds,
        currentDate: new Date(nowMs),
      });
    } catch (error) {
      rejected = true;
      joseError = error;
    }
    if (rejected && !isClaimError(joseError)) {
      const reason = reasonForJoseError(joseError);
      // A refetched JWKS may hold the kid under another algorithm.
      if (reason === 'unknown_kid' && keys.lookup(kid) !== undefined) return failure('invalid_algorithm');
      return failure(reason);
    }

    // Signature verified: the claims decide, by the contract's rules rather than jose's messages.
    this.#verifiedHeaders.remember(decoded);
    const typeFailure = checkClaimTypes(decoded.payload);
    if (typeFailure !== undefined) return failure(typeFailure);
    const claims = decoded.payload as Claims;
    const policyFailure = checkClaimPolicy(claims, this.#policy, Math.floor(nowMs / 1000));
    if (policyFailure !== undefined) return failure(policyFailure);
    if (rejected) return failure(reasonForJoseClaimError(joseError));

    // Recorded only now (signature and claims valid, scope not yet checked): forged tokens cannot burn
    // jtis, and a 403 token is spent too.
    let fresh: unknown;
    try {
      fresh = await this.#replayDeadline.bound(
        this.#config.replayStore.remember({ iss: claims.iss, jti: claims.jti, exp: claims.exp }),
      );
    } catch {
      return failure('replay_store_unavailable');
    }
    if (typeof fresh !== 'boolean') return failure('replay_store_unavailable');
    if (!fresh) return failure('replayed_token');

    if (!grantsAll(claims.scope, call.scopes)) return failure('insufficient_scope');
    return success(claims);
  }

  async warmup(): Promise<WarmupReport> {
    let report: WarmupReport;
    try {
      report = await this.#keys.warmup();
    } catch {
      report = { keys: false, kids: [] };
    }
    if (report.keys) {
      this.#observer.info({ event: 's2s_keys_ready', kids: report.kids }, 'S2S verification keys ready');
    } else {
      this.#observer.warn({ event: 's2s_keys_unavailable' }, 'S2S verification keys unavailable');
    }
    return report;
  }

  async health(): Promise<HealthReport> {
    const [keys, replayStore] = await Promise.all([
      this.#keys.healthy().catch(() => false),
      this.#replayHealthy(),
    ]);
    return { keys, replayStore };
  }

  async #replayHealthy(): Promise<boolean> {
    const { replayStore, replayTimeoutMs } = this.#config;
    if (typeof replayStore.health !== 'function') return true;
    try {
      return (await bounded(replayStore.health(), replayTimeoutMs)) === true;
    } catch {
      return false;
    }
  }
}

/** Validates the options (VerifierConfigError at startup) and returns a ready verifier. */
export function createVerifier(options: VerifierOptions): Verifier {
  return new S2sVerifier(options);
}
