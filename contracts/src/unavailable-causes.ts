/**
 * Why a dependency made a verifier fail closed (503) or report unhealthy: the closed set every 503
 * rejection log and `health()` carry, so "table missing", "database down", "timeout" and "JWKS answered
 * HTML" are told apart without logging anything secret.
 */
export const UNAVAILABLE_CAUSES = [
  /** No answer within the configured bound. */
  'timeout',
  /** Could not connect, or the connection was refused (at login too: unknown database, login refused), reset or terminated. */
  'unreachable',
  /** The database answers but the replay schema or table does not exist (run `migrate`). */
  'schema_missing',
  /** The JWKS endpoint answered with a status other than 200. */
  'http_status',
  /** The JWKS endpoint answered 200 with something that is not a usable keyset (HTML, too large, ...). */
  'invalid_body',
  /** Any other failure. */
  'error',
] as const;

export type UnavailableCause = (typeof UNAVAILABLE_CAUSES)[number];

export function isUnavailableCause(value: unknown): value is UnavailableCause {
  return (UNAVAILABLE_CAUSES as readonly unknown[]).includes(value);
}
