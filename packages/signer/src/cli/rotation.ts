import { existsSync } from 'node:fs';
import { type PublicJwk, quoteForMessage } from '@hyper/s2s-contracts';
import { SignerError } from '../errors.js';
import { DEFAULT_JWKS_MAX_AGE_SECONDS } from '../jwks-handler.js';
import { DEFAULT_VERIFIER_CACHE_SECONDS, type KeySet } from '../key-set.js';
import {
  type KeySetDocument,
  type KeySetDocumentKey,
  keySetFromDocument,
  keySetToDocument,
  parseKeySetDocument,
} from '../key-set-document.js';
import { integerOption, parseCommandArgs, requireOption } from './args.js';
import { writeFileAtomic } from './atomic-write.js';
import { CliError, type CliIo, EXIT_OK, EXIT_USAGE, parseJson, readInput } from './io.js';

export const ROTATION_USAGE = `Usage: hyper-s2s-keys rotation <command> [options]

JWKS-mode rotation (Core on S2S_JWKS_URL) with Cloud KMS: keeps the key set document the gateway
publishes from, i.e. which KMS key version is published under which kid, and when.

Commands:
  init          start a document: --kid ID --kms-key-version NAME [--max-age S] [--verifier-cache S] [--switch-propagation S] [--force]
  publish-next  publish --kid ID --kms-key-version NAME as the next key (step 1)
  switch        the next key becomes the signing key; the old one stays published until its retire time (step 3)
  retire        drop previous keys past their retire time; --kid ID drops one now (revocation)
  status        print the timeline: which version is which kid, and when each step may happen

Common options:
  --state FILE  the key set document to read (all commands but init)
  --out FILE    write the new document to FILE (atomically: temp file + rename); without it, stdout
  --now TIME    ISO 8601 time to act at (default: now), e.g. to plan ahead
  -h, --help    show this help (\`rotation <command> --help\`: that command's own options)
`;

const COMMON_OPTIONS = `  --state FILE              the key set document to read (required)
  --out FILE                write the new document to FILE (atomically); without it, stdout
  --now TIME                ISO 8601 time to act at (default: now)
  -h, --help                show this help
`;

/** Each state command's own usage, printed by \`rotation <command> --help\`. */
export const ROTATION_COMMAND_USAGE: Readonly<Record<string, string>> = {
  'publish-next': `Usage: hyper-s2s-keys rotation publish-next --state FILE --kid ID --kms-key-version NAME [options]

Step 1: publishes NAME under kid ID as the next key, ahead of signing with it.

Options:
  --kid ID                  the next key's kid, lite-YYYY-MM (required)
  --kms-key-version NAME    projects/…/cryptoKeyVersions/N (required)
${COMMON_OPTIONS}`,
  switch: `Usage: hyper-s2s-keys rotation switch --state FILE [options]

Step 3: the next key becomes the signing key; refused before every verifier cache has seen it published.

Options:
  --force                   switch before that time (verifiers still caching the old JWKS answer unknown_kid)
${COMMON_OPTIONS}`,
  retire: `Usage: hyper-s2s-keys rotation retire --state FILE [options]

Drops previous keys whose retire time has passed, or one key now.

Options:
  --kid ID                  drop this previous key now (revocation), whatever its retire time
${COMMON_OPTIONS}`,
  status: `Usage: hyper-s2s-keys rotation status --state FILE [--now TIME]

Prints the timeline: which KMS key version is which kid, and when each step may happen.

Options:
${COMMON_OPTIONS.replace(/ {2}--out FILE[^\n]*\n/, '')}`,
};

export const ROTATION_INIT_USAGE = `Usage: hyper-s2s-keys rotation init --kid ID --kms-key-version NAME [options]

Starts a key set document: NAME (a KMS key version) signs and is published under kid ID.

Options:
  --kid ID                  the kid of the signing key, lite-YYYY-MM (required)
  --kms-key-version NAME    projects/…/cryptoKeyVersions/N (required)
  --max-age S               Cache-Control max-age of the published JWKS (default ${DEFAULT_JWKS_MAX_AGE_SECONDS})
  --verifier-cache S        the longest any verifier caches the JWKS: Core's S2S_JWKS_CACHE_MAX_AGE_MS / 1000,
                            rounded up (default ${DEFAULT_VERIFIER_CACHE_SECONDS}, the verifier's own default). At least 1, even
                            with --force: 0 would only drop the switch wait ("rotation switch --force" is
                            the way to switch early)
  --switch-propagation S    how long Lite instances may still sign with the previous key after a switch
                            (default: --max-age)
  --out FILE                write the document to FILE (atomically); without it, stdout
  --force                   replace an existing --out FILE (without it, init refuses: it would drop the
                            rotation state that file holds)
  -h, --help                show this help

S is whole seconds up to 86400, in decimal digits: a blank value (an unset variable), 0x10 or 1e3 is
refused (exit 2).
`;

