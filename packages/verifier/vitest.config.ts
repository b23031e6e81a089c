import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'verifier',
    include: ['test/**/*.test.ts'],
    // One PostgreSQL for the run: DATABASE_URL, or an embedded server started here when it is unset.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
