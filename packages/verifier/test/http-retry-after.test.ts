import { describe, expect, it } from 'vitest';
import { VerifierUsageError } from '../src/errors.js';
import { checkRetryAfter } from '../src/http/challenge.js';

// SPEC.md HTTP3: Retry-After is a non-negative integer of seconds, written as digits (RFC 9110 §10.2.3).
describe('retryAfterSeconds', () => {
  it.each([0, 1, 120, Number.MAX_SAFE_INTEGER])('accepts %d', (value) => {
    expect(() => checkRetryAfter(value)).not.toThrow();
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e21, 2 ** 53])(
    'refuses %d: String() of it is no delay-seconds, or it is not a whole number of seconds',
    (value) => {
      expect(() => checkRetryAfter(value)).toThrow(VerifierUsageError);
    },
  );
});
