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
