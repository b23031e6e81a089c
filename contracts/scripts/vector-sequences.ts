/**
 * Stateful vectors: several tokens presented in order to one verifier with one replay store, so the
 * replay key and the point where a jti is spent are pinned (SPEC.md R1-R3).
 */
import type { Reason } from '../src/reasons.js';
import { type Built, type CaseContext, corruptSignature, VECTOR_ISSUER, valid } from './vector-cases.js';

export interface SequenceStepDef {
  scope?: string[];
  expect: Reason;
  build(ctx: CaseContext): Built;
}

export interface SequenceDef {
  id: string;
  description: string;
  issuers?: string[];
  steps: SequenceStepDef[];
}

const SECOND_ISSUER = 'hyper-lite-eu';

export const SEQUENCES: SequenceDef[] = [
  {
    id: 'replay-same-jti-two-issuers',
    description:
      'The replay key is (iss, jti): one jti under two allowed issuers is two tokens; the first again is a replay.',
    issuers: [VECTOR_ISSUER, SECOND_ISSUER],
    steps: [
      { expect: 'ok', build: (ctx) => valid(ctx, 'replay-same-jti-two-issuers') },
      {
        expect: 'ok',
        build: (ctx) =>
          valid(ctx, 'replay-same-jti-two-issuers', {
            iss: SECOND_ISSUER,
            jti: 'vector-replay-same-jti-two-issuers',
          }),
      },
      { expect: 'replayed_token', build: (ctx) => valid(ctx, 'replay-same-jti-two-issuers') },
    ],
  },
  {
    id: 'replay-same-iss-jti-two-tokens',
    description:
      'The replay key is (iss, jti), not the token: a different token (other scope and exp) with the same iss and jti is a replay.',
    steps: [
      { expect: 'ok', build: (ctx) => valid(ctx, 'replay-same-iss-jti-two-tokens') },
      {
        scope: ['join_tokens:issue'],
        expect: 'replayed_token',
        build: (ctx) =>
          valid(ctx, 'replay-same-iss-jti-two-tokens', { scope: 'join_tokens:issue', exp: ctx.now + 120 }),
      },
    ],
  },
  {
    id: 'replay-403-spends-jti',
    description:
      'A token refused 403 for scope has passed every token rule, so its (iss, jti) is spent: a corrected token with that jti is a replay.',
    steps: [
      {
        scope: ['join_tokens:issue'],
        expect: 'insufficient_scope',
        build: (ctx) => valid(ctx, 'replay-403-spends-jti'),
      },
      {
        scope: ['join_tokens:issue'],
        expect: 'replayed_token',
        build: (ctx) => valid(ctx, 'replay-403-spends-jti', { scope: 'join_tokens:issue' }),
      },
    ],
  },
  {
    id: 'replay-only-accepted-tokens-spend',
    description:
      'Tokens refused before the replay step (bad signature, expired, foreign issuer) do not spend their jti; the first token that passes does.',
    steps: [
      {
        expect: 'invalid_signature',
        build: (ctx) => ({ token: corruptSignature(valid(ctx, 'replay-only-accepted-tokens-spend').token) }),
      },
      {
        expect: 'expired_signature',
        build: (ctx) =>
          valid(ctx, 'replay-only-accepted-tokens-spend', {
            exp: ctx.now - 3600,
            iat: ctx.now - 3660,
            nbf: ctx.now - 3660,
          }),
      },
      {
        expect: 'invalid_issuer',
        build: (ctx) => valid(ctx, 'replay-only-accepted-tokens-spend', { iss: 'hyper-evil' }),
      },
      {
        expect: 'ok',
        build: (ctx) => valid(ctx, 'replay-only-accepted-tokens-spend'),
      },
      {
        expect: 'replayed_token',
        build: (ctx) => valid(ctx, 'replay-only-accepted-tokens-spend'),
      },
    ],
  },
];
