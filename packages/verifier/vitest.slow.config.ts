import { defineProject } from 'vitest/config';

/**
 * The slow suites (soak, fuzz, replicas, purge of 1M rows) as a project of their own: still part of
 * `pnpm test`, and runnable apart with `npx vitest run --project verifier-slow` from the root or
 * `npx vitest run --config vitest.slow.config.ts` here. Each test states its own budget.
 */
export default defineProject({
  test: {
    // Tests use the contract's public test keys on purpose: Node need not print the verifier's warning
    // about them each time (still emitted as a 'warning' event; public-test-keys.test.ts checks it).
    execArgv: ['--disable-warning=HYPER_S2S_PUBLIC_TEST_KEY'],
    name: 'verifier-slow',
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One file at a time: each one loads the machine on its own.
    fileParallelism: false,
    globalSetup: ['test/support/global-setup.ts'],
  },
});
