import {
  type Claims,
  Deadline,
  ignoreRejection,
  loggableText,
  MAX_LOGGED_TEXT_LENGTH,
  type Reason,
  type UnavailableCause,
  VERIFIER_METRIC_NAMES,
  withDeadline,
} from '@hyper/s2s-contracts';
import { compactVerify } from 'jose';
import { type ClaimPolicy, checkClaimPolicy, checkClaimTypes } from './claims.js';
import { type DecodedHead, type DecodedToken, decodeBody, decodeHead, VerifiedHeaders } from './compact.js';
import { VerifierConfigError, VerifierUsageError } from './errors.js';
import { checkHeader } from './header.js';
import { reasonForJoseError } from './jose-errors.js';
import type { KeyInfo } from './keys/jwk-policy.js';
import { publicTestKeyWarner } from './keys/public-test-keys.js';
import { remoteKeySource } from './keys/remote.js';
import type { KeySource, KeysHealth, KeysReport, RefreshReport } from './keys/source.js';
import { staticKeySource } from './keys/static.js';
import { REMEMBER_LABELS, type RememberOutcome, secondsSince } from './metrics.js';
import { loggableKid, Observer, type RejectionFacts, type TokenFacts } from './observe.js';
import { type ResolvedOptions, resolveOptions, type VerifierOptions } from './options.js';
import { ReplayStoreError } from './replay/errors.js';
import { type ImmediateRemember, immediateRemember } from './replay/memory.js';
import type { ReplayCallOptions, ReplayEntry } from './replay/store.js';
import { type FailureReason, failure, success, type VerifyFailure, type VerifyResult } from './result.js';
import { grantsAll } from './scope.js';
import { unavailableCauseOf } from './unavailable-cause.js';
import { callContext, type VerifyOptions } from './verify-options.js';
import { verifyFinished, verifyStarted } from './verify-telemetry.js';

export type WarmupReport = KeysReport;
export type { RefreshReport };

export interface HealthReport {
  /** At least one usable key is loaded (for a JWKS URL: fetched and within its cache age). */
  readonly keys: boolean;
  /** The replay store answered its health probe in time (true when the store has no probe). */
  readonly replayStore: boolean;
  /** Set when `keys` is false: timeout, unreachable, http_status, invalid_body or error. */
  readonly keysCause?: UnavailableCause;
  /** Set when `replayStore` is false: timeout, unreachable, schema_missing or error. */
  readonly replayStoreCause?: UnavailableCause;
}

export interface WarmupOptions {
  /**
   * Throw a VerifierConfigError (naming the key setting, the cause and, for a JWKS URL, what failed
   * where: `HTTP 404 from https://host/path`) when no key can be loaded, for services that prefer not
   * to start. Default: the verifier's `warmupRequired` option (false).
   */
  readonly required?: boolean;
}

export interface Verifier {
  /**
   * Verifies a compact JWT for an endpoint. Never throws for anything in `token`; rejects only for
   * programmer error in `options` (VerifierUsageError).
   */
  verify(token: unknown, options: VerifyOptions): Promise<VerifyResult>;
  /**
   * Loads and imports keys ahead of traffic; an unreachable JWKS is reported, never thrown, unless
   * `required` (or the `warmupRequired` option) asks for a startup failure.
   */
  warmup(options?: WarmupOptions): Promise<WarmupReport>;
  /** For readiness probes; never rejects. */
  health(): Promise<HealthReport>;
  /**
   * Fetches the JWKS now, whatever the cache age: for an operator who removed a key from the JWKS and
   * cannot wait for the cache to expire. Shares a fetch already in flight, is bounded by the fetch
   * timeout, and never rejects; `refreshed: false` means the fetch failed and the cached keys stand.
   * A static keyset has nothing to fetch (it changes with a redeploy).
   */
  refreshKeys(): Promise<RefreshReport>;
}

const LOGGED_CLAIMS = ['iss', 'sub', 'jti'] as const;

function factsOf(decoded: DecodedToken | undefined, verified: boolean): RejectionFacts | undefined {
  if (decoded === undefined) return undefined;
  const facts: TokenFacts = {};
  const kid = loggableKid(decoded.header.kid);
  if (kid !== undefined) facts.kid = kid;
  for (const name of LOGGED_CLAIMS) {
    const value = decoded.payload[name];
    if (typeof value === 'string') facts[name] = loggableText(value, MAX_LOGGED_TEXT_LENGTH);
  }
  const aud = decoded.payload.aud;
  const audience = Array.isArray(aud) ? aud.filter((item) => typeof item === 'string').join(' ') : aud;
  if (typeof audience === 'string' && audience !== '')
    facts.aud = loggableText(audience, MAX_LOGGED_TEXT_LENGTH);
  if (verified) return facts;
  return Object.keys(facts).length === 0 ? undefined : { unverified: facts };
}

