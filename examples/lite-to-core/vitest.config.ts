import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    // Tests use the contract's public test keys on purpose: Node need not print the verifier's warning
    // about them each time (still emitted as a 'warning' event; public-test-keys.test.ts checks it).
    execArgv: ['--disable-warning=HYPER_S2S_PUBLIC_TEST_KEY'],
    name: 'example',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
