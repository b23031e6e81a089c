import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'own-postgres',
    include: ['test/**/*.test.ts'],
    // initdb and a server start on a shared 2-core machine.
    testTimeout: 60_000,
  },
});
