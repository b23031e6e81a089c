import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The verifier's slow suites are their own project, still run by `pnpm test`.
    projects: [
      'contracts',
      'packages/*',
      'examples/*',
      'ops',
      'bench',
      'tools/*',
      'packages/verifier/vitest.slow.config.ts',
    ],
  },
});
