import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type IntegerBounds, parseInteger, quoteForMessage } from '@hyper/s2s-contracts';
import { CliError, EXIT_USAGE } from './io.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

type Values<O extends ParseArgsOptionsConfig> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
} & { help?: boolean };

/**
 * Strict parseArgs: unknown options, stray positionals and an option given twice are usage errors
 * (exit 2) naming the command. parseArgs keeps the last of a repeated option: `keyset remove --kid a
 * --kid b` would silently remove only b.
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  argv: string[],
  options: O,
  command: string,
): Values<O> {
  try {
    const { values, tokens } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
    const seen = new Set<string>();
    for (const token of tokens) {
      if (token.kind !== 'option' || options[token.name]?.multiple === true) continue;
      if (seen.has(token.name)) throw new Error(`--${token.name} is given more than once`);
      seen.add(token.name);
    }
    return values as Values<O>;
  } catch (error) {
    throw new CliError(
      `${command}: ${argumentProblem(error)}\nRun "hyper-s2s-keys ${command} --help".`,
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

/**
 * An integer option, read with the contracts' parseInteger (the SDKs' one integer reader): only digits,
 * so a blank value (an unset shell variable), `0x10`, `1e3` or ` 5` is a usage error, never 0 or 16.
 */
export function integerOption(
  value: string | undefined,
  name: string,
  command: string,
  bounds: IntegerBounds,
): number | undefined {
  if (value === undefined) return undefined;
  const parsed = parseInteger(value, bounds);
  if (!parsed.ok) {
    throw new CliError(
      `${command}: --${name} ${parsed.problem}\nRun "hyper-s2s-keys ${command} --help".`,
      EXIT_USAGE,
    );
  }
  return parsed.value;
}

/**
 * What was wrong with the arguments, each argument Node's parseArgs quotes passed through
 * quoteForMessage: it could be a token pasted on the command line.
 */
function argumentProblem(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string'
    ? message.replace(/'([^']*)'/g, (_all, argument: string) => quoteForMessage(argument))
    : 'invalid arguments';
}
