import type { Reason } from '@hyper/s2s-contracts';
import type fc from 'fast-check';
import type { ReplayStore } from '../../../src/replay/store.js';
import { createVerifier } from '../../../src/verifier.js';
import type { VerifyOptions } from '../../../src/verify-options.js';
import { file, staticKeys, VECTOR_ROUTE } from '../../harness/vectors.js';
import { checkEmitted, emissions } from './contract-checks.js';

export const FUZZ_CALL: VerifyOptions = { scope: 'spaces:create', path: VECTOR_ROUTE };
export const FUZZ_ALGORITHMS = ['RS256', 'ES256'] as const;

/**
 * Never refuses a jti. Fuzzed tokens share jtis with the valid tokens they came from; with a real store
 * a forgery that passed every check would still read `replayed_token` and hide. Here it would read `ok`.
 */
export const permissiveReplayStore: ReplayStore = {
  remember: async () => true,
  purge: async () => 0,
};

/**
 * A verifier on the vector keyset at the vector file's `now`, with every observer attached; `check`
 * verifies and holds the call to the contract's promises (see checkEmitted), returning the reason.
 */
export function fuzzVerifier() {
  const observed = emissions();
  const verifier = createVerifier({
    keys: staticKeys(),
    audience: file.audience,
    issuers: [file.issuer],
    algorithms: [...FUZZ_ALGORITHMS],
    replayStore: permissiveReplayStore,
    now: () => file.now * 1000,
    logger: observed.logger,
    metrics: observed.metrics,
  });
  return {
    async check(token: unknown, call: VerifyOptions = FUZZ_CALL): Promise<Reason> {
      const result = await verifier.verify(token, call);
      return checkEmitted(token, call, observed.take(result));
    },
  };
}

/**
 * fast-check run parameters. FUZZ_SEED=<n> replays a reported run; FUZZ_SCALE=<k> multiplies the runs
 * for a longer hunt outside CI (the test names state the CI counts).
 */
export function fuzzRuns<T>(numRuns: number): fc.Parameters<T> {
  const seed = Number(process.env.FUZZ_SEED);
  const scale = Number(process.env.FUZZ_SCALE);
  const runs = Number.isInteger(scale) && scale > 1 ? numRuns * scale : numRuns;
  return Number.isInteger(seed) ? { numRuns: runs, seed } : { numRuns: runs };
}
