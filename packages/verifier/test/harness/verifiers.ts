import type { VerifierOptions } from '../../src/options.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import type { ReplayStore } from '../../src/replay/store.js';
import { createVerifier, type Verifier } from '../../src/verifier.js';
import { file, staticKeys } from './vectors.js';

/** A verifier on the vector keyset at real time (tokens signed with harness/tokens.ts `sign`). */
export function liveVerifier(overrides: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    keys: staticKeys(),
    audience: file.audience,
    issuers: [file.issuer],
    replayStore: memoryReplayStore(),
    ...overrides,
  });
}

/** A replay store whose every call fails, as a Postgres outage looks to the verifier. */
export const downStore: ReplayStore = {
  remember: () => Promise.reject(new Error('connection refused')),
  purge: () => Promise.reject(new Error('connection refused')),
  health: async () => false,
};

/** A replay store whose calls never settle, as a blocked statement looks to the verifier. */
export const stuckStore: ReplayStore = {
  remember: () => new Promise<boolean>(() => undefined),
  purge: () => new Promise<number>(() => undefined),
  health: () => new Promise<boolean>(() => undefined),
};
