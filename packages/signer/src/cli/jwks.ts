import { KID_PATTERN } from '@hyper/s2s-contracts';
import { algorithmOfKey } from '../key-algorithm.js';
import { toPublicJwk } from '../public-jwk.js';
import { parseCommandArgs, requireOption } from './args.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE, readInput } from './io.js';
import { publicKeyFromPem } from './pem.js';

export const JWKS_USAGE = `Usage: hyper-s2s-keys jwks --pem FILE --kid lite-YYYY-MM [--compact]

Prints the public JWKS { "keys": [ ... ] } of a private or public key PEM ("-" reads stdin).
Only public members are ever printed.

Options:
  --pem FILE     the key PEM (required)
  --kid ID       key id, lite-YYYY-MM (required)
  --compact      one line of JSON (for an environment variable)
  -h, --help     show this help
`;

export function jwks(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    { pem: { type: 'string' }, kid: { type: 'string' }, compact: { type: 'boolean' } },
    'jwks',
  );
  if (args.help) {
    io.stdout(JWKS_USAGE);
    return EXIT_OK;
  }
  const path = requireOption(args.pem, 'pem', 'jwks');
  const kid = requireOption(args.kid, 'kid', 'jwks');
  if (!KID_PATTERN.test(kid))
    throw new CliError(`jwks: --kid ${kid} does not follow lite-YYYY-MM`, EXIT_USAGE);
  const key = publicKeyFromPem(readInput(path, 'PEM file'), 'jwks');
  const check = algorithmOfKey(key);
  if (!check.ok) throw new CliError(`jwks: ${check.problem}`);
  const doc = { keys: [toPublicJwk(key, kid, check.alg)] };
  io.stdout(`${JSON.stringify(doc, null, args.compact ? undefined : 2)}\n`);
  return EXIT_OK;
}