/** The rejections a clock or the TTL decides. */
function isClockReason(reason: Reason): boolean {
  return (
    reason === 'expired_signature' ||
    reason === 'immature_signature' ||
    reason === 'invalid_iat' ||
    reason === 'ttl_exceeded'
  );
}

/**
 * The token's iat, nbf and exp. A clock reason comes from the claim policy, which runs only on claims
 * whose types passed, so each is a finite number here.
 */
function tokenTimes(decoded: DecodedToken | undefined): Pick<RejectionFacts, 'iat' | 'nbf' | 'exp'> {
  if (decoded === undefined) return {};
  const { iat, nbf, exp } = decoded.payload as Claims;
  return { iat, nbf, exp };
}

/** A store's announcement, or undefined; a hint that throws or returns no function is ignored. */
function announce(anticipate: () => () => void): (() => void) | undefined {
  try {
    const done = anticipate();
    return typeof done === 'function' ? done : undefined;
  } catch {
    return undefined;
  }
}

/** Ends a store's announcement; a hint only, so its failure changes no answer. */
function endAnnouncement(done: () => void): void {
  try {
    done();
  } catch {
    // Ignored: the store's own remember still decides.
  }
}

/**
 * One verification's state, handed from step to step of `verify` and read by the rejection log. A class
 * with every field set up front: one object shape for every call. It holds the token's segments (`head`)
 * and a key: the log and the telemetry read named fields of it, never the whole object.
 */
class Attempt {
  /** Why a dependency failed, for a 503. */
  cause: UnavailableCause | undefined = undefined;
  head: DecodedHead | undefined = undefined;
  decoded: DecodedToken | undefined = undefined;
  /** The signature verified: header and claims are the signer's, not just the sender's. */
  verified = false;
  /** The key the header names, when it is known without I/O. */
  known: KeyInfo | undefined = undefined;
  /** jose's signature check, started with an imported key before the payload is parsed. */
  early: Promise<unknown> | undefined = undefined;
  /** A header rule broken, answered once the payload parsed (malformed comes first). */
  headerFailure: FailureReason | undefined = undefined;
  typeFailure: FailureReason | undefined = undefined;
  policyFailure: FailureReason | undefined = undefined;
  /** Ends the store's `anticipate` announcement. */
  announced: (() => void) | undefined = undefined;
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
  readonly #joseVerifyOptions: { readonly algorithms: string[] };
  readonly #replayDeadline: Deadline;
  /** Hands replayTimeoutMs to the store, so the store never gives up before the verifier does. */
  readonly #replayCall: ReplayCallOptions;
  /** Set for a memory store: it answers in the calling tick, so there is no wait to bound. */
  readonly #immediate: ImmediateRemember | undefined;
  readonly #verifiedHeaders = new VerifiedHeaders();
  /** Verifications under way on this verifier (see the yields in verify). */
  #inFlight = 0;
  /** The store's `anticipate` hint, when it has one (read once: replacing it later has no effect). */
  readonly #anticipate: (() => () => void) | undefined;

