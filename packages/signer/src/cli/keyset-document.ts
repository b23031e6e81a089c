import { existsSync } from 'node:fs';
import { ENV, findPublicTestKeys, PRIVATE_JWK_MEMBERS } from '@hyper/s2s-contracts';
import type { KeysetProblem } from '../keyset-policy.js';
import { writeFileAtomic } from './atomic-write.js';
import { CliError, type CliIo, EXIT_USAGE, parseJson, readInput } from './io.js';

export interface KeysetDocument {
  keys: Record<string, unknown>[];
}

export const KEYSET_SOURCE_HELP = `The keyset is the ${ENV.publicKeysJson} document ({ "keys": [ ... ] }), read from
--keyset FILE ("-" for stdin) or, without --keyset, from the ${ENV.publicKeysJson} variable.
A served JWKS is not fetched: download it first (curl -fsS URL -o jwks.json).`;

/**
 * A URL where the keyset document belongs (the verifier's S2S_JWKS_URL, a gateway's JWKS) would
 * otherwise fail as a missing file (ENOENT) or as bad JSON. The URL is not echoed: its query or user
 * info may carry a credential.
 */
function refuseUrl(value: string, fromEnv: boolean, command: string): void {
  if (!/^https?:\/\//i.test(value)) return;
  const what = fromEnv
    ? `${ENV.publicKeysJson} holds a URL; it must hold the keyset document itself`
    : '--keyset is a URL; it reads a keyset document file ({ "keys": [ ... ] }, "-" for stdin), not a URL';
  throw new CliError(
    `${command}: ${what}. To use a served JWKS, download it first: curl -fsS <url> -o jwks.json && hyper-s2s-keys ${command} --keyset jwks.json`,
    EXIT_USAGE,
  );
}

/**
 * Loads the keyset from --keyset or the environment; only the { keys: [...] } shape gets through.
 * With `startEmpty` (keyset add: the first key of a runbook run from zero), no source at all means a
 * new, empty keyset, said on stderr so it is never a silent surprise.
 */
export function loadKeyset(
  path: string | undefined,
  io: CliIo,
  command: string,
  startEmpty = false,
): KeysetDocument {
  let text: string;
  let what: string;
  if (path !== undefined) {
    refuseUrl(path, false, command);
    // A keyset named but missing is never taken as empty: a mistyped path would drop every key on --out.
    if (startEmpty && path !== '-' && !existsSync(path)) {
      throw new CliError(
        `${command}: keyset ${path} does not exist; to start a new keyset, leave out --keyset (${command} --jwk FILE --out ${path})`,
        EXIT_USAGE,
      );
    }
    text = readInput(path, 'keyset');
    what = `keyset ${path}`;
  } else {
    const fromEnv = io.env[ENV.publicKeysJson];
    if ((fromEnv === undefined || fromEnv.trim() === '') && startEmpty) {
      io.stderr(`${command}: no --keyset and no ${ENV.publicKeysJson}: starting a new keyset\n`);
      return { keys: [] };
    }
    if (fromEnv === undefined || fromEnv.trim() === '') {
      throw new CliError(
        `${command}: no keyset: pass --keyset FILE or set ${ENV.publicKeysJson}`,
        EXIT_USAGE,
      );
    }
    refuseUrl(fromEnv.trim(), true, command);
    text = fromEnv;
    what = ENV.publicKeysJson;
  }
  const doc = parseJson(text, what) as { keys?: unknown } | null;
  if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.keys)) {
    throw new CliError(`${command}: ${what} must be a JSON object { "keys": [ ... ] }`);
  }
  return doc as KeysetDocument;
}

/**
 * The contract's public test keys among `keys`, one per kid (by key material: @hyper/s2s-contracts'
 * findPublicTestKeys, the verifier's check too). Their private halves ship with the test vectors, so
 * anyone can sign as them: a problem unless the command was given --allow-test-keys.
 */
export function publicTestKeyProblems(keys: readonly unknown[]): KeysetProblem[] {
  return findPublicTestKeys(keys).map((match) => ({
    key: match.kid === '' ? '(no kid)' : match.kid,
    problem: `${match.message} Pass --allow-test-keys only for a test keyset.`,
  }));
}

/** With --allow-test-keys the test keys pass, but each is still named on stderr once per kid. */
export function warnPublicTestKeys(keys: readonly unknown[], io: CliIo, command: string): void {
  for (const match of findPublicTestKeys(keys)) io.stderr(`${command}: warning: ${match.message}\n`);
}

/** add/remove rewrite the document: refuse one holding private members rather than echo them. */
export function refusePrivateMembers(doc: KeysetDocument, command: string): void {
  for (const key of doc.keys) {
    if (key && typeof key === 'object' && PRIVATE_JWK_MEMBERS.some((m) => m in key)) {
      throw new CliError(
        `${command}: the keyset carries private key members; it is not printed. Run "hyper-s2s-keys keyset check".`,
      );
    }
  }
}

export function writeKeyset(doc: KeysetDocument, out: string | undefined, compact: boolean, io: CliIo): void {
  const text = `${JSON.stringify(doc, null, compact ? undefined : 2)}\n`;
  if (out === undefined || out === '-') {
    io.stdout(text);
    return;
  }
  writeFileAtomic(out, text);
}
