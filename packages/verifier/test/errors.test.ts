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
import { file } from './harness/vectors.js';

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
