import { spawnSync } from 'node:child_process';

/**
 * Test support shared by workspace test suites (ops/, examples/, the verifier's PgBouncer test),
 * imported by relative path: one copy, not one per suite. Never part of a published package.
 *
 * A system tool a test needs (promtool, chromium, pgbouncer) comes from the distribution, installed by
 * .ci/run.
 * Missing outside CI: the test skips with a loud message. Missing under CI=true: the run fails.
 */
export function systemTool(
  command: string,
  versionArgs: readonly string[],
  install: string,
): string | undefined {
  const probe = spawnSync(command, versionArgs, { encoding: 'utf8', timeout: 30_000 });
  if (probe.status === 0) return command;
  const message = `${command} not found: ${install} (.ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
  console.warn(`\n${'!'.repeat(80)}\n!! SKIPPED: ${message}\n${'!'.repeat(80)}\n`);
  return undefined;
}
