import { REASONS } from '@hyper/s2s-contracts';
import { VerifierUsageError } from '../errors.js';
import type { VerifyFailure } from '../result.js';

export interface RejectionOptions {
  /** The scope(s) the endpoint requires, echoed in the 403 challenge (RFC 6750 §3). */
  scope: string | readonly string[];
  /** Retry-After on 503, in seconds; default 1. */
  retryAfterSeconds?: number;
}

export const DEFAULT_RETRY_AFTER_SECONDS = 1;

/**
 * Response headers for a rejection: RFC 6750 §3 challenges on 401/403 (no error code when no bearer
 * token was sent, §3.1), Retry-After on 503, and never cached.
 */
export function rejectionHeaders(result: VerifyFailure, options: RejectionOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  };
  const { bearerError } = REASONS[result.reason];
  if (result.status === 503) {
    headers['retry-after'] = String(options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS);
  } else if (bearerError === 'insufficient_scope') {
    const scope = typeof options.scope === 'string' ? options.scope : options.scope.join(' ');
    // Scope tokens exclude `"` and `\` (RFC 6749 §3.3), so the quoted-string needs no escaping.
    headers['www-authenticate'] = `Bearer error="insufficient_scope", scope="${scope}"`;
  } else if (bearerError === 'invalid_token') {
    headers['www-authenticate'] = 'Bearer error="invalid_token"';
  } else {
    headers['www-authenticate'] = 'Bearer';
  }
  return headers;
}

/** The small JSON body of a rejection: the reason from the closed vocabulary, nothing from the token. */
export function rejectionBody(result: VerifyFailure): string {
  return JSON.stringify({ reason: result.reason });
}

/**
 * Programmer input: validated when an adapter is set up or called, never per client. A safe integer:
 * from 1e21 up, String() writes an exponent (`1e+21`), which is no delay-seconds (RFC 9110 §10.2.3).
 */
export function checkRetryAfter(value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
    throw new VerifierUsageError('retryAfterSeconds must be a non-negative integer');
  }
}
