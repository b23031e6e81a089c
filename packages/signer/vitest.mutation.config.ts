import { defineProject } from 'vitest/config';

/** The tests StrykerJS runs against each mutant (stryker.config.mjs); see the verifier's for why a subset. */
export default defineProject({
  test: {
    name: 'signer-mutation',
    include: ['test/vectors.test.ts', 'test/sign.test.ts', 'test/signed-fetch.test.ts'],
    testTimeout: 60_000,
  },
});
