import { defineProject } from 'vitest/config';

/** The tests StrykerJS runs against each mutant (stryker.config.mjs); see the verifier's for why a subset. */
export default defineProject({
  test: {
    name: 'contracts-mutation',
    include: [
      'test/reasons.test.ts',
      'test/coverage.test.ts',
      'test/vectors.test.ts',
      'test/schemas.test.ts',
      'test/strict-json.test.ts',
      'test/json-members.test.ts',
    ],
    testTimeout: 60_000,
  },
});
