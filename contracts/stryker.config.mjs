// StrykerJS; run through `npx -y pnpm@10 mutation` (not part of test).
import { fileURLToPath } from 'node:url';

// The runner is a root devDependency; pnpm does not hoist it where core looks, so name it by path.
const vitestRunner = fileURLToPath(
  new URL('../node_modules/@stryker-mutator/vitest-runner/dist/src/index.js', import.meta.url),
);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: [vitestRunner],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: ['src/reasons.ts', 'src/strict-json.ts', 'src/json-members.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  reporters: ['json', 'clear-text'],
  jsonReporter: { fileName: '../reports/mutation/contracts.json' },
  // The default .stryker-tmp inside the package: Stryker rewrites the tsconfig "extends" for it.
  cleanTempDir: 'always',
  timeoutMS: 10_000,
};
