import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    // Tests use the contract's public test keys on purpose: Node need not print the verifier's warning
    // about them each time (still emitted as a 'warning' event; public-test-keys.test.ts checks it).
    execArgv: ['--disable-warning=HYPER_S2S_PUBLIC_TEST_KEY'],
    name: 'verifier',
    include: ['test/**/*.test.ts'],
    // Soak, fuzz, replicas and the 1M-row purge are the `verifier-slow` project (vitest.slow.config.ts).
    exclude: [...configDefaults.exclude, 'test/**/*.slow.test.ts'],
    // Generous: the suite shares a 2-core machine; every wait inside a test has its own deadline.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One PostgreSQL for the run: DATABASE_URL, or an embedded server started here when it is unset.
    globalSetup: ['test/support/global-setup.ts'],
  },
});
