import { generateKeyPairSync } from 'node:crypto';
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { KID_PATTERN, MIN_RSA_MODULUS_BITS, quoteForMessage } from '@hyper/s2s-contracts';
import { toPublicJwk } from '../public-jwk.js';
import { integerOption, parseCommandArgs, requireOption } from './args.js';
import { type AtomicWriteOptions, writeFileAtomic } from './atomic-write.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE } from './io.js';

export const KEYGEN_USAGE = `Usage: hyper-s2s-keys keygen --kid lite-YYYY-MM --out FILE [--jwk-out FILE] [--alg RS256|ES256] [--bits N] [--force]

Generates a signing key pair for the rotation runbook (step 1).
Writes the PKCS#8 private key PEM to FILE with mode 0600 and the public JWK to --jwk-out (or
stdout), ready for "hyper-s2s-keys keyset add". Files are written atomically.

Options:
  --kid ID       key id, lite-YYYY-MM (required)
  --out FILE     where the private key goes (required); refuses to overwrite without --force.
                 "--out -" prints the private key on stdout (and the JWK on stderr): only if you mean it
  --jwk-out FILE where the public JWK goes (default: stdout); must not be FILE, and refuses to
                 overwrite without --force
  --alg ALG      RS256 (default, the contract's) or ES256 (P-256)
  --bits N       RSA modulus size, ${MIN_RSA_MODULUS_BITS} to 16384 (default ${MIN_RSA_MODULUS_BITS})
  --force        replace an existing FILE and --jwk-out FILE
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
    throw new CliError(`keygen: --kid ${quoteForMessage(kid)} does not follow lite-YYYY-MM`, EXIT_USAGE);
  const alg = args.alg ?? 'RS256';
  if (alg !== 'RS256' && alg !== 'ES256')
    throw new CliError('keygen: --alg must be RS256 or ES256', EXIT_USAGE);
  const bits =
    integerOption(args.bits, 'bits', 'keygen', { min: MIN_RSA_MODULUS_BITS, max: 16384 }) ??
    MIN_RSA_MODULUS_BITS;
  if (alg === 'ES256' && args.bits !== undefined)
    throw new CliError('keygen: --bits applies to RS256 only', EXIT_USAGE);
  const jwkOut = out === '-' || args['jwk-out'] === '-' ? undefined : args['jwk-out'];
  // Every target is checked before the (slow) key generation, so a refusal costs nothing.
  if (out !== '-') {
    if (jwkOut !== undefined && sameFile(out, jwkOut)) {
      throw new CliError(
        `keygen: --jwk-out ${jwkOut} and --out ${out} are the same file; the public JWK would replace the private key`,
        EXIT_USAGE,
      );
    }
    for (const target of jwkOut === undefined ? [out] : [out, jwkOut]) {
      if (existsSync(target) && !args.force)
        throw new CliError(`keygen: ${target} exists; pass --force to replace it`);
    }
  }

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
  // noClobber closes the race with another writer after the checks above (link(2) refuses an existing name).
  // Mode 0600 from the temp file's creation: the key is never readable by others, not even briefly.
  write(out, pem, { mode: 0o600, noClobber: !args.force });
  io.stderr(`wrote private key ${kid} (${alg}) to ${out} (mode 0600)\n`);
  if (jwkOut === undefined) {
    io.stdout(jwk);
  } else {
    write(jwkOut, jwk, { noClobber: !args.force });
    io.stderr(`wrote public JWK ${kid} to ${jwkOut}\n`);
  }
  return EXIT_OK;
}

function write(path: string, text: string, options: AtomicWriteOptions): void {
  try {
    writeFileAtomic(path, text, options);
  } catch (error) {
    throw new CliError(`keygen: ${(error as Error).message}`);
  }
}

/**
 * Whether two paths name one file however spelt (`k.pem`, `./k.pem`, `dir/../k.pem`, a symlinked
 * directory): the writes replace directory entries, so an entry is its real parent directory plus its
 * name. Two existing entries are also compared by device and inode (hard links, case-insensitive disks).
 */
function sameFile(a: string, b: string): boolean {
  if (entryOf(a) === entryOf(b)) return true;
  try {
    const [x, y] = [lstatSync(a), lstatSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

function entryOf(path: string): string {
  const absolute = resolve(path);
  try {
    return join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    // A missing parent: nothing can be written there, and the write says so.
    return absolute;
  }
}
