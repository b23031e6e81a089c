import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'verifier',
    include: ['test/**/*.test.ts'],
  },
});
