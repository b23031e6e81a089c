import { setTimeout as sleep } from 'node:timers/promises';
import { withDeadline } from '@hyper/s2s-contracts';
import { KmsError, KmsResourceExhaustedError, KmsUnavailableError } from '../errors.js';
import type { KmsCallObserver } from '../metrics.js';
import type { KmsCallOptions } from './client-types.js';

/** gRPC canonical status codes (grpc/status.proto) the retry policy distinguishes. */
export const GRPC_STATUS = {
  DEADLINE_EXCEEDED: 4,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  UNAVAILABLE: 14,
} as const;

/** Closed set: the `outcome` label of one KMS RPC attempt. */
export const KMS_CALL_OUTCOMES = [
  'ok',
  'deadline_exceeded',
  'unavailable',
  'resource_exhausted',
  'error',
] as const;
export type KmsCallOutcome = (typeof KMS_CALL_OUTCOMES)[number];

const OUTCOME_BY_GRPC_CODE: ReadonlyMap<number, KmsCallOutcome> = new Map([
  [GRPC_STATUS.DEADLINE_EXCEEDED, 'deadline_exceeded'],
  [GRPC_STATUS.UNAVAILABLE, 'unavailable'],
  [GRPC_STATUS.RESOURCE_EXHAUSTED, 'resource_exhausted'],
]);

export function kmsOutcomeOf(grpcCode: number | undefined): KmsCallOutcome {
  return (grpcCode === undefined ? undefined : OUTCOME_BY_GRPC_CODE.get(grpcCode)) ?? 'error';
}

export interface KmsCallPolicy {
  /** Deadline of each attempt. gax defaults to 60 s with 600 s of retries: far too long on a request path. */
  deadlineMs: number;
  /** Retries after the first attempt, on UNAVAILABLE and DEADLINE_EXCEEDED only. */
  maxRetries: number;
  /** Delay before retry n is `retryBackoffMs * 2^(n-1)`, at most MAX_KMS_BACKOFF_MS. */
  retryBackoffMs: number;
  /**
   * Bound of one operation (a `sign()`, a public key read): every attempt and pause of every RPC it
   * makes. A token's `iat` is fixed before the call, so this is also the most life a token can lose.
   */
  budgetMs: number;
}

export const DEFAULT_KMS_CALL_POLICY: KmsCallPolicy = {
  deadlineMs: 2000,
  maxRetries: 2,
  retryBackoffMs: 50,
  budgetMs: 10_000,
};

/** Longest pause between two attempts: the doubling stops here. */
export const MAX_KMS_BACKOFF_MS = 1000;
/**
 * Most a KMS operation may take, and most one RPC's retry policy may add up to. A token waiting this
 * long still has `ttl + 30 s` left at a verifier allowing the contract's 60 s of skew, and 30 s is
 * what callers of a request path commonly wait before giving up themselves.
 */
export const MAX_KMS_BUDGET_MS = 30_000;

/** The pause before retry `retry` (1-based). */
export function kmsBackoffMs(policy: Pick<KmsCallPolicy, 'retryBackoffMs'>, retry: number): number {
  return Math.min(policy.retryBackoffMs * 2 ** (retry - 1), MAX_KMS_BACKOFF_MS);
}

/** Longest one RPC can take under the retry policy alone: every attempt at its deadline, every pause. */
export function kmsWorstCaseMs(policy: Omit<KmsCallPolicy, 'budgetMs'>): number {
  let total = (policy.maxRetries + 1) * policy.deadlineMs;
  for (let retry = 1; retry <= policy.maxRetries; retry++) total += kmsBackoffMs(policy, retry);
  return total;
}

/** When an operation starting now must be done, on the monotonic clock (a wall-clock step moves nothing). */
export function kmsBudgetEnd(policy: KmsCallPolicy): number {
  return performance.now() + policy.budgetMs;
}

function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const transient = (code: number | undefined) =>
  code === GRPC_STATUS.UNAVAILABLE || code === GRPC_STATUS.DEADLINE_EXCEEDED;

/**
 * Runs one KMS RPC with a per-attempt deadline (the client's and a local timer) and bounded retries,
 * inside the operation's budget ending at `budgetEnd` (see kmsBudgetEnd): no attempt outlives it and no
 * pause is started that would. Anything but a transient failure surfaces at once.
 */
export async function callKms<T>(
  method: string,
  call: (options: KmsCallOptions) => Promise<T>,
  policy: KmsCallPolicy,
  budgetEnd: number,
  observe?: KmsCallObserver,
): Promise<T> {
  const attempts = policy.maxRetries + 1;
  const budgetSpent = (made: number, cause: unknown) =>
    new KmsUnavailableError(
      `${method}: Cloud KMS unavailable; the ${policy.budgetMs} ms budget ran out after ${made} attempt(s)`,
      made,
      { cause, grpcCode: grpcCodeOf(cause) ?? GRPC_STATUS.DEADLINE_EXCEEDED },
    );
  let lastCause: unknown;
  for (let attempt = 1; ; attempt++) {
    const left = Math.floor(budgetEnd - performance.now());
    if (left < 1) throw budgetSpent(attempt - 1, lastCause);
    const timeout = Math.min(policy.deadlineMs, left);
    // Each attempt is one sample: retries show up as their own (failed) calls.
    const started = observe ? performance.now() : 0;
    try {
      // A local bound too (contracts' one deadline helper): a client that ignores `timeout` (a wrapper,
      // a hand-written KmsClient, gax setting up its stub) cannot hold the caller longer. A late
      // settlement of the call is absorbed, never an unhandled rejection.
      const result = await withDeadline(call({ timeout, retry: null }), timeout, () =>
        Object.assign(new Error(`no answer within the ${timeout} ms deadline (local timer)`), {
          code: GRPC_STATUS.DEADLINE_EXCEEDED,
        }),
      );
      observe?.(method, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (cause) {
      lastCause = cause;
      const grpcCode = grpcCodeOf(cause);
      observe?.(method, kmsOutcomeOf(grpcCode), (performance.now() - started) / 1000);
      if (grpcCode === GRPC_STATUS.RESOURCE_EXHAUSTED) {
        throw new KmsResourceExhaustedError(`${method}: Cloud KMS quota exhausted (RESOURCE_EXHAUSTED)`, {
          cause,
          grpcCode,
        });
      }
      if (!transient(grpcCode)) {
        throw new KmsError(`${method} failed: ${(cause as Error)?.message ?? String(cause)}`, {
          cause,
          grpcCode,
        });
      }
      if (attempt >= attempts) {
        throw new KmsUnavailableError(
          `${method}: Cloud KMS unavailable after ${attempts} attempt(s) with a ${policy.deadlineMs} ms deadline`,
          attempts,
          { cause, grpcCode },
        );
      }
      const pause = kmsBackoffMs(policy, attempt);
      // A pause that ends past the budget could only lead to an attempt with no time: fail now.
      if (performance.now() + pause >= budgetEnd) throw budgetSpent(attempt, cause);
      await sleep(pause);
    }
  }
}