  constructor(options: VerifierOptions) {
    const config = resolveOptions(options);
    this.#config = config;
    this.#observer = new Observer(config.metrics, config.logger);
    const warnTestKeys = publicTestKeyWarner(this.#observer, config.logger !== undefined);
    if ('remote' in config.keys) {
      this.#keys = remoteKeySource(config.keys.remote, this.#observer, warnTestKeys);
    } else {
      this.#keys = staticKeySource(config.keys.jwks, 'keys.jwks');
      warnTestKeys(config.keys.jwks);
    }
    this.#allowed = new Set(config.algorithms);
    this.#policy = {
      issuers: config.issuers,
      audience: config.audience,
      clockToleranceSeconds: config.clockToleranceSeconds,
      maxTtlSeconds: config.maxTtlSeconds,
    };
    // jose checks the signature with the key's own algorithm from this allow-list (ADR 0031); the
    // claims are decided below on the payload the strict parser already decoded, so jose never
    // base64-decodes and JSON-parses it a second time.
    this.#joseVerifyOptions = { algorithms: [...config.algorithms] };
    this.#replayCall = Object.freeze({ timeoutMs: config.replayTimeoutMs });
    this.#immediate = immediateRemember(config.replayStore);
    const anticipate = config.replayStore.anticipate;
    this.#anticipate = typeof anticipate === 'function' ? anticipate.bind(config.replayStore) : undefined;
    this.#replayDeadline = new Deadline(
      config.replayTimeoutMs,
      () => new ReplayStoreError('ERR_S2S_REPLAY_TIMEOUT', 'replay store timed out'),
    );
  }

  /**
   * The awaits of a verification are all here, one async frame per call; each step between them is
   * synchronous and answers a failure, or undefined to go on.
   */
  async verify(token: unknown, verifyOptions: VerifyOptions): Promise<VerifyResult> {
    const call = callContext(verifyOptions);
    const nowMs = this.#config.now();
    // Number.isFinite is false for anything but a finite number (a string, a bigint, NaN).
    if (!Number.isFinite(nowMs)) {
      throw new VerifierUsageError('now() must return epoch milliseconds');
    }
    const attempt = new Attempt();
    const observer = this.#observer;
    const started = verifyStarted(observer);
    let result: VerifyResult;
    this.#inFlight++;
    try {
      let failed = this.#open(token, attempt);
      if (failed === undefined) {
        // jose reaches the pool two microtask turns after the call (it awaits its key preparation
        // twice): parsing now would run first and delay the RSA job by its own length. Should a jose
        // release take more turns, the parse merely overlaps less; the answers do not depend on it. Only
        // when this is the one verification under way: with others in flight the thread has their work
        // to do while RSA runs, and the two turns per token would be pure cost (they cut throughput at
        // 64 in flight).
        if (attempt.early !== undefined && this.#inFlight === 1) {
          await undefined;
          await undefined;
        }
        failed = this.#judge(nowMs, attempt);
        // A check started early and refused before its answer is needed is never awaited.
        if (failed !== undefined) ignoreRejection(attempt.early);
      }
      if (failed === undefined) {
        // Signature, algorithm and key only: the JWS layer of the same compact token.
        const verification =
          attempt.early ?? compactVerify(token as string, this.#keys.resolve, this.#joseVerifyOptions);
        let refusal: { error: unknown } | undefined;
        try {
          await verification;
        } catch (error) {
          refusal = { error };
        } finally {
          if (attempt.announced !== undefined) endAnnouncement(attempt.announced);
        }
        failed = refusal === undefined ? this.#accept(attempt) : this.#refused(refusal.error, attempt);
      }
      if (failed === undefined) {
        const claims = attempt.decoded!.payload as Claims;
        // Recorded only now (signature and claims valid, scope not yet checked): forged tokens cannot
        // burn jtis, and a 403 token is spent too.
        const rememberStarted = observer.timed ? performance.now() : undefined;
        const entry: ReplayEntry = { iss: claims.iss, jti: claims.jti, exp: claims.exp };
        const store = this.#config.replayStore;
        const immediate = this.#immediate;
        let fresh: unknown;
        try {
          // A memory store's own remember is answered in this tick; anything else, a method replaced
          // on the store included, is asked under the deadline.
          fresh =
            immediate !== undefined && store.remember === immediate.remember
              ? immediate.answer(entry)
              : await this.#replayDeadline.bound(store.remember(entry, this.#replayCall));
        } catch (error) {
          attempt.cause = unavailableCauseOf(error);
        }
        failed = this.#remembered(fresh, rememberStarted, attempt);
        result =
          failed ?? (grantsAll(claims.scope, call.scopes) ? success(claims) : failure('insufficient_scope'));
      } else {
        result = failed;
      }
    } catch (error) {
      // Not reachable by design; if it is, fail closed without echoing anything from the error.
      ignoreRejection(attempt.early);
      observer.warn({ event: 's2s_verify_internal_error', error: (error as Error)?.name }, 'verify failed');
      result = failure('malformed_token');
    } finally {
      this.#inFlight--;
    }
    let facts: RejectionFacts | undefined;
    if (!result.ok && observer.logging) {
      facts = factsOf(attempt.decoded, attempt.verified);
      if (result.status === 503) facts = { ...facts, cause: attempt.cause ?? 'error' };
      // A wrong audience or issuer is a deploy mistake on one side: the line shows both sides.
      else if (result.reason === 'invalid_audience')
        facts = { ...facts, expectedAudience: this.#policy.audience };
      else if (result.reason === 'invalid_issuer')
        facts = { ...facts, allowedIssuers: [...this.#policy.issuers] };
      // A clock or TTL rejection is a skewed clock on one side: the line shows the token's times and this one's.
      else if (isClockReason(result.reason))
        facts = { ...facts, ...tokenTimes(attempt.decoded), now: Math.floor(nowMs / 1000) };
    }
    observer.authResult(result.status, result.reason, call.path, call.scopeLabel, facts);
    if (started !== undefined) verifyFinished(observer, started, result, call, attempt);
    return result;
  }

  /** The token's shape and header, its key looked up, and with an imported key the signature check started. */
  #open(token: unknown, attempt: Attempt): VerifyFailure | undefined {
    if (token === undefined || token === null || token === '') return failure('missing_token');
    if (typeof token !== 'string') return failure('malformed_token');
    const head = decodeHead(token, this.#verifiedHeaders);
    if (head === undefined) return failure('malformed_token');
    attempt.head = head;
    if (!head.headerKnown) {
      const headerFailure = checkHeader(head.header, this.#allowed);
      // Answered once the payload parsed: a malformed token is malformed before its header is judged.
      if (headerFailure !== undefined) {
        attempt.headerFailure = headerFailure;
        return undefined;
      }
    }
    const known = this.#keys.lookup(head.header.kid as string);
    attempt.known = known;
    // With an imported key in hand, the RSA work starts now and runs on libuv's pool while this thread
    // parses and judges the payload; the answers still come in the contract's order (malformed, header,
    // kid, signature, claims), and nothing is remembered before the signature verified. A forger gains
    // no RSA work he could not get with a well-formed payload. Only an imported key starts early: a
    // JWKS URL's key goes through jose's resolver, which refetches a keyset that went stale since
    // lookup, and a malformed token must never trigger a fetch, so there the payload is parsed first.
    if (known?.key !== undefined && known.alg === head.header.alg) {
      attempt.early = compactVerify(token, known.key, this.#joseVerifyOptions);
    }
    return undefined;
  }

  /**
   * The payload parsed and the header, key and claims judged while the signature is checked; claim
   * failures are kept for #accept, answered only once the signature verified.
   */
  #judge(nowMs: number, attempt: Attempt): VerifyFailure | undefined {
    const head = attempt.head!;
    const payload = decodeBody(head);
    if (payload === undefined) return failure('malformed_token');
    const decoded: DecodedToken = {
      header: head.header,
      payload,
      headerSegment: head.headerSegment,
      headerKnown: head.headerKnown,
    };
    attempt.decoded = decoded;
    if (attempt.headerFailure !== undefined) return failure(attempt.headerFailure);
    const known = attempt.known;
    if (known === undefined && !this.#keys.refreshable) return failure('unknown_kid');
    // A key verifies with its own algorithm only (no RSA key used for ES256, no key alg overridden).
    if (known !== undefined && known.alg !== head.header.alg) return failure('invalid_algorithm');

    const typeFailure = checkClaimTypes(payload);
    attempt.typeFailure = typeFailure;
    const policyFailure =
      typeFailure === undefined
        ? checkClaimPolicy(payload as Claims, this.#policy, Math.floor(nowMs / 1000))
        : undefined;
    attempt.policyFailure = policyFailure;
    // Tells a coalescing store this token may be remembered once its signature is checked, so a batch
    // ready meanwhile can wait for it instead of leaving one row short (the store bounds that wait).
    // Only with the key already known: an unknown kid or a stale JWKS would hold the announcement
    // open for a fetch a forger could trigger.
    const anticipate = this.#anticipate;
    if (
      anticipate !== undefined &&
      known !== undefined &&
      typeFailure === undefined &&
      policyFailure === undefined
    ) {
      attempt.announced = announce(anticipate);
    }
    return undefined;
  }

  /** The signature verified: the claims decide, by the contract's rules rather than jose's messages. */
  #accept(attempt: Attempt): VerifyFailure | undefined {
    const decoded = attempt.decoded!;
    if (!decoded.headerKnown) this.#verifiedHeaders.remember(decoded);
    attempt.verified = true;
    if (attempt.typeFailure !== undefined) return failure(attempt.typeFailure);
    if (attempt.policyFailure !== undefined) return failure(attempt.policyFailure);
    return undefined;
  }

  /** jose refused the signature, the key or the keyset: the contract's reason for it. */
  #refused(error: unknown, attempt: Attempt): VerifyFailure {
    const reason = reasonForJoseError(error);
    if (reason === 'jwks_unavailable') attempt.cause = unavailableCauseOf(error);
    // A refetched JWKS may hold the kid under another algorithm.
    if (reason === 'unknown_kid' && this.#keys.lookup(attempt.head!.header.kid as string) !== undefined)
      return failure('invalid_algorithm');
    return failure(reason);
  }

  /** The store's answer, timed when a sink wants it: a failure, or undefined for a first use. */
  #remembered(
    fresh: unknown,
    rememberStarted: number | undefined,
    attempt: Attempt,
  ): VerifyFailure | undefined {
    const remembered: RememberOutcome =
      typeof fresh !== 'boolean' ? 'unavailable' : fresh ? 'fresh' : 'replayed';
    if (rememberStarted !== undefined) {
      this.#observer.observe(
        VERIFIER_METRIC_NAMES.replayRememberDuration,
        secondsSince(rememberStarted),
        REMEMBER_LABELS[remembered],
      );
    }
    if (remembered === 'unavailable') {
      attempt.cause ??= 'error';
      return failure('replay_store_unavailable');
    }
    if (remembered === 'replayed') return failure('replayed_token');
    return undefined;
  }

  async warmup(options?: WarmupOptions): Promise<WarmupReport> {
    let report: WarmupReport;
    let detail: string | undefined;
    try {
      // The detail is for the startup error only; the report keeps its public shape.
      ({ detail, ...report } = await this.#keys.warmup());
    } catch {
      report = { keys: false, kids: [], cause: 'error' };
    }
    if (report.keys) {
      this.#observer.info({ event: 's2s_keys_ready', kids: report.kids }, 'S2S verification keys ready');
      return report;
    }
    const cause = report.cause ?? 'error';
    this.#observer.warn({ event: 's2s_keys_unavailable', cause }, 'S2S verification keys unavailable');
    if (options?.required ?? this.#config.warmupRequired) {
      const field = 'remote' in this.#config.keys ? 'keys.jwksUrl' : 'keys.jwks';
      const why = detail === undefined ? cause : `${cause}, ${detail}`;
      throw new VerifierConfigError(field, `no verification key could be loaded (cause: ${why})`);
    }
    return report;
  }

  async health(): Promise<HealthReport> {
    const [keys, replay] = await Promise.all([
      this.#keys.healthy().catch((): KeysHealth => ({ ok: false, cause: 'error' })),
      this.#replayHealthy(),
    ]);
    return {
      keys: keys.ok,
      replayStore: replay === undefined,
      ...(keys.ok ? {} : { keysCause: keys.cause ?? 'error' }),
      ...(replay === undefined ? {} : { replayStoreCause: replay }),
    };
  }

  async refreshKeys(): Promise<RefreshReport> {
    try {
      return await this.#keys.refresh();
    } catch {
      return { refreshed: false, keys: false, kids: [] };
    }
  }

  /** Undefined when healthy, else why not. */
  async #replayHealthy(): Promise<UnavailableCause | undefined> {
    const { replayStore, replayTimeoutMs } = this.#config;
    const timedOut = () => new ReplayStoreError('ERR_S2S_REPLAY_TIMEOUT', 'replay store health timed out');
    try {
      if (typeof replayStore.check === 'function') {
        await withDeadline(replayStore.check(this.#replayCall), replayTimeoutMs, timedOut);
        return undefined;
      }
      if (typeof replayStore.health !== 'function') return undefined;
      return (await withDeadline(replayStore.health(this.#replayCall), replayTimeoutMs, timedOut)) === true
        ? undefined
        : 'error';
    } catch (error) {
      return unavailableCauseOf(error);
    }
  }
}

/**
 * Validates the options (VerifierConfigError at startup) and returns a ready verifier.
 *
 * @example
 * ```ts
 * import { createVerifier, pgReplayStore } from '@hyper/s2s-verifier';
 * import pg from 'pg';
 *
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * pool.on('error', (err) => console.warn('idle postgres client error', err.message)); // a restart must not crash the process
 * const verifier = createVerifier({
 *   keys: { jwksUrl: 'https://lite.example/.well-known/jwks.json' },
 *   audience: 'hyper-core',
 *   issuers: ['hyper-lite'],
 *   replayStore: pgReplayStore({ db: pool }),
 * });
 *
 * export async function allowed(token: string): Promise<boolean> {
 *   const result = await verifier.verify(token, { scope: 'spaces:create', path: '/integrations/spaces' });
 *   return result.ok; // otherwise result.status is 401, 403 or 503 and result.reason says why
 * }
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  return new S2sVerifier(options);
}
