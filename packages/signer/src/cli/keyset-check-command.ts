import { checkKeyset } from '../keyset-policy.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, EXIT_FAILURE, EXIT_OK } from './io.js';
import {
  KEYSET_SOURCE_HELP,
  loadKeyset,
  publicTestKeyProblems,
  warnPublicTestKeys,
} from './keyset-document.js';

export const KEYSET_CHECK_USAGE = `Usage: hyper-s2s-keys keyset check [--keyset FILE] [--allow-test-keys]

Checks the keyset before it is deployed to Core: duplicate kids, private members, weak keys
(RSA under 2048 bits, EC other than P-256), symmetric keys, alg mismatches, bad kid names and the
contract's public test keys (their private keys ship with the test vectors, so anyone can sign).
Exits 0 when clean, 1 with one line per problem.

${KEYSET_SOURCE_HELP}

Options:
  --keyset FILE      the keyset ("-" for stdin)
  --allow-test-keys  pass the contract's public test keys (lite-2026-03/04/05) with a warning
                     instead: for a test keyset only
  -h, --help         show this help
`;

export function keysetCheck(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    { keyset: { type: 'string' }, 'allow-test-keys': { type: 'boolean' } },
    'keyset check',
  );
  if (args.help) {
    io.stdout(KEYSET_CHECK_USAGE);
    return EXIT_OK;
  }
  const doc = loadKeyset(args.keyset, io, 'keyset check');
  const problems = checkKeyset(doc);
  // A gate on the exit code must not pass a keyset anyone can sign for.
  if (args['allow-test-keys']) warnPublicTestKeys(doc.keys, io, 'keyset check');
  else problems.push(...publicTestKeyProblems(doc.keys));
  if (problems.length === 0) {
    io.stdout(`ok: ${doc.keys.length} key(s)\n`);
    return EXIT_OK;
  }
  for (const p of problems) io.stdout(`${p.key}: ${p.problem}\n`);
  io.stderr(`${problems.length} problem(s)\n`);
  return EXIT_FAILURE;
}
