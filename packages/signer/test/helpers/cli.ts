import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI_ENTRY = fileURLToPath(new URL('../../bin/hyper-s2s-keys.js', import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `hyper-s2s-keys` entry with node, as the installed bin would. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; input?: string },
): CliRun {
  if (!existsSync(CLI_ENTRY))
    throw new Error(`${CLI_ENTRY} is missing: run pnpm --filter @hyper/s2s-signer build first`);
  const result = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
