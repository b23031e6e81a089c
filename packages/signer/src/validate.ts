import {
  checkInteger,
  isStorableText,
  KID_PATTERN,
  MAX_ISS_LENGTH,
  MAX_KID_LENGTH,
  MAX_TTL_SECONDS,
  utf8Length,
} from '@hyper/s2s-contracts';
import { SignerConfigError } from './errors.js';

/**
 * Latest epoch milliseconds a clock or timestamp may give (2^43 ms, year 2248): far past any real
 * clock, and small enough that seconds + ttl stays exact, so `exp - iat` is always `ttlSeconds`.
 */
export const MAX_EPOCH_MS = 2 ** 43;

export function requireNonEmptyString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new SignerConfigError(field, 'a non-empty string is required');
  }
  return value;
}

/** Why a claim string would make the token unparseable at Core, or undefined when it will not. */
export function claimTextProblem(text: string): string | undefined {
  // JSON.stringify writes a lone surrogate as `\ud800`, which Core's strict JSON refuses (SPEC.md J4).
  return text.isWellFormed() ? undefined : 'must be well-formed UTF-16 text (no lone surrogate)';
}

/** A non-empty claim string (iss, sub, aud) that Core can parse. */
export function requireClaimText(value: unknown, field: string): string {
  const text = requireNonEmptyString(value, field);
  const problem = claimTextProblem(text);
  if (problem !== undefined) throw new SignerConfigError(field, problem);
  return text;
}

/** An issuer Core's replay store can record (SPEC.md C3): otherwise every token would be refused. */
export function requireIssuer(value: unknown, field: string): string {
  const issuer = requireClaimText(value, field);
  if (utf8Length(issuer) > MAX_ISS_LENGTH || !isStorableText(issuer)) {
    throw new SignerConfigError(field, `must be at most ${MAX_ISS_LENGTH} UTF-8 bytes without U+0000`);
  }
  return issuer;
}

/** Contract: `exp - iat <= 300`; whole seconds so `exp` stays an integer NumericDate. */
export function requireTtl(value: unknown, field: string): number {
  return requireInteger(value, field, 1, MAX_TTL_SECONDS);
}

/**
 * kid must follow the contract's `lite-YYYY-MM` convention. Refused, not warned: Core's keyset, the
 * rotation runbook and the unknown_kid alert all key on it, and a typo found at startup is cheaper than
 * a wave of 401 unknown_kid in production.
 */
export function requireKid(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > MAX_KID_LENGTH || !KID_PATTERN.test(value)) {
    throw new SignerConfigError(
      field,
      `must follow the contract's kid convention lite-YYYY-MM (e.g. lite-2026-03)`,
    );
  }
  return value;
}

export function requireFunction<T>(value: unknown, field: string): T {
  if (typeof value !== 'function') throw new SignerConfigError(field, 'must be a function');
  return value as T;
}

/** An integer setting, in the wording both SDKs share (contracts' checkInteger). */
export function requireInteger(value: unknown, field: string, min: number, max: number): number {
  const checked = checkInteger(value, { min, max });
  if (!checked.ok) throw new SignerConfigError(field, checked.problem);
  return checked.value;
}
