import { isReason, METRIC_NAMES, type Reason, statusOf } from '@hyper/s2s-contracts';
import { UNAVAILABLE_METRIC_NAME } from '../../../src/observe.js';
import type { VerifyResult } from '../../../src/result.js';
import type { VerifyOptions } from '../../../src/verify-options.js';
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

/**
 * Recorder for a verifier under test. `take()` hands over (and forgets) what one call emitted, for
 * sequential use; `drain()` hands over everything so far, for concurrent traffic.
 */
export function emissions() {
  const observed = recorder();
  const drain = () => ({
    logs: observed.logs.splice(0),
    calls: observed.calls.splice(0),
    fetches: observed.fetches.splice(0),
  });
  return {
    logger: observed.logger,
    metrics: observed.metrics,
    take: (result: VerifyResult): Emitted => ({ result, ...drain() }),
    drain,
  };
}

function fail(message: string, token: unknown): never {
  const shown = typeof token === 'string' ? `${token.slice(0, 120)}${token.length > 120 ? '…' : ''}` : token;
  throw new Error(`${message} (token: ${String(shown)})`);
}

const eventOf = (line: LogLine) => (line.obj as { event?: unknown }).event;
const outputText = (emitted: {
  result?: VerifyResult;
  logs: readonly LogLine[];
  calls: readonly MetricCall[];
}) =>
  [
    emitted.result === undefined ? '' : JSON.stringify(emitted.result),
    ...emitted.logs.map((line) => `${JSON.stringify(line.obj)} ${line.msg ?? ''}`),
    ...emitted.calls.map((call) => JSON.stringify(call.labels)),
  ].join('\n');

/** A result from the closed vocabulary, with its status and nothing else. */
export function checkResult(token: unknown, result: VerifyResult): Reason {
  if (typeof result !== 'object' || result === null) fail('result is not an object', token);
  const { reason, status, ok } = result;
  if (!isReason(reason)) fail(`reason ${String(reason)} is outside the vocabulary`, token);
  if (statusOf(reason) !== status) fail(`reason ${reason} came with status ${status}`, token);
  if (ok !== (status === 200)) fail(`ok ${ok} with status ${status}`, token);
  const allowedKeys = ok ? ['ok', 'status', 'reason', 'claims'] : ['ok', 'status', 'reason'];
  if (!Object.keys(result).every((key) => allowedKeys.includes(key))) fail('result has extra members', token);
  return reason;
}

function checkMetric(
  token: unknown,
  call: VerifyOptions,
  metric: MetricCall | undefined,
  reason: Reason,
): void {
  const scopeLabel = typeof call.scope === 'string' ? call.scope : call.scope.join(' ');
  if (
    metric?.name !== METRIC_FOR_STATUS[statusOf(reason)] ||
    metric.labels.reason !== reason ||
    metric.labels.path !== call.path ||
    metric.labels.scope !== scopeLabel
  ) {
    fail(`metric for ${reason}: ${JSON.stringify(metric)}`, token);
  }
}

/**
 * The contract's promises about one verification: a result from the closed vocabulary with its status,
 * one metric under the status's counter with the caller's labels, one rejection log line (never a
 * swallowed internal error), and no raw token or segment in any of them.
 */
export function checkEmitted(token: unknown, call: VerifyOptions, emitted: Emitted): Reason {
  const reason = checkResult(token, emitted.result);
  const { logs, calls } = emitted;
  if (calls.length !== 1) fail(`${calls.length} metric calls for one verification`, token);
  checkMetric(token, call, calls[0], reason);
  if (logs.some((line) => eventOf(line) === 's2s_verify_internal_error')) {
    fail('verify swallowed an internal error', token);
  }
  const rejections = logs.filter((line) => eventOf(line) === 's2s_auth_rejected').length;
  if (rejections !== (reason === 'ok' ? 0 : 1))
    fail(`${rejections} rejection log lines for ${reason}`, token);
  const fragments = tokenFragments(token);
  if (fragments.length > 0) {
    const out = outputText(emitted);
    for (const fragment of fragments) if (out.includes(fragment)) fail('raw token material leaked', token);
  }
  return reason;
}

/**
 * Finds raw token material in a large body of output in one pass: every fragment is indexed by its
 * first MIN_FRAGMENT_LENGTH characters, and the output is scanned window by window.
 */
export class LeakIndex {
  readonly #byPrefix = new Map<string, string[]>();

  add(token: string): void {
    for (const fragment of tokenFragments(token)) {
      const prefix = fragment.slice(0, MIN_FRAGMENT_LENGTH);
      const list = this.#byPrefix.get(prefix);
      if (list === undefined) this.#byPrefix.set(prefix, [fragment]);
      else list.push(fragment);
    }
  }

  /** Fragments found in `text`. */
  scan(text: string): string[] {
    const found: string[] = [];
    for (let i = 0; i + MIN_FRAGMENT_LENGTH <= text.length; i++) {
      const candidates = this.#byPrefix.get(text.slice(i, i + MIN_FRAGMENT_LENGTH));
      if (candidates === undefined) continue;
      for (const fragment of candidates) if (text.startsWith(fragment, i)) found.push(fragment);
    }
    return found;
  }
}

/**
 * The same promises, in aggregate, for concurrent traffic: one metric per answer under the right
 * counter, one rejection line per non-200 answer, no internal error, no token material anywhere.
 */
export function checkDrained(
  drained: { logs: readonly LogLine[]; calls: readonly MetricCall[] },
  call: VerifyOptions,
  answered: readonly { token: string; reason: Reason }[],
): void {
  const { logs, calls } = drained;
  if (calls.length !== answered.length)
    fail(`${calls.length} metric calls for ${answered.length} answers`, '');
  const expected = new Map<Reason, number>();
  for (const { reason } of answered) expected.set(reason, (expected.get(reason) ?? 0) + 1);
  for (const metric of calls) {
    checkMetric('', call, metric, metric.labels.reason);
    expected.set(metric.labels.reason, (expected.get(metric.labels.reason) ?? 0) - 1);
  }
  if ([...expected.values()].some((count) => count !== 0)) fail('metric reasons differ from the answers', '');
  if (logs.some((line) => eventOf(line) === 's2s_verify_internal_error'))
    fail('verify swallowed an error', '');
  const rejections = logs.filter((line) => eventOf(line) === 's2s_auth_rejected').length;
  const refused = answered.filter(({ reason }) => reason !== 'ok').length;
  if (rejections !== refused) fail(`${rejections} rejection log lines for ${refused} refusals`, '');
  const index = new LeakIndex();
  for (const { token } of answered) index.add(token);
  const leaked = index.scan(outputText(drained));
  if (leaked.length > 0) fail(`${leaked.length} raw token fragments leaked`, leaked[0]);
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
