import { describe, expect, it } from 'vitest';
import {
  CLAIM_NAMES,
  invalidClaim,
  isReason,
  isRetryable,
  missingClaim,
  REASON_NAMES,
  REASONS,
  statusOf,
} from '../src/index.js';

describe('the reason vocabulary', () => {
  it('is closed: 17 fixed reasons plus missing/invalid for each of the 8 claims', () => {
    expect(REASON_NAMES).toHaveLength(17 + 2 * CLAIM_NAMES.length);
    for (const claim of CLAIM_NAMES) {
      expect(isReason(missingClaim(claim))).toBe(true);
      expect(isReason(invalidClaim(claim))).toBe(true);
    }
    expect(isReason('missing_claim(admin)')).toBe(false);
    expect(isReason('__proto__')).toBe(false);
    expect(isReason(undefined)).toBe(false);
    // Only strings: an object whose string form is a reason is not one (a metric label must be a string).
    expect(isReason({ toString: () => 'ok' })).toBe(false);
    expect(isReason(['ok'])).toBe(false);
  });

  it('maps a valid token without the required scope to 403 insufficient_scope', () => {
    expect(REASONS.insufficient_scope).toEqual({ status: 403, bearerError: 'insufficient_scope' });
  });

  it.each(['jwks_unavailable', 'replay_store_unavailable'] as const)(
    'fails closed on %s with a retryable 503',
    (r) => {
      expect(statusOf(r)).toBe(503);
      expect(isRetryable(r)).toBe(true);
    },
  );

  it('sends no RFC 6750 error code when the token is missing (§3.1)', () => {
    expect(REASONS.missing_token).toEqual({ status: 401, bearerError: null });
  });

  const invalidToken = REASON_NAMES.filter((r) => REASONS[r].status === 401 && r !== 'missing_token');
  it('has 401 reasons besides missing_token to check', () => {
    expect(invalidToken.length).toBeGreaterThan(0);
  });

  it.each(invalidToken)('%s is 401 invalid_token', (reason) => {
    expect(REASONS[reason].bearerError).toBe('invalid_token');
    expect(isRetryable(reason)).toBe(false);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(REASONS)).toBe(true);
  });
});
