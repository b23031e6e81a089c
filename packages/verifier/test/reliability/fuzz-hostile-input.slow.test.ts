import { MAX_TOKEN_LENGTH } from '@hyper/s2s-contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { file } from '../harness/vectors.js';
import { ReasonTally } from './support/contract-checks.js';
import { claimEdit, headerEdit } from './support/edits.js';
import { fuzzRuns, fuzzVerifier } from './support/fuzz-verifier.js';
import { type Member, PLAIN, spell } from './support/json-text.js';
import { b64url, conformingToken } from './support/jws.js';

const NOW = file.now;
const STRING_RUNS = 30_000;
const VALUE_RUNS = 5_000;
const JSON_RUNS = 15_000;
const SIZE_RUNS = 2_000;

const verifier = fuzzVerifier();

const TOKEN_CHARS = [
  ...'ABCDEFabcdef0189-_',
  '.',
  '.',
  '=',
  '+',
  '/',
  ' ',
  '\t',
  '\n',
  '%',
  '{',
  '}',
  '"',
  ':',
  ',',
];
const segment = fc.oneof(
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), maxLength: 60 }),
  fc.base64String({ maxLength: 60 }),
  fc.constantFrom('', 'eyJ', 'e30', 'eyJhbGciOiJub25lIn0', 'bnVsbA', 'W10', 'AA', 'AAA', 'AAAA'),
);
const hostileString = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), maxLength: 400 }),
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((segments) => segments.join('.')),
  fc
    .tuple(
      fc.constantFrom('Bearer ', 'bearer ', ' ', '\u00a0', '\ufeff'),
      fc.constantFrom(...segmentsOfValidTokens()),
    )
    .map(([prefix, token]) => `${prefix}${token}`),
);

/** Segments of conforming tokens, recombined with garbage by the string arbitraries. */
function segmentsOfValidTokens(): string[] {
  const tokens = ['lite-2026-03', 'lite-2026-05'].map((kid) => conformingToken(kid, NOW, `hostile-${kid}`));
  return [...tokens, ...tokens.flatMap((token) => token.split('.')).map((part) => `${part}.${part}.${part}`)];
}

const jsonSegment = (value: unknown) => b64url(JSON.stringify(value) ?? 'null');
const document = (members: Member[]) => b64url(spell(members, PLAIN).text);

describe('fuzzing verify with hostile input', () => {
  it(`never throws and never accepts an arbitrary string (${STRING_RUNS} runs)`, async () => {
    const tally = new ReasonTally();
    await fc.assert(
      fc.asyncProperty(hostileString, async (token) => {
        const reason = await verifier.check(token);
        tally.add(reason);
        return reason !== 'ok';
      }),
      fuzzRuns(STRING_RUNS),
    );
    console.info(`[fuzz] ${STRING_RUNS} hostile strings:`, tally.toJSON());
    expect(tally.total).toBeGreaterThanOrEqual(STRING_RUNS);
  }, 120_000);

  it(`answers malformed_token or missing_token for any value that is not a string (${VALUE_RUNS} runs)`, async () => {
    const tally = new ReasonTally();
    await fc.assert(
      fc.asyncProperty(
        fc.anything({
          withBigInt: true,
          withBoxedValues: true,
          withDate: true,
          withMap: true,
          withNullPrototype: true,
          withObjectString: true,
          withSet: true,
          withSparseArray: true,
          withTypedArray: true,
        }),
        async (token) => {
          fc.pre(typeof token !== 'string');
          const reason = await verifier.check(token);
          tally.add(reason);
          const missing = token === undefined || token === null;
          return reason === (missing ? 'missing_token' : 'malformed_token');
        },
      ),
      fuzzRuns(VALUE_RUNS),
    );
    console.info(`[fuzz] ${VALUE_RUNS} non-string values:`, tally.toJSON());
  }, 60_000);

  it(`never accepts arbitrary JSON objects under a header and signature that look right (${JSON_RUNS} runs)`, async () => {
    const tally = new ReasonTally();
    const realSignatures = segmentsOfValidTokens()
      .slice(0, 2)
      .map((token) => token.split('.')[2]!);
    const header = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map(jsonSegment),
      fc.object({ maxDepth: 2 }).map(jsonSegment),
      fc.array(headerEdit, { maxLength: 5 }).map(document),
      fc
        .tuple(fc.constantFrom(...file.jwks.keys), fc.array(headerEdit, { maxLength: 1 }))
        .map(([key, extra]) => document([['alg', key.alg], ['typ', 'JWT'], ['kid', key.kid], ...extra])),
    );
    const payload = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map(jsonSegment),
      fc.object({ maxDepth: 2 }).map(jsonSegment),
      fc.array(claimEdit(NOW), { maxLength: 10 }).map(document),
    );
    const signature = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map(b64url),
      fc.uint8Array({ minLength: 256, maxLength: 256 }).map(b64url),
      fc.uint8Array({ minLength: 64, maxLength: 64 }).map(b64url),
      fc.constantFrom(...realSignatures),
    );
    await fc.assert(
      fc.asyncProperty(header, payload, signature, async (h, p, s) => {
        const reason = await verifier.check(`${h}.${p}.${s}`);
        tally.add(reason);
        return reason !== 'ok';
      }),
      fuzzRuns(JSON_RUNS),
    );
    console.info(`[fuzz] ${JSON_RUNS} JSON documents:`, tally.toJSON());
    expect(tally.get('invalid_signature')).toBeGreaterThan(0);
  }, 120_000);

  it(`refuses every token over ${MAX_TOKEN_LENGTH} characters before parsing, whatever it holds (${SIZE_RUNS} runs)`, async () => {
    const valid = conformingToken('lite-2026-03', NOW, 'size-probe');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_TOKEN_LENGTH - 16, max: MAX_TOKEN_LENGTH + 16 }),
        fc.oneof(fc.integer({ min: MAX_TOKEN_LENGTH + 17, max: 1 << 16 }), fc.constant(0)),
        fc.constantFrom('A', '.', 'e', '='),
        async (near, far, fill) => {
          const length = far || near;
          const token = (valid + fill.repeat(length)).slice(0, length);
          const reason = await verifier.check(token);
          return length > MAX_TOKEN_LENGTH ? reason === 'malformed_token' : reason !== 'ok';
        },
      ),
      fuzzRuns(SIZE_RUNS),
    );
  }, 60_000);
});
