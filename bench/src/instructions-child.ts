/**
 * Run under callgrind by `instructions.ts`: `tsx src/instructions-child.ts <candidate> <count> <in-flight> <tokens.json>`
 * verifies the first `count` tokens of the file with one candidate, `in-flight` at a time, and exits.
 * Everything else the process does (start-up, imports, key import) is the same for any `count`, so the
 * difference between two counts is the candidate's work per token.
 */
import { readFileSync } from 'node:fs';
import { createVerifier, memoryReplayStore } from '@hyper/s2s-verifier';
import { importSPKI, jwtVerify } from 'jose';
import { AUDIENCE, ISSUER, JOSE_VERIFY_OPTIONS, SCOPE } from './fixtures.js';
import { INSTRUCTION_CANDIDATES, type InstructionCandidate, type InstructionTokens } from './instructions.js';

async function operation(
  candidate: InstructionCandidate,
  file: InstructionTokens,
): Promise<(token: string) => Promise<unknown>> {
  if (candidate === 'jose') {
    const key = await importSPKI(file.publicKeyPem, 'RS256');
    const options = { ...JOSE_VERIFY_OPTIONS, currentDate: new Date(file.mintedAt) };
    return (token) => jwtVerify(token, key, options);
  }
  const verifier = createVerifier({
    keys: { jwks: file.jwks as never },
    audience: AUDIENCE,
    issuers: [ISSUER],
    replayStore: memoryReplayStore(),
    now: () => file.mintedAt,
  });
  return async (token) => {
    const result = await verifier.verify(token, { scope: SCOPE, path: '/bench' });
    if (!result.ok) throw Object.assign(new Error('rejected'), { code: result.reason });
  };
}

const [candidate = '', count = '', inFlight = '', path = ''] = process.argv.slice(2);
const total = Number(count);
const parallel = Number(inFlight);
if (
  !Object.hasOwn(INSTRUCTION_CANDIDATES, candidate) ||
  !Number.isInteger(total) ||
  total < 1 ||
  !Number.isInteger(parallel) ||
  parallel < 1 ||
  path === ''
) {
  throw new Error('usage: instructions-child.ts <candidate> <count> <in-flight> <tokens.json>');
}
const file = JSON.parse(readFileSync(path, 'utf8')) as InstructionTokens;
if (file.tokens.length < total) throw new Error(`${path} holds ${file.tokens.length} tokens, not ${total}`);
const op = await operation(candidate as InstructionCandidate, file);
let next = 0;
const worker = async () => {
  while (next < total) await op(file.tokens[next++]!);
};
// Reported by code only, once, off the per-token path: jose's errors carry the token's claims.
await Promise.all(Array.from({ length: parallel }, worker)).catch((error: { code?: string }) => {
  throw new Error(`${candidate} rejected a valid token: ${error.code ?? 'error'}`);
});
