import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'ops',
    include: ['test/**/*.test.ts'],
    // promtool runs its rule tests in a few seconds, more on a loaded machine.
    testTimeout: 60_000,
  },
});
