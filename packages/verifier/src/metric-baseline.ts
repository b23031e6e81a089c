import { METRIC_NAMES, type Reason } from '@hyper/s2s-contracts';
import {
  type AuthMetricName,
  JWKS_FETCH_OUTCOMES,
  type JwksFetchOutcome,
  UNAVAILABLE_METRIC_NAME,
} from './observe.js';

/**
 * Counter series created at 0 before their first increment. A counter series' first sample has no
 * rate: Prometheus' rate()/increase() miss the increments that created it, so an alert on the first
 * 503s of an outage, or on a purger that never reported, stayed silent. The label sets are closed
 * (fetch failure reasons, purge results) or known once a route has been called (path, scope): the
 * series the ops alerts read are created for each route on its first verification.
 */
const ROUTE_SERIES: ReadonlyArray<readonly [AuthMetricName, Reason]> = [
  [UNAVAILABLE_METRIC_NAME, 'jwks_unavailable'],
  [UNAVAILABLE_METRIC_NAME, 'replay_store_unavailable'],
  [METRIC_NAMES.unauthorized, 'unknown_kid'],
  [METRIC_NAMES.unauthorized, 'replayed_token'],
  // A signer whose key or settings do not match Core's (a kid with the wrong key, a wrong aud or iss).
  [METRIC_NAMES.unauthorized, 'invalid_signature'],
  [METRIC_NAMES.unauthorized, 'invalid_audience'],
  [METRIC_NAMES.unauthorized, 'invalid_issuer'],
  [METRIC_NAMES.forbidden, 'insufficient_scope'],
];

/** Routes given a baseline; past this many (templates built dynamically) new routes get none. */
export const MAX_BASELINE_ROUTES = 1024;

export const FETCH_FAILURE_OUTCOMES: readonly Exclude<JwksFetchOutcome, 'ok'>[] = JWKS_FETCH_OUTCOMES.filter(
  (outcome): outcome is Exclude<JwksFetchOutcome, 'ok'> => outcome !== 'ok',
);

/**
 * Calls `create(name, labels)` once for each alerted series of a route the first time the route
 * (path and scope) is seen; a Map per path keeps the per-verify check to two lookups.
 */
export function routeBaseline(
  create: (name: AuthMetricName, labels: { reason: Reason; path: string; scope: string }) => void,
): (path: string, scope: string) => void {
  const seen = new Map<string, Set<string>>();
  let routes = 0;
  return (path, scope) => {
    let scopes = seen.get(path);
    if (scopes?.has(scope) === true || routes >= MAX_BASELINE_ROUTES) return;
    if (scopes === undefined) {
      scopes = new Set();
      seen.set(path, scopes);
    }
    scopes.add(scope);
    routes++;
    for (const [name, reason] of ROUTE_SERIES) create(name, { reason, path, scope });
  };
}
