import { isReason, METRIC_NAMES, type Reason, statusOf } from '@hyper/s2s-contracts';
import type { VerifyOptions } from '../../../src/call.js';
import { UNAVAILABLE_METRIC_NAME } from '../../../src/observe.js';
import type { VerifyResult } from '../../../src/result.js';
import { type LogLine, type MetricCall, recorder } from '../../harness/recorder.js';

/**
 * Shorter fragments could occur in log text by coincidence ("a.b.c" shares letters with any reason);
 * a raw token or segment this long cannot.
 */
export const MIN_FRAGMENT_LENGTH = 16;

const METRIC_FOR_STATUS = {
  200: METRIC_NAMES.success,
  401: METRIC_NAMES.unauthorized,
  403: METRIC_NAMES.forbidden,
  503: UNAVAILABLE_METRIC_NAME,
} as const;

/** The raw token and each of its segments: none may come back out of the verifier. */
export function tokenFragments(token: unknown): string[] {
  if (typeof token !== 'string') return [];
  const fragments = token.includes('.') ? [token, ...token.split('.')] : [token];
  return fragments.filter((fragment) => fragment.length >= MIN_FRAGMENT_LENGTH);
}

/** What the verifier emitted for one call: its result, log lines and metric calls. */
export interface Emitted {
  readonly result: VerifyResult;
  readonly logs: readonly LogLine[];
  readonly calls: readonly MetricCall[];
}

/** Recorder for a verifier under test; `take()` hands over (and forgets) what one call emitted. */
export function emissions() {
  const observed = recorder();
  return {
    logger: observed.logger,
    metrics: observed.metrics,
    take(result: VerifyResult): Emitted {
      const emitted = { result, logs: observed.logs.splice(0), calls: observed.calls.splice(0) };
      observed.fetches.length = 0;
      return emitted;
    },
  };
}

function fail(message: string, token: unknown): never {
  const shown = typeof token === 'string' ? `${token.slice(0, 120)}${token.length > 120 ? '…' : ''}` : token;
  throw new Error(`${message} (token: ${String(shown)})`);
}

/**
 * The contract's promises about one verification: a result from the closed vocabulary with its status,
 * one metric under the status's counter with the caller's labels, one rejection log line (never a
 * swallowed internal error), and no raw token or segment in any of them.
 */
export function checkEmitted(token: unknown, call: VerifyOptions, emitted: Emitted): Reason {
  const { result, logs, calls } = emitted;
  if (typeof result !== 'object' || result === null) fail('result is not an object', token);
  const { reason, status, ok } = result;
  if (!isReason(reason)) fail(`reason ${String(reason)} is outside the vocabulary`, token);
  if (statusOf(reason) !== status) fail(`reason ${reason} came with status ${status}`, token);
  if (ok !== (status === 200)) fail(`ok ${ok} with status ${status}`, token);
  const allowedKeys = ok ? ['ok', 'status', 'reason', 'claims'] : ['ok', 'status', 'reason'];
  if (!Object.keys(result).every((key) => allowedKeys.includes(key))) fail('result has extra members', token);

  const scopeLabel = typeof call.scope === 'string' ? call.scope : call.scope.join(' ');
  const metric = calls[0];
  if (
    calls.length !== 1 ||
    metric?.name !== METRIC_FOR_STATUS[status] ||
    metric.labels.reason !== reason ||
    metric.labels.path !== call.path ||
    metric.labels.scope !== scopeLabel
  ) {
    fail(`metrics for ${reason}: ${JSON.stringify(calls)}`, token);
  }
  for (const line of logs) {
    const event = (line.obj as { event?: unknown }).event;
    if (event === 's2s_verify_internal_error') fail('verify swallowed an internal error', token);
  }
  const rejections = logs.filter((line) => (line.obj as { event?: unknown }).event === 's2s_auth_rejected');
  if (rejections.length !== (ok ? 0 : 1)) fail(`${rejections.length} rejection log lines for ${reason}`, token);

  const fragments = tokenFragments(token);
  if (fragments.length > 0) {
    const out = [
      JSON.stringify(result),
      ...logs.map((line) => `${JSON.stringify(line.obj)} ${line.msg ?? ''}`),
      ...calls.map((metricCall) => JSON.stringify(metricCall.labels)),
    ].join('\n');
    for (const fragment of fragments) if (out.includes(fragment)) fail('raw token material leaked', token);
  }
  return reason;
}

/** Counts outcomes by reason, for the figures a run reports. */
export class ReasonTally {
  readonly #counts = new Map<string, number>();

  add(reason: string): void {
    this.#counts.set(reason, (this.#counts.get(reason) ?? 0) + 1);
  }

  get(reason: string): number {
    return this.#counts.get(reason) ?? 0;
  }

  get total(): number {
    let sum = 0;
    for (const count of this.#counts.values()) sum += count;
    return sum;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.#counts].sort((a, b) => b[1] - a[1]));
  }
}
