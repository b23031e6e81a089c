import { quoteForMessage } from '@hyper/s2s-contracts';
import { parseCommandArgs, requireOption } from './args.js';
import { CliError, type CliIo, EXIT_OK } from './io.js';
import { KEYSET_SOURCE_HELP, loadKeyset, refusePrivateMembers, writeKeyset } from './keyset-document.js';

export const KEYSET_REMOVE_USAGE = `Usage: hyper-s2s-keys keyset remove --kid lite-YYYY-MM [--keyset FILE] [--out FILE] [--compact] [--allow-empty]

Removes a key from the keyset (rotation runbook step 6, or immediate revocation) and prints the new
document (or writes it to --out).

${KEYSET_SOURCE_HELP}

Options:
  --kid ID         the key to remove (required)
  --keyset FILE    the current keyset ("-" for stdin)
  --out FILE       write the result here (atomically) instead of stdout; may be the --keyset file
  --compact        one line of JSON (for an environment variable)
  --allow-empty    allow removing the last key (Core would then refuse every token)
  -h, --help       show this help
`;

export function keysetRemove(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    {
      kid: { type: 'string' },
      keyset: { type: 'string' },
      out: { type: 'string' },
      compact: { type: 'boolean' },
      'allow-empty': { type: 'boolean' },
    },
    'keyset remove',
  );
  if (args.help) {
    io.stdout(KEYSET_REMOVE_USAGE);
    return EXIT_OK;
  }
  const kid = requireOption(args.kid, 'kid', 'keyset remove');
  const doc = loadKeyset(args.keyset, io, 'keyset remove');
  refusePrivateMembers(doc, 'keyset remove');
  const keys = doc.keys.filter((k) => k?.kid !== kid);
  if (keys.length === doc.keys.length)
    throw new CliError(`keyset remove: kid ${quoteForMessage(kid)} is not in the keyset`);
  if (keys.length === 0 && !args['allow-empty']) {
    throw new CliError(
      `keyset remove: ${kid} is the last key; Core would refuse every token (pass --allow-empty)`,
    );
  }
  writeKeyset({ ...doc, keys }, args.out, args.compact ?? false, io);
  io.stderr(`removed ${kid}; the keyset now holds ${keys.length} key(s)\n`);
  return EXIT_OK;
}
