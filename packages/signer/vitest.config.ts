import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'signer',
    include: ['test/**/*.test.ts'],
    // Generous: the suite shares a 2-core machine; every wait inside a test has its own deadline.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
