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

/**
 * The tests StrykerJS runs against each mutant of the verification path (stryker.config.mjs): the
 * vectors, the parser, header, claim, scope, key-policy and error-mapping suites and the never-throws
 * properties.
 * Store, fault and slow suites stay out: they guard other files and would multiply the run time.
 */
export default defineProject({
  resolve: { alias: [{ find: /^(?:\.\.\/)+test-support\//, replacement: testSupport }] },
  test: {
    name: 'verifier-mutation',
    include: [
      'test/vectors.test.ts',
      'test/compact.test.ts',
      'test/claims-schema.test.ts',
      'test/header-cache.test.ts',
      'test/never-throws.test.ts',
      'test/config.test.ts',
      'test/errors.test.ts',
      'test/verify-options-cache.test.ts',
      'test/scope.test.ts',
      'test/remote-jwks.test.ts',
      'test/replay-integration.test.ts',
      'test/observability.test.ts',
      'test/reliability/es256-malleability.test.ts',
      // verifier.ts beyond verify: warmup, health, refreshKeys, 503 causes, timing and the channel.
      'test/lifecycle.test.ts',
      'test/refresh-keys.test.ts',
      'test/unavailable-causes.test.ts',
      'test/latency.test.ts',
      'test/diagnostics-channel.test.ts',
      // The public-test-key warning (constructor) and the memory store asked directly (verify).
      'test/public-test-keys.test.ts',
      'test/replay/memory.test.ts',
      // The signature check started ahead of the payload parse: what jose is handed, and when.
      'test/early-signature.test.ts',
      'test/jose-handoff.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
