import { errors, type JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createVerifier,
  memoryReplayStore,
  ReplayStoreError,
  VerifierConfigError,
  VerifierError,
  VerifierUsageError,
} from '../src/index.js';
import { reasonForJoseError } from '../src/jose-errors.js';
import { KeysUnavailableError } from '../src/keys/source.js';
import { recorder } from './harness/recorder.js';
import { nowSeconds, sign, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { liveVerifier } from './harness/verifiers.js';

const ISS = 'https://lite.example';
const EXP = 1_900_000_000;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return expect.unreachable('expected a throw');
}

describe('errors: one base class, ERR_S2S_* codes', () => {
  it('a startup config error is a VerifierError with its code and field', () => {
    const error = thrown(() => createVerifier({} as never));
    expect(error).toBeInstanceOf(VerifierConfigError);
    expect(error).toBeInstanceOf(VerifierError);
    expect(error).toMatchObject({ name: 'VerifierConfigError', code: 'ERR_S2S_VERIFIER_CONFIG' });
  });

  it('a usage error is a VerifierError with its code', async () => {
    const verifier = createVerifier({
      keys: { jwks: { keys: file.jwks.keys as JWK[] } },
      audience: 'hyper-core',
      issuers: ['hyper-lite'],
      replayStore: memoryReplayStore(),
    });
    const error = await rejection(verifier.verify('not-a-token', {} as never));
    expect(error).toBeInstanceOf(VerifierUsageError);
    expect(error).toBeInstanceOf(VerifierError);
    expect(error).toMatchObject({ name: 'VerifierUsageError', code: 'ERR_S2S_VERIFIER_USAGE' });
  });

  it.each<[string, () => unknown]>([
    ['NaN', () => Number.NaN],
    ['Infinity', () => Number.POSITIVE_INFINITY],
    ['a numeric string', () => '1773360000000'],
    ['undefined', () => undefined],
  ])('a now() that returns %s is a usage error, not a verdict', async (_name, now) => {
    const verifier = createVerifier({
      keys: { jwks: { keys: file.jwks.keys as JWK[] } },
      audience: 'hyper-core',
      issuers: ['hyper-lite'],
      replayStore: memoryReplayStore(),
      now: now as () => number,
    });
    const error = await rejection(verifier.verify('a.b.c', { scope: 'spaces:create', path: '/p' }));
    expect(error).toBeInstanceOf(VerifierUsageError);
    expect((error as Error).message).toBe('now() must return epoch milliseconds');
  });

  it('a replay-store error is a VerifierError with its code', async () => {
    const store = memoryReplayStore({ maxEntries: 1, now: () => EXP * 1000 });
    await store.remember({ iss: ISS, jti: 'a', exp: EXP });
    const error = await rejection(store.remember({ iss: ISS, jti: 'b', exp: EXP }));
    expect(error).toBeInstanceOf(ReplayStoreError);
    expect(error).toBeInstanceOf(VerifierError);
    expect(error).toMatchObject({ name: 'ReplayStoreError', code: 'ERR_S2S_REPLAY_FULL' });
  });
});

describe('jose errors become contract reasons (jose messages are never passed on)', () => {
  it.each<[string, string, unknown]>([
    ['a keyset that cannot be fetched', 'jwks_unavailable', new KeysUnavailableError('timeout')],
    ['a signature that does not verify', 'invalid_signature', new errors.JWSSignatureVerificationFailed()],
    ['an algorithm jose will not use', 'invalid_algorithm', new errors.JOSEAlgNotAllowed('x')],
    ['a key or algorithm jose does not support', 'invalid_algorithm', new errors.JOSENotSupported('x')],
    ['no key for the kid', 'unknown_kid', new errors.JWKSNoMatchingKey()],
    ['several keys for the kid', 'unknown_kid', new errors.JWKSMultipleMatchingKeys()],
    ['an invalid JWS', 'malformed_token', new errors.JWSInvalid('x')],
    ['an invalid JWT', 'malformed_token', new errors.JWTInvalid('x')],
    // Fail closed: anything else means the signature was not shown to be valid.
    ['any other jose error', 'invalid_signature', new errors.JWKInvalid('x')],
    ['a plain Error', 'invalid_signature', new Error('boom')],
    ['null', 'invalid_signature', null],
    ['undefined', 'invalid_signature', undefined],
    ['a string', 'invalid_signature', 'ERR_JWS_INVALID'],
  ])('%s -> %s', (_name, reason, error) => {
    expect(reasonForJoseError(error)).toBe(reason);
  });
});

