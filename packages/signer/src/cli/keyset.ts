import { quoteForMessage } from '@hyper/s2s-contracts';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE } from './io.js';
import { keysetAdd } from './keyset-add.js';
import { keysetCheck } from './keyset-check-command.js';
import { KEYSET_SOURCE_HELP } from './keyset-document.js';
import { keysetList } from './keyset-list.js';
import { keysetRemove } from './keyset-remove.js';

export const KEYSET_USAGE = `Usage: hyper-s2s-keys keyset <command> [options]

Commands:
  add      add a public key (--jwk FILE, or --pem FILE --kid ID)
  remove   remove a key by --kid
  list     list kids, algorithms and strengths
  check    report duplicate kids, private members, weak keys, bad kid names

${KEYSET_SOURCE_HELP}

Run "hyper-s2s-keys keyset <command> --help" for a command's options.
`;

const COMMANDS: Record<string, (argv: string[], io: CliIo) => number> = {
  add: keysetAdd,
  remove: keysetRemove,
  list: keysetList,
  check: keysetCheck,
};

export function keyset(argv: string[], io: CliIo): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(KEYSET_USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run)
    throw new CliError(`keyset: unknown command ${quoteForMessage(command)}\n\n${KEYSET_USAGE}`, EXIT_USAGE);
  return run(rest, io);
}
