/**
 * The two candidates that the instruction count (`instructions-child.ts`) and the perf profile
 * (`perf-profile-child.ts`) compare, built and driven the same way for both: bare jose `jwtVerify`, and
 * the verifier with the full policy and a memory replay store, both on the clock the tokens were minted
 * by (nothing expires mid-run).
 */
import { createVerifier } from '@hyper/s2s-verifier';
import { importSPKI, jwtVerify } from 'jose';
import { AUDIENCE, ISSUER, JOSE_VERIFY_OPTIONS, roundStore, SCOPE } from './fixtures.js';
import type { InstructionCandidate, InstructionTokens } from './instructions.js';

export type Operation = (token: string) => Promise<unknown>;

/** jose with its key imported once: every call shares the one CryptoKey. */
export async function joseOperation(file: InstructionTokens): Promise<Operation> {
  const key = await importSPKI(file.publicKeyPem, 'RS256');
  const options = { ...JOSE_VERIFY_OPTIONS, currentDate: new Date(file.mintedAt) };
  return (token) => jwtVerify(token, key, options);
}

/**
 * One verifier for the whole run, as jose keeps one CryptoKey (see roundStore); `nextRound` empties its
 * replay store, so every token of the file is a first use again.
 */
export function verifierOperation(file: InstructionTokens): Operation & { nextRound(): Promise<void> } {
  const rounds = roundStore();
  const verifier = createVerifier({
    keys: { jwks: file.jwks as never },
    audience: AUDIENCE,
    issuers: [ISSUER],
    replayStore: rounds.store,
    now: () => file.mintedAt,
  });
  const op = async (token: string) => {
    const result = await verifier.verify(token, { scope: SCOPE, path: '/bench' });
    if (!result.ok) throw Object.assign(new Error('rejected'), { code: result.reason });
  };
  return Object.assign(op, { nextRound: rounds.empty });
}

/** Verifies the first `count` tokens, `inFlight` at a time. */
export async function verifyAll(
  candidate: InstructionCandidate,
  op: Operation,
  tokens: readonly string[],
  count: number,
  inFlight: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await op(tokens[next++]!);
  };
  // Reported by code only, once, off the per-token path: jose's errors carry the token's claims.
  await Promise.all(Array.from({ length: inFlight }, worker)).catch((error: { code?: string }) => {
    throw new Error(`${candidate} rejected a valid token: ${error.code ?? 'error'}`);
  });
}