describe('verify options: the required scope and the path are checked on every verify', () => {
  const SCOPE_ERROR =
    'verify options: scope must be a scope string or a non-empty list of scope tokens (RFC 6749 §3.3)';
  const PATH_ERROR = 'verify options: path must be the route template, a string of 1-256 characters';
  const both = 'spaces:create join_tokens:issue';
  // Contract scopes joined by single spaces: 1025 characters, one more than a scope may have.
  const tooLong = [...Array<string>(72).fill('spaces:create'), 'join_tokens:issue'].join(' ');
  // 1023 characters, under the bound.
  const long = [
    ...Array<string>(68).fill('spaces:create'),
    ...Array<string>(4).fill('join_tokens:issue'),
  ].join(' ');

  async function usageError(options: unknown): Promise<string> {
    const error = await rejection(liveVerifier().verify('a.b.c', options as never));
    expect(error).toBeInstanceOf(VerifierUsageError);
    return (error as Error).message;
  }

  // A missing or unreadable scope must never read as "no scope required".
  it.each<[string, unknown]>([
    ['no options', undefined],
    ['null options', null],
    ['options that are a string', 'spaces:create'],
    ['options that are a function', Object.assign(() => undefined, { scope: 'spaces:create', path: '/p' })],
    ['no scope', { path: '/p' }],
    ['an empty scope', { scope: '', path: '/p' }],
    ['an empty list', { scope: [], path: '/p' }],
    ['a number', { scope: 5, path: '/p' }],
    ['a String object', { scope: new String('spaces:create'), path: '/p' }],
    ['a leading space', { scope: ' spaces:create', path: '/p' }],
    ['a double space', { scope: 'spaces:create  join_tokens:issue', path: '/p' }],
    ['a trailing space', { scope: 'spaces:create ', path: '/p' }],
    ['a list item holding two scopes', { scope: [both], path: '/p' }],
    ['a list item that is a list', { scope: [['spaces:create']], path: '/p' }],
    ['a list item that is a number', { scope: ['spaces:create', 7], path: '/p' }],
    ['1025 characters of contract scopes', { scope: tooLong, path: '/p' }],
  ])('%s is a usage error', async (_name, options) => {
    expect(tooLong).toHaveLength(1025);
    expect(await usageError(options)).toBe(SCOPE_ERROR);
  });

  it.each<[string, unknown]>([
    ['no path', undefined],
    ['an empty path', ''],
    ['a path of 257 characters', `/${'p'.repeat(256)}`],
    ['a number', 5],
    ['a list', ['/p']],
  ])('%s is a usage error', async (_name, path) => {
    expect(await usageError({ scope: 'spaces:create', path })).toBe(PATH_ERROR);
  });

  it('a scope the contract does not know is a usage error naming it, as a string or in a list', async () => {
    const known = '(known: spaces:create, join_tokens:issue); no signer grants it';
    expect(await usageError({ scope: 'spaces:craete', path: '/p' })).toBe(
      `verify options: scope "spaces:craete" is not a contract scope ${known}`,
    );
    expect(await usageError({ scope: ['spaces:create', 'join_tokens:isue'], path: '/p' })).toBe(
      `verify options: scope "join_tokens:isue" is not a contract scope ${known}`,
    );
    // 1024 characters is within the bound: refused as unknown, not as too long; the message shows 64.
    expect(await usageError({ scope: 'a:'.repeat(512), path: '/p' })).toBe(
      `verify options: scope "${'a:'.repeat(32)}"… (1024 characters) is not a contract scope ${known}`,
    );
  });

  it('a token passed as the scope is refused without repeating it', async () => {
    const token = await sign(await vectorKey('lite-2026-03'), nowSeconds());
    for (const scope of [token, ['spaces:create', token]]) {
      const message = await usageError({ scope, path: '/p' });
      expect(message).toContain('may hold a token');
      for (const part of token.split('.')) expect(message).not.toContain(part);
    }
  });

  it('every scope of a list or a string is required; the scope label is the space-separated list', async () => {
    const key = await vectorKey('lite-2026-03');
    const observed = recorder();
    const verifier = liveVerifier({ metrics: observed.metrics });
    const verify = async (granted: string, scope: string | string[], path = '/p') =>
      (await verifier.verify(await sign(key, nowSeconds(), { scope: granted }), { scope, path })).reason;
    expect(long).toHaveLength(1023);
    expect(await verify(both, ['spaces:create', 'join_tokens:issue'])).toBe('ok');
    expect(await verify('spaces:create', ['spaces:create', 'join_tokens:issue'])).toBe('insufficient_scope');
    expect(await verify(both, ['join_tokens:issue'])).toBe('ok');
    expect(await verify('spaces:create', long)).toBe('insufficient_scope');
    expect(await verify(both, long)).toBe('ok');
    expect(await verify(both, 'spaces:create', `/${'p'.repeat(255)}`)).toBe('ok');
    expect(observed.calls.map((call) => [call.labels.reason, call.labels.scope])).toEqual([
      ['ok', both],
      ['insufficient_scope', both],
      ['ok', 'join_tokens:issue'],
      ['insufficient_scope', long],
      ['ok', long],
      ['ok', 'spaces:create'],
    ]);
  });
});