function emit(io: CliIo, out: string | undefined, document: KeySetDocument, noClobber = false): void {
  const text = `${JSON.stringify(document, null, 2)}\n`;
  if (out === undefined || out === '-') io.stdout(text);
  else writeFileAtomic(out, text, { noClobber });
}

function nowOf(value: string | undefined, command: string): number {
  if (value === undefined) return Date.now();
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new CliError(`rotation ${command}: --now must be an ISO 8601 time`, EXIT_USAGE);
  return ms;
}

/** The key set's bound on every timing (whole seconds). */
const SECONDS = { min: 0, max: 86_400 } as const;

/**
 * No verifier caches a JWKS for 0 s (Core's S2S_JWKS_CACHE_MAX_AGE_MS is at least 1 ms, i.e. 1 s
 * rounded up), so 0 would only drop the switch wait. Refused outright, not behind --force (which here
 * means "replace --out"): `rotation switch --force` is the one way to switch early.
 */
const VERIFIER_CACHE_SECONDS = { min: 1, max: SECONDS.max } as const;

/** The document's arithmetic without any KMS call: keys that are only kid <-> version pairs. */
function plan(document: KeySetDocument, now: number): KeySet {
  return keySetFromDocument(document, {
    now: () => now,
    publish: (key: KeySetDocumentKey) => ({
      kid: key.kid,
      keyVersionName: key.kmsKeyVersion,
      publicJwk: async (): Promise<PublicJwk | undefined> => undefined,
    }),
  });
}

