import { beforeAll, describe, expect, it } from 'vitest';

// REASONS is built when the module is evaluated, so the module is loaded in a hook inside the describe
// rather than imported: a table that fails to build then fails these tests. (Stryker's vitest runner
// counts a test file that cannot be loaded as no tests, and a failed top-level hook as skipped tests.)
let contracts: typeof import('../src/index.js');

describe('the reason vocabulary', () => {
  beforeAll(async () => {
    contracts = await import('../src/index.js');
  });

  it('is closed: 17 fixed reasons plus missing/invalid for each of the 8 claims', () => {
    const { CLAIM_NAMES, invalidClaim, isReason, missingClaim, REASON_NAMES } = contracts;
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
    expect(contracts.REASONS.insufficient_scope).toEqual({ status: 403, bearerError: 'insufficient_scope' });
  });

  it.each(['jwks_unavailable', 'replay_store_unavailable'] as const)(
    'fails closed on %s with a retryable 503',
    (r) => {
      expect(contracts.statusOf(r)).toBe(503);
      expect(contracts.isRetryable(r)).toBe(true);
    },
  );

  it('sends no RFC 6750 error code when the token is missing (§3.1)', () => {
    expect(contracts.REASONS.missing_token).toEqual({ status: 401, bearerError: null });
  });

  it('every 401 reason besides missing_token is invalid_token and not retryable', () => {
    const { isRetryable, REASON_NAMES, REASONS } = contracts;
    const invalidToken = REASON_NAMES.filter((r) => REASONS[r].status === 401 && r !== 'missing_token');
    expect(invalidToken.length).toBeGreaterThan(0);
    for (const reason of invalidToken) {
      expect(REASONS[reason].bearerError, reason).toBe('invalid_token');
      expect(isRetryable(reason), reason).toBe(false);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(contracts.REASONS)).toBe(true);
  });
});
