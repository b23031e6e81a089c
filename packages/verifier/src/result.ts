import { type Claims, type Reason, statusOf } from '@hyper/s2s-contracts';

export type FailureReason = Exclude<Reason, 'ok'>;

export interface VerifySuccess {
  readonly ok: true;
  readonly status: 200;
  readonly reason: 'ok';
  /** The verified claims (all eight contract claims, type-checked). */
  readonly claims: Claims;
}

export interface VerifyFailure {
  readonly ok: false;
  readonly status: 401 | 403 | 503;
  readonly reason: FailureReason;
}

export type VerifyResult = VerifySuccess | VerifyFailure;

const failures = new Map<FailureReason, VerifyFailure>();

/** One frozen result per reason: rejections allocate nothing and carry nothing from the token. */
export function failure(reason: FailureReason): VerifyFailure {
  let result = failures.get(reason);
  if (result === undefined) {
    result = Object.freeze({ ok: false, status: statusOf(reason) as VerifyFailure['status'], reason });
    failures.set(reason, result);
  }
  return result;
}

export function success(claims: Claims): VerifySuccess {
  return { ok: true, status: 200, reason: 'ok', claims };
}
