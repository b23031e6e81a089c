import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { KID_PATTERN, MIN_RSA_MODULUS_BITS } from '@hyper/s2s-contracts';
import { toPublicJwk } from '../public-jwk.js';
import { parseCommandArgs, requireOption } from './args.js';
import { writeFileAtomic } from './atomic-write.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE } from './io.js';

export const KEYGEN_USAGE = `Usage: hyper-s2s-keys keygen --kid lite-YYYY-MM --out FILE [--jwk-out FILE] [--alg RS256|ES256] [--bits N] [--force]

Generates a signing key pair for the rotation runbook (step 1).
Writes the PKCS#8 private key PEM to FILE with mode 0600 and the public JWK to --jwk-out (or
stdout), ready for "hyper-s2s-keys keyset add". Files are written atomically.

Options:
  --kid ID       key id, lite-YYYY-MM (required)
  --out FILE     where the private key goes (required); refuses to overwrite without --force.
                 "--out -" prints the private key on stdout (and the JWK on stderr): only if you mean it
  --jwk-out FILE where the public JWK goes (default: stdout)
  --alg ALG      RS256 (default, the contract's) or ES256 (P-256)
  --bits N       RSA modulus size, at least ${MIN_RSA_MODULUS_BITS} (default ${MIN_RSA_MODULUS_BITS})
  --force        replace an existing FILE
  -h, --help     show this help
`;

export function keygen(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    {
      kid: { type: 'string' },
      out: { type: 'string' },
      'jwk-out': { type: 'string' },
      alg: { type: 'string' },
      bits: { type: 'string' },
      force: { type: 'boolean' },
    },
    'keygen',
  );
  if (args.help) {
    io.stdout(KEYGEN_USAGE);
    return EXIT_OK;
  }
  const kid = requireOption(args.kid, 'kid', 'keygen');
  const out = requireOption(args.out, 'out', 'keygen');
  if (!KID_PATTERN.test(kid))
    throw new CliError(`keygen: --kid ${kid} does not follow lite-YYYY-MM`, EXIT_USAGE);
  const alg = args.alg ?? 'RS256';
  if (alg !== 'RS256' && alg !== 'ES256')
    throw new CliError('keygen: --alg must be RS256 or ES256', EXIT_USAGE);
  const bits = args.bits === undefined ? MIN_RSA_MODULUS_BITS : Number(args.bits);
  if (!Number.isInteger(bits) || bits < MIN_RSA_MODULUS_BITS || bits > 16384) {
    throw new CliError(`keygen: --bits must be an integer of at least ${MIN_RSA_MODULUS_BITS}`, EXIT_USAGE);
  }
  if (alg === 'ES256' && args.bits !== undefined)
    throw new CliError('keygen: --bits applies to RS256 only', EXIT_USAGE);

  const { privateKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const jwk = `${JSON.stringify(toPublicJwk(privateKey, kid, alg), null, 2)}\n`;

  if (out === '-') {
    io.stdout(pem);
    io.stderr(jwk);
    return EXIT_OK;
  }
  const jwkOut = args['jwk-out'];
  if (jwkOut === out) throw new CliError('keygen: --jwk-out must differ from --out', EXIT_USAGE);
  if (existsSync(out) && !args.force) throw new CliError(`keygen: ${out} exists; pass --force to replace it`);
  try {
    // Mode 0600 from the temp file's creation: the key is never readable by others, not even briefly.
    writeFileAtomic(out, pem, { mode: 0o600, noClobber: !args.force });
  } catch (error) {
    throw new CliError(`keygen: ${(error as Error).message}`);
  }
  io.stderr(`wrote private key ${kid} (${alg}) to ${out} (mode 0600)\n`);
  if (jwkOut === undefined || jwkOut === '-') {
    io.stdout(jwk);
  } else {
    writeFileAtomic(jwkOut, jwk);
    io.stderr(`wrote public JWK ${kid} to ${jwkOut}\n`);
  }
  return EXIT_OK;
}