function load(state: string, command: string): KeySetDocument {
  try {
    return parseKeySetDocument(parseJson(readInput(state, 'key set document'), 'key set document'));
  } catch (error) {
    if (error instanceof SignerError) throw new CliError(`rotation ${command}: ${error.message}`);
    throw error;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const version = (name: string | undefined) => name ?? '?';

function describeTimeline(keySet: KeySet, now: number): string {
  const s = keySet.status();
  const t = keySet.timings;
  const lines = [
    `timings: JWKS max-age ${t.maxAgeSeconds} s, verifier cache ${t.verifierCacheSeconds} s, switch propagation ${t.switchPropagationSeconds} s, max TTL ${t.maxTtlSeconds} s, skew ${t.clockSkewSeconds} s`,
    `current   ${s.current.kid}  <-  ${version(s.current.keyVersionName)}  (signing)`,
  ];
  if (s.next) {
    const ready =
      s.next.switchNotBefore <= now ? 'may switch now' : `switch not before ${iso(s.next.switchNotBefore)}`;
    lines.push(
      `next      ${s.next.kid}  <-  ${version(s.next.keyVersionName)}  (published ${iso(s.next.publishedAt)}; ${ready})`,
    );
  }
  for (const p of s.previous) {
    lines.push(`previous  ${p.kid}  <-  ${version(p.keyVersionName)}  (published until ${iso(p.retireAt)})`);
  }
  return `${lines.join('\n')}\n`;
}

function init(argv: string[], io: CliIo): number {
  const args = parseCommandArgs(
    argv,
    {
      kid: { type: 'string' },
      'kms-key-version': { type: 'string' },
      'max-age': { type: 'string' },
      'verifier-cache': { type: 'string' },
      'switch-propagation': { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
    },
    'rotation init',
  );
  if (args.help) {
    io.stdout(ROTATION_INIT_USAGE);
    return EXIT_OK;
  }
  // An existing document is live rotation state (next and previous keys): starting over drops it.
  const out = args.out === '-' ? undefined : args.out;
  if (out !== undefined && !args.force && existsSync(out)) {
    throw new CliError(
      `rotation init: ${out} exists (it may hold live rotation state); pass --force to replace it`,
    );
  }
  const current = {
    kid: requireOption(args.kid, 'kid', 'rotation init'),
    kmsKeyVersion: requireOption(args['kms-key-version'], 'kms-key-version', 'rotation init'),
  };
  const doc: KeySetDocument = { current };
  const timings = {
    maxAgeSeconds: integerOption(args['max-age'], 'max-age', 'rotation init', SECONDS),
    verifierCacheSeconds: integerOption(
      args['verifier-cache'],
      'verifier-cache',
      'rotation init',
      VERIFIER_CACHE_SECONDS,
    ),
    switchPropagationSeconds: integerOption(
      args['switch-propagation'],
      'switch-propagation',
      'rotation init',
      SECONDS,
    ),
  };
  for (const [name, value] of Object.entries(timings)) {
    if (value !== undefined) doc[name as keyof typeof timings] = value;
  }
  const keySet = guarded('init', () => plan(parseKeySetDocument(doc), Date.now()));
  // No clobber unless --force: the check above names the file; this closes the race with a writer.
  emit(io, out, keySetToDocument(keySet), args.force !== true);
  io.stderr(`kid ${current.kid} is ${current.kmsKeyVersion}, signing\n`);
  return EXIT_OK;
}

/** SignerErrors (bad kid, early switch, unknown kid) are the operator's to fix: one line, exit 1. */
function guarded<T>(command: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof SignerError) throw new CliError(`rotation ${command}: ${error.message}`);
    throw error;
  }
}

function stateCommand(
  command: string,
  extra: Record<string, { type: 'string' | 'boolean' }>,
  act: (
    keySet: KeySet,
    args: Record<string, string | boolean | undefined>,
    io: CliIo,
    now: number,
    document: KeySetDocument,
  ) => void,
) {
  return (argv: string[], io: CliIo): number => {
    const args = parseCommandArgs(
      argv,
      { state: { type: 'string' }, out: { type: 'string' }, now: { type: 'string' }, ...extra },
      `rotation ${command}`,
    );
    if (args.help) {
      io.stdout(ROTATION_COMMAND_USAGE[command] ?? ROTATION_USAGE);
      return EXIT_OK;
    }
    const state = requireOption(args.state as string | undefined, 'state', `rotation ${command}`);
    const now = nowOf(args.now as string | undefined, command);
    const document = load(state, command);
    const keySet = guarded(command, () => plan(document, now));
    guarded(command, () => act(keySet, args, io, now, document));
    if (command === 'status') return EXIT_OK;
    // Re-validated as a whole, so a bad kid or a version published twice is refused, never written.
    const next = guarded(command, () => parseKeySetDocument(keySetToDocument(keySet)));
    emit(io, args.out as string | undefined, next);
    return EXIT_OK;
  };
}

const publishNext = stateCommand(
  'publish-next',
  { kid: { type: 'string' }, 'kms-key-version': { type: 'string' } },
  (keySet, args, io) => {
    const kid = requireOption(args.kid as string | undefined, 'kid', 'rotation publish-next');
    const kmsKeyVersion = requireOption(
      args['kms-key-version'] as string | undefined,
      'kms-key-version',
      'rotation publish-next',
    );
    // The pair is validated with the whole document before it is written (kid convention, unique versions).
    const { switchNotBefore } = keySet.publishNext({
      kid,
      keyVersionName: kmsKeyVersion,
      publicJwk: async () => undefined,
    });
    io.stderr(
      `kid ${kid} is ${kmsKeyVersion}, published next; switch signing to it not before ${iso(switchNotBefore)} (+${keySet.timings.verifierCacheSeconds} s verifier cache)\n`,
    );
  },
);

const switchToNext = stateCommand('switch', { force: { type: 'boolean' } }, (keySet, args, io) => {
  const before = keySet.current.kid;
  const { retireAt } = keySet.switchToNext({ force: args.force === true });
  const t = keySet.timings;
  io.stderr(
    `signing key is now ${keySet.current.kid}; ${before} stays published until ${iso(retireAt)} (+${t.switchPropagationSeconds} s propagation + ${t.maxTtlSeconds} s TTL + ${t.clockSkewSeconds} s skew)\nDeploy Lite with the new kid and key version now.\n`,
  );
});

const retire = stateCommand('retire', { kid: { type: 'string' } }, (keySet, args, io, _now, document) => {
  const kid = args.kid as string | undefined;
  if (kid !== undefined) {
    keySet.retire(kid);
    io.stderr(
      `${kid} removed from the JWKS now. Verifiers trust it until their cache expires (at most ${keySet.timings.verifierCacheSeconds} s) unless you run verifier.refreshKeys() on each; disable its KMS version too.\n`,
    );
    return;
  }
  // The key set drops previous keys past their retire time when read: name the ones this run dropped.
  const left = keySet.status().previous.map((p) => p.kid);
  const due = (document.previous ?? []).map((p) => p.kid).filter((k) => !left.includes(k));
  io.stderr(
    `${due.length === 0 ? 'no previous key is past its retire time' : `retired: ${due.join(', ')}`}; previous keys still published: ${left.length === 0 ? 'none' : left.join(', ')}\n`,
  );
});

const status = stateCommand('status', {}, (keySet, _args, io, now) => {
  io.stdout(describeTimeline(keySet, now));
});

const COMMANDS: Record<string, (argv: string[], io: CliIo) => number> = {
  init,
  'publish-next': publishNext,
  switch: switchToNext,
  retire,
  status,
};

export function rotation(argv: string[], io: CliIo): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(ROTATION_USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    throw new CliError(
      `rotation: unknown command ${quoteForMessage(command)}\n\n${ROTATION_USAGE}`,
      EXIT_USAGE,
    );
  }
  return run(rest, io);
}
