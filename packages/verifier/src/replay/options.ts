import { checkInteger } from '@hyper/s2s-contracts';
import { VerifierConfigError } from '../errors.js';

const AT_LEAST_ONE = { min: 1, max: Number.MAX_SAFE_INTEGER } as const;

/** A whole number of at least 1 (counts, milliseconds), or the default when absent. */
export function positiveInteger(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const checked = checkInteger(value, AT_LEAST_ONE);
  if (!checked.ok) throw new VerifierConfigError(field, checked.problem);
  return checked.value;
}

export function clockOption(field: string, value: unknown): () => number {
  if (value === undefined) return Date.now;
  if (typeof value !== 'function')
    throw new VerifierConfigError(field, 'must be a function returning epoch ms');
  return value as () => number;
}

/** Reads the injected clock; a clock that returns garbage must not silently disable retention. */
export function readClock(now: () => number): number {
  const ms = now();
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new VerifierConfigError('now', 'must return a finite number of epoch milliseconds');
  }
  return ms;
}
