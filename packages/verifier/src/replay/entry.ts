import { MAX_JTI_LENGTH, REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { ReplayStoreError } from './errors.js';
import type { ReplayEntry } from './store.js';

/**
 * Longest iss or jti the stores accept, in UTF-16 code units: the contract's 128-character jti may take
 * two code units per character. Far below Postgres' ~2.7 kB btree tuple limit, so no single entry can
 * fail a coalesced INSERT and take its batch-mates down with it.
 */
export const MAX_KEY_PART_LENGTH = MAX_JTI_LENGTH * 2;

/** timestamptz via to_timestamp() stops at year 9999 here; keep exp + retention inside it. */
const LATEST_STORABLE_EXP = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 - REPLAY_RETENTION_SECONDS;

/** Lone UTF-16 surrogates (with the `u` flag, paired ones are one code point and do not match). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

export interface NormalizedEntry {
  readonly iss: string;
  readonly jti: string;
  /** Whole seconds, rounded up so retention never ends early. */
  readonly exp: number;
  /** Unambiguous (iss, jti) identity: NUL cannot occur in either part. */
  readonly key: string;
}

/**
 * Checks an entry and brings it to the form Postgres stores. Lone surrogates become U+FFFD exactly as
 * they would on the way into a UTF-8 database, so the memory and Postgres stores agree on identity.
 */
export function normalizeEntry(entry: ReplayEntry): NormalizedEntry {
  const iss = keyPart('iss', entry?.iss);
  const jti = keyPart('jti', entry?.jti);
  const exp = entry?.exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp < 0 || exp > LATEST_STORABLE_EXP) {
    throw invalid('exp must be a finite number of seconds within the storable range');
  }
  return { iss, jti, exp: Math.ceil(exp), key: replayKey(iss, jti) };
}

/** (iss, jti) as one string; unambiguous because neither part may contain NUL. */
export function replayKey(iss: string, jti: string): string {
  return `${iss}\u0000${jti}`;
}

function keyPart(name: 'iss' | 'jti', value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_PART_LENGTH) {
    throw invalid(`${name} must be a string of 1-${MAX_KEY_PART_LENGTH} characters`);
  }
  // Postgres text cannot hold NUL; sent in a batch it would fail every caller in it.
  if (value.includes('\u0000')) throw invalid(`${name} must not contain NUL`);
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

function invalid(message: string): ReplayStoreError {
  return new ReplayStoreError('ERR_S2S_REPLAY_ENTRY', `replay entry refused: ${message}`);
}
