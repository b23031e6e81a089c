import { basename } from 'node:path';
import { KID_PATTERN, quoteForMessage } from '@hyper/s2s-contracts';
import { algorithmOfKey } from '../key-object-algorithm.js';
import { publicJwkProblem, toPublicJwk } from '../public-jwk.js';
import { parseCommandArgs, requireOption } from './args.js';
import { writeFileAtomic } from './atomic-write.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE, readInput } from './io.js';
import { publicKeyFromPem } from './pem.js';

export const JWKS_USAGE = `Usage: hyper-s2s-keys jwks --pem FILE [--kid lite-YYYY-MM] [--out FILE] [--compact]

Prints the public JWKS { "keys": [ ... ] } of a private or public key PEM ("-" reads stdin), or
writes it atomically to --out. Only public members are ever printed.

Options:
  --pem FILE     the key PEM (required)
  --kid ID       key id, lite-YYYY-MM; without it, taken from a FILE named lite-YYYY-MM.pem
  --out FILE     write the JWKS here instead of stdout
  --compact      one line of JSON (for an environment variable)
  -h, --help     show this help
`;

export function jwks(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    {
      pem: { type: 'string' },
      kid: { type: 'string' },
      out: { type: 'string' },
      compact: { type: 'boolean' },
    },
    'jwks',
  );
  if (args.help) {
    io.stdout(JWKS_USAGE);
    return EXIT_OK;
  }
  const path = requireOption(args.pem, 'pem', 'jwks');
  const kid = args.kid ?? kidFromFileName(path, io);
  if (!KID_PATTERN.test(kid))
    throw new CliError(`jwks: --kid ${quoteForMessage(kid)} does not follow lite-YYYY-MM`, EXIT_USAGE);
  const key = publicKeyFromPem(readInput(path, 'PEM file'), 'jwks');
  const check = algorithmOfKey(key);
  if (!check.ok) throw new CliError(`jwks: ${check.problem}`);
  const jwk = toPublicJwk(key, kid, check.alg);
  // A JWKS Core would refuse (an RSA exponent of 3, ...) is not printed as if it were usable.
  const problem = publicJwkProblem(jwk);
  if (problem !== undefined) throw new CliError(`jwks: refused: ${problem}`);
  const doc = { keys: [jwk] };
  const text = `${JSON.stringify(doc, null, args.compact ? undefined : 2)}\n`;
  if (args.out === undefined || args.out === '-') io.stdout(text);
  else writeFileAtomic(args.out, text);
  return EXIT_OK;
}

/** `lite-2026-12.pem` names its kid; anything else needs --kid, and the error says so. */
function kidFromFileName(path: string, io: CliIo): string {
  const stem = basename(path).replace(/\.(pem|key)$/i, '');
  if (path !== '-' && KID_PATTERN.test(stem)) {
    io.stderr(`jwks: kid ${stem} taken from the file name (pass --kid to choose another)\n`);
    return stem;
  }
  throw new CliError(
    `jwks: --kid is required: ${path === '-' ? 'stdin' : path} is not named lite-YYYY-MM.pem, so the kid cannot be derived from it`,
    EXIT_USAGE,
  );
}
