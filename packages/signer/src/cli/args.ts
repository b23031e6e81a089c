import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, EXIT_USAGE } from './io.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

type Values<O extends ParseArgsOptionsConfig> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
} & { help?: boolean };

/** Strict parseArgs: unknown options and stray positionals are usage errors (exit 2) naming the command. */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  command: string,
): Values<O> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    return values as Values<O>;
  } catch (error) {
    throw new CliError(
      `${command}: ${(error as Error).message}\nRun "hyper-s2s-keys ${command} --help".`,
      EXIT_USAGE,
    );
  }
}

export function requireOption(value: string | undefined, name: string, command: string): string {
  if (value === undefined || value === '') {
    throw new CliError(
      `${command}: --${name} is required\nRun "hyper-s2s-keys ${command} --help".`,
      EXIT_USAGE,
    );
  }
  return value;
}
