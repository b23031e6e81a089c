import type { Logger } from '@hyper/s2s-contracts';
import type { AuthMetricLabels, AuthMetricName, JwksFetchOutcome, MetricsSink } from '../../src/observe.js';

export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly obj: object;
  readonly msg: string | undefined;
}

export interface MetricCall {
  readonly name: AuthMetricName;
  readonly labels: AuthMetricLabels;
}

/** A pino-shaped logger and a MetricsSink that keep everything they are given, for assertions. */
export function recorder(): {
  logger: Logger;
  metrics: MetricsSink;
  logs: LogLine[];
  calls: MetricCall[];
  fetches: JwksFetchOutcome[];
} {
  const logs: LogLine[] = [];
  const calls: MetricCall[] = [];
  const fetches: JwksFetchOutcome[] = [];
  return {
    logs,
    calls,
    fetches,
    logger: {
      info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    },
    metrics: {
      increment: (name, labels) => calls.push({ name, labels: { ...labels } }),
      jwksFetch: (outcome) => fetches.push(outcome),
    },
  };
}

/**
 * A recorder of what requests log. The vector keys are the contract's public test keys, so a verifier
 * built on them warns about them once (s2s_public_test_key, see public-test-keys.test.ts); tests of
 * request logs leave that line out.
 */
export function requestLogs(): ReturnType<typeof recorder> {
  const observed = recorder();
  const warn = observed.logger.warn;
  observed.logger.warn = (obj, msg) => {
    if ((obj as { event?: unknown }).event !== 's2s_public_test_key') warn(obj, msg);
  };
  return observed;
}
