import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { file } from '../harness/vectors.js';
import { ReasonTally } from './support/contract-checks.js';
import { expectedReason } from './support/contract-oracle.js';
import { FUZZ_ALGORITHMS, FUZZ_CALL, fuzzRuns, fuzzVerifier } from './support/fuzz-verifier.js';
import { conformingToken } from './support/jws.js';
import { buildSignedCase, mutate, mutation, signedCaseSpec } from './support/token-cases.js';

const NOW = file.now;
const MUTATION_RUNS = 40_000;
const RESIGNED_RUNS = 15_000;
const KEYSET_KIDS = file.jwks.keys.map((key) => key.kid);

const verifier = fuzzVerifier();
let valid: string[] = [];

/** An RS256 token whose signature starts with a zero byte (about 1 in 256), for strip/prepend edits. */
function tokenWithLeadingZeroSignature(): string {
  for (let i = 0; ; i++) {
    const token = conformingToken('lite-2026-03', NOW, `leading-zero-${i}`);
    if (Buffer.from(token.split('.')[2]!, 'base64url')[0] === 0) return token;
  }
}

beforeAll(() => {
  const variants: Record<string, unknown>[] = [
    {},
    { aud: ['hyper-analytics', file.audience] },
    { scope: 'spaces:create join_tokens:issue' },
    { exp: NOW + 60.5 },
    { pad: 'p'.repeat(5600) }, // near the 8192-character cap: insertions push it over
  ];
  valid = KEYSET_KIDS.flatMap((kid) =>
    variants.map((overrides, i) => conformingToken(kid, NOW, `base-${kid}-${i}`, overrides)),
  );
  valid.push(tokenWithLeadingZeroSignature());
}, 30_000);

describe('fuzzing verify with valid tokens changed after signing', () => {
  it('accepts every unchanged token (the baseline the mutations start from)', async () => {
    expect(valid.every((token) => token.length <= file.maxTokenLength)).toBe(true);
    for (const token of valid) expect(await verifier.check(token)).toBe('ok');
  });

  it(`never answers 200 once a byte of a valid token changed without re-signing (${MUTATION_RUNS} runs)`, async () => {
    const tally = new ReasonTally();
    const validSet = new Set(valid);
    let unchanged = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: valid.length - 1 }),
        fc.array(mutation(NOW, valid.length), { minLength: 1, maxLength: 3 }),
        async (index, changes) => {
          let token = valid[index]!;
          for (const change of changes) token = mutate(token, change, valid);
          const reason = await verifier.check(token);
          tally.add(reason);
          // A mutation can land back on a valid token (a splice of identical headers): that one stays valid.
          if (validSet.has(token)) {
            unchanged++;
            return reason === 'ok';
          }
          return reason !== 'ok';
        },
      ),
      fuzzRuns(MUTATION_RUNS),
    );
    console.info(
      `[fuzz] ${MUTATION_RUNS} unsigned mutations (${unchanged} landed on a valid token):`,
      tally.toJSON(),
    );
    expect(tally.total).toBeGreaterThanOrEqual(MUTATION_RUNS);
    expect(tally.get('ok')).toBe(unchanged);
  }, 180_000);

  it(`answers exactly the contract's reason for header and claim edits re-signed with a key (${RESIGNED_RUNS} runs)`, async () => {
    const tally = new ReasonTally();
    await fc.assert(
      fc.asyncProperty(
        signedCaseSpec(NOW),
        fc.constantFrom(['spaces:create'], ['join_tokens:issue'], ['spaces:create', 'join_tokens:issue']),
        async (spec, required) => {
          const signed = buildSignedCase(spec, NOW);
          const expected = expectedReason(signed, { now: NOW, algorithms: FUZZ_ALGORITHMS, required });
          const reason = await verifier.check(signed.token, { ...FUZZ_CALL, scope: required });
          tally.add(reason);
          if (reason !== expected) {
            throw new Error(
              `verify said ${reason}, the contract says ${expected}\n header: ${signed.headerText}\n claims: ${signed.payloadText}\n token: ${signed.token}`,
            );
          }
        },
      ),
      fuzzRuns(RESIGNED_RUNS),
    );
    console.info(`[fuzz] ${RESIGNED_RUNS} re-signed edits:`, tally.toJSON());
    expect(tally.total).toBeGreaterThanOrEqual(RESIGNED_RUNS);
    // The generator must reach deep: accepted tokens, claim failures and header failures all occur.
    for (const reason of ['ok', 'invalid_header', 'invalid_algorithm', 'unknown_kid', 'invalid_signature']) {
      expect(tally.get(reason)).toBeGreaterThan(0);
    }
  }, 240_000);
});
