import { algorithmOfKey } from '../key-object-algorithm.js';
import { checkJwk } from '../keyset-policy.js';
import { toPublicJwk } from '../public-jwk.js';
import { parseCommandArgs } from './args.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE, parseJson, readInput } from './io.js';
import {
  KEYSET_SOURCE_HELP,
  loadKeyset,
  publicTestKeyProblems,
  refusePrivateMembers,
  warnPublicTestKeys,
  writeKeyset,
} from './keyset-document.js';
import { publicKeyFromPem } from './pem.js';

export const KEYSET_ADD_USAGE = `Usage: hyper-s2s-keys keyset add (--jwk FILE | --pem FILE --kid lite-YYYY-MM) [--keyset FILE] [--out FILE] [--compact] [--allow-test-keys]

Adds a public key to the keyset (rotation runbook step 2) and prints the new document
(or writes it to --out). Refuses duplicate kids, private keys, weak keys, bad kid names and the
contract's public test keys (their private keys ship with the test vectors, so anyone can sign).

${KEYSET_SOURCE_HELP}
With neither, it starts a new keyset holding just this key (and says so on stderr).

Options:
  --jwk FILE         a public JWK, or a JWKS holding exactly one key (e.g. the output of keygen)
  --pem FILE         a key PEM (private or public; only the public part is added), with --kid
  --kid ID           key id for --pem
  --keyset FILE      the current keyset ("-" for stdin)
  --out FILE         write the result here (atomically) instead of stdout; may be the --keyset file
  --compact          one line of JSON (for an environment variable)
  --allow-test-keys  add one of the contract's public test keys (lite-2026-03/04/05) with a warning
                     instead: for a test keyset only
  -h, --help         show this help
`;

function jwkFromFile(path: string): unknown {
  const doc = parseJson(readInput(path, 'JWK file'), `JWK file ${path}`) as { keys?: unknown } | null;
  if (doc && typeof doc === 'object' && Array.isArray(doc.keys)) {
    if (doc.keys.length !== 1)
      throw new CliError(`keyset add: ${path} holds ${doc.keys.length} keys; pass one`);
    return doc.keys[0];
  }
  return doc;
}

export function keysetAdd(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    {
      jwk: { type: 'string' },
      pem: { type: 'string' },
      kid: { type: 'string' },
      keyset: { type: 'string' },
      out: { type: 'string' },
      compact: { type: 'boolean' },
      'allow-test-keys': { type: 'boolean' },
    },
    'keyset add',
  );
  if (args.help) {
    io.stdout(KEYSET_ADD_USAGE);
    return EXIT_OK;
  }
  if ((args.jwk === undefined) === (args.pem === undefined)) {
    throw new CliError('keyset add: pass exactly one of --jwk or --pem', EXIT_USAGE);
  }
  let jwk: unknown;
  if (args.pem !== undefined) {
    if (args.kid === undefined) throw new CliError('keyset add: --pem needs --kid', EXIT_USAGE);
    const key = publicKeyFromPem(readInput(args.pem, 'PEM file'), 'keyset add');
    const check = algorithmOfKey(key);
    if (!check.ok) throw new CliError(`keyset add: ${check.problem}`);
    jwk = toPublicJwk(key, args.kid, check.alg);
  } else {
    if (args.kid !== undefined)
      throw new CliError('keyset add: --kid goes with --pem; a JWK carries its own', EXIT_USAGE);
    jwk = jwkFromFile(args.jwk!);
  }
  const { problems } = checkJwk(jwk, 'new key');
  if (problems.length > 0) {
    throw new CliError(`keyset add: refused:\n${problems.map((p) => `  ${p.problem}`).join('\n')}`);
  }
  const doc = loadKeyset(args.keyset, io, 'keyset add', true);
  refusePrivateMembers(doc, 'keyset add');
  const kid = (jwk as { kid: string }).kid;
  if (doc.keys.some((k) => k?.kid === kid))
    throw new CliError(`keyset add: kid ${kid} is already in the keyset`);
  const [testKey] = publicTestKeyProblems([jwk]);
  if (testKey !== undefined && !args['allow-test-keys'])
    throw new CliError(`keyset add: refused: ${testKey.problem}`);
  doc.keys.push(jwk as Record<string, unknown>);
  // Test keys already in the keyset are only named here: "keyset check" is the gate that fails on them.
  warnPublicTestKeys(doc.keys, io, 'keyset add');
  writeKeyset(doc, args.out, args.compact ?? false, io);
  io.stderr(`added ${kid}; the keyset now holds ${doc.keys.length} key(s)\n`);
  return EXIT_OK;
}
