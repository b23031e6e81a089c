import { checkKeyset } from '../keyset-policy.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, EXIT_FAILURE, EXIT_OK } from './io.js';
import { KEYSET_SOURCE_HELP, loadKeyset, warnPublicTestKeys } from './keyset-document.js';

export const KEYSET_CHECK_USAGE = `Usage: hyper-s2s-keys keyset check [--keyset FILE]

Checks the keyset before it is deployed to Core: duplicate kids, private members, weak keys
(RSA under 2048 bits, EC other than P-256), symmetric keys, alg mismatches and bad kid names.
Exits 0 when clean, 1 with one line per problem.

${KEYSET_SOURCE_HELP}

Options:
  --keyset FILE  the keyset ("-" for stdin)
  -h, --help     show this help
`;

export function keysetCheck(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(argv, { keyset: { type: 'string' } }, 'keyset check');
  if (args.help) {
    io.stdout(KEYSET_CHECK_USAGE);
    return EXIT_OK;
  }
  const doc = loadKeyset(args.keyset, io, 'keyset check');
  const problems = checkKeyset(doc);
  warnPublicTestKeys(doc.keys, io, 'keyset check');
  if (problems.length === 0) {
    io.stdout(`ok: ${doc.keys.length} key(s)\n`);
    return EXIT_OK;
  }
  for (const p of problems) io.stdout(`${p.key}: ${p.problem}\n`);
  io.stderr(`${problems.length} problem(s)\n`);
  return EXIT_FAILURE;
}
