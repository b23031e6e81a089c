import { checkJwk } from '../keyset-policy.js';
import { parseCommandArgs } from './args.js';
import { type CliIo, EXIT_OK } from './io.js';
import { KEYSET_SOURCE_HELP, loadKeyset } from './keyset-document.js';

export const KEYSET_LIST_USAGE = `Usage: hyper-s2s-keys keyset list [--keyset FILE] [--json]

Lists the keys of the keyset: kid, key type, algorithm and strength (never key material).

${KEYSET_SOURCE_HELP}

Options:
  --keyset FILE  the keyset ("-" for stdin)
  --json         one JSON array instead of text
  -h, --help     show this help
`;

export function keysetList(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    { keyset: { type: 'string' }, json: { type: 'boolean' } },
    'keyset list',
  );
  if (args.help) {
    io.stdout(KEYSET_LIST_USAGE);
    return EXIT_OK;
  }
  const doc = loadKeyset(args.keyset, io, 'keyset list');
  const rows = doc.keys.map((jwk, index) => {
    const { facts } = checkJwk(jwk, `keys[${index}]`);
    const kid = typeof jwk?.kid === 'string' ? jwk.kid : `(keys[${index}] has no kid)`;
    return {
      kid,
      kty: facts?.kty ?? String(jwk?.kty),
      alg: facts?.alg ?? 'unusable',
      strength: facts?.strength ?? '-',
    };
  });
  if (args.json) io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else for (const r of rows) io.stdout(`${r.kid}\t${r.kty}\t${r.alg}\t${r.strength}\n`);
  return EXIT_OK;
}
