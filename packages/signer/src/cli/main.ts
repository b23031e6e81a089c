import { readFileSync } from 'node:fs';
import { quoteForMessage } from '@hyper/s2s-contracts';
import { CliError, type CliIo, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './io.js';
import { jwks } from './jwks.js';
import { keygen } from './keygen.js';
import { keyset } from './keyset.js';
import { rotation } from './rotation.js';

export const USAGE = `Usage: hyper-s2s-keys <command> [options]

Key tooling for Hyper S2S JWT auth (the contract's rotation runbook).

Commands:
  keygen   generate a key pair: private PEM to a 0600 file, public JWK on stdout
  jwks     print the public JWKS of a key PEM
  keyset   add | remove | list | check on the HYPER_S2S_JWT_PUBLIC_KEYS_JSON document
  rotation init | publish-next | switch | retire | status: JWKS-mode rotation with KMS key versions

Run "hyper-s2s-keys <command> --help" for a command's options; "hyper-s2s-keys --version" for the version.
`;

/** This package's version, read from its package.json (dist/cli/main.js → ../../package.json). */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return String((JSON.parse(text) as { version?: unknown }).version);
}

const COMMANDS: Record<string, (argv: string[], io: CliIo) => number> = { keygen, jwks, keyset, rotation };

/** Runs one command line; returns the exit code. Errors the user can fix print one message, no stack. */
export function runCli(argv: string[], io: CliIo): number {
  const [command, ...rest] = argv;
  try {
    if (command === undefined) {
      io.stderr(USAGE);
      return EXIT_USAGE;
    }
    if (command === '--help' || command === '-h' || command === 'help') {
      io.stdout(USAGE);
      return EXIT_OK;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(`@hyper/s2s-signer ${packageVersion()}\n`);
      return EXIT_OK;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new CliError(`unknown command ${quoteForMessage(command)}\n\n${USAGE}`, EXIT_USAGE);
    return run(rest, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr(`hyper-s2s-keys: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(`hyper-s2s-keys: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT_FAILURE;
  }
}
