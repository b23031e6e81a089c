import { METRIC_NAMES } from '@hyper/s2s-contracts';
import { Counter, type Registry, register } from 'prom-client';
import {
  type AuthMetricLabels,
  type AuthMetricName,
  type JwksFetchOutcome,
  type MetricsSink,
  UNAVAILABLE_METRIC_NAME,
} from './observe.js';

export const JWKS_FETCHES_METRIC = 's2s_jwks_fetches_total';
export const JWKS_FETCH_FAILURES_METRIC = 's2s_jwks_fetch_failures_total';

const AUTH_HELP: Readonly<Record<AuthMetricName, string>> = {
  [METRIC_NAMES.success]: 'Successful S2S JWT authorizations',
  [METRIC_NAMES.unauthorized]:
    'S2S requests rejected 401: missing, invalid, expired, replayed or unknown-kid token',
  [METRIC_NAMES.forbidden]: 'S2S requests rejected 403: valid token without the required scope',
  [UNAVAILABLE_METRIC_NAME]: 'S2S requests refused 503: JWKS or replay store unavailable (fail closed)',
};
const AUTH_LABELS = ['reason', 'path', 'scope'] as const;

export interface PrometheusMetricsOptions {
  /** Default: prom-client's global registry. */
  registry?: Registry;
}

/** The registry's counter of that name if one exists (a second adapter on one registry reuses it). */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

/**
 * A MetricsSink on prom-client: the contract's s2s_auth_success / s2s_auth_401 / s2s_auth_403, plus
 * s2s_auth_503, with labels reason, path, scope; and s2s_jwks_fetches_total and
 * s2s_jwks_fetch_failures_total{reason} for the remote JWKS.
 *
 * @example
 * ```ts
 * import { memoryReplayStore, verifierFromEnv } from '@hyper/s2s-verifier';
 * import { prometheusMetrics } from '@hyper/s2s-verifier/prometheus';
 * import { Registry } from 'prom-client';
 *
 * const registry = new Registry();
 * const verifier = verifierFromEnv({
 *   replayStore: memoryReplayStore(),
 *   metrics: prometheusMetrics({ registry }),
 * });
 * // GET /metrics answers with: await registry.metrics()
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): MetricsSink {
  const registry = options.registry ?? register;
  const auth = Object.fromEntries(
    (Object.keys(AUTH_HELP) as AuthMetricName[]).map((name) => [
      name,
      counter(registry, name, AUTH_HELP[name], AUTH_LABELS),
    ]),
  ) as Record<AuthMetricName, Counter<(typeof AUTH_LABELS)[number]>>;
  const fetches = counter(registry, JWKS_FETCHES_METRIC, 'JWKS requests sent to the network', []);
  const failures = counter(registry, JWKS_FETCH_FAILURES_METRIC, 'JWKS requests that failed, by reason', [
    'reason',
  ]);
  return {
    increment(name: AuthMetricName, labels: AuthMetricLabels) {
      auth[name]?.inc({ reason: labels.reason, path: labels.path, scope: labels.scope });
    },
    jwksFetch(outcome: JwksFetchOutcome) {
      fetches.inc();
      if (outcome !== 'ok') failures.inc({ reason: outcome });
    },
  };
}
