// StrykerJS on the verifier's verification path; run through `npx -y pnpm@10 mutation` (not part of test).
import { fileURLToPath } from 'node:url';

// The runner is a root devDependency; pnpm does not hoist it where core looks, so name it by path.
const vitestRunner = fileURLToPath(
  new URL('../../node_modules/@stryker-mutator/vitest-runner/dist/src/index.js', import.meta.url),
);

// Stryker copies the package into .stryker-tmp/sandbox-*/, where the tests' relative imports of the
// repository's test-support/ point nowhere; vitest.mutation.config.ts resolves them here instead.
process.env.HYPER_S2S_TEST_SUPPORT = fileURLToPath(new URL('../../test-support/', import.meta.url));

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: [vitestRunner],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    'src/compact.ts',
    'src/header.ts',
    'src/claims.ts',
    'src/scope.ts',
    'src/verify-options.ts',
    'src/verifier.ts',
    'src/jose-errors.ts',
    'src/keys/jwk-policy.ts',
  ],
  coverageAnalysis: 'perTest',
  // One runner: the machine has 2 cores shared with other work. Pass --concurrency 2 when it is idle.
  concurrency: 1,
  reporters: ['json', 'clear-text', 'progress'],
  jsonReporter: { fileName: '../../reports/mutation/verifier.json' },
  // The default .stryker-tmp inside the package: Stryker rewrites the tsconfig "extends" for it.
  cleanTempDir: 'always',
  timeoutMS: 10_000,
  // Reruns (per file: --mutate src/x.ts) reuse every result whose code and tests did not change, and keep
  // the other files' results, so verifier.json is always the union of the per-file runs.
  incremental: true,
  incrementalFile: '../../reports/mutation/verifier-incremental.json',
};
