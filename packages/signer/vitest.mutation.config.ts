import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

/**
 * The repository's test-support/, wherever this config runs: in Stryker's sandbox a relative import of it
 * points nowhere, and Vitest would drop the importing test file without failing the run (every mutant
 * only it kills would survive). stryker.config.mjs sets the path; scripts/mutation.mjs checks every test
 * file below ran.
 */
const testSupport =
  process.env.HYPER_S2S_TEST_SUPPORT ?? fileURLToPath(new URL('../../test-support/', import.meta.url));

/** The tests StrykerJS runs against each mutant (stryker.config.mjs); see the verifier's for why a subset. */
export default defineProject({
  resolve: { alias: [{ find: /^(?:\.\.\/)+test-support\//, replacement: testSupport }] },
  test: {
    name: 'signer-mutation',
    include: ['test/vectors.test.ts', 'test/sign.test.ts', 'test/signed-fetch.test.ts'],
    testTimeout: 60_000,
  },
});
