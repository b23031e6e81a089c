import { setTimeout as sleep } from 'node:timers/promises';
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
  /** Delay before retry n is `retryBackoffMs * 2^(n-1)`. */
  retryBackoffMs: number;
}

export const DEFAULT_KMS_CALL_POLICY: KmsCallPolicy = { deadlineMs: 2000, maxRetries: 2, retryBackoffMs: 50 };

function grpcCodeOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

const transient = (code: number | undefined) =>
  code === GRPC_STATUS.UNAVAILABLE || code === GRPC_STATUS.DEADLINE_EXCEEDED;

/**
 * Runs one KMS RPC with a per-attempt deadline and bounded retries, so the worst case is
 * `(maxRetries + 1) * deadlineMs` plus the backoff. Anything but a transient failure surfaces at once.
 */
export async function callKms<T>(
  method: string,
  call: (options: KmsCallOptions) => Promise<T>,
  policy: KmsCallPolicy,
  observe?: KmsCallObserver,
): Promise<T> {
  const attempts = policy.maxRetries + 1;
  for (let attempt = 1; ; attempt++) {
    // Each attempt is one sample: retries show up as their own (failed) calls.
    const started = observe ? performance.now() : 0;
    try {
      const result = await call({ timeout: policy.deadlineMs, retry: null });
      observe?.(method, 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (cause) {
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
      await sleep(policy.retryBackoffMs * 2 ** (attempt - 1));
    }
  }
}
