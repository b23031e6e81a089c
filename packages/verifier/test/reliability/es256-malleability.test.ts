import { describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { createVerifier } from '../../src/verifier.js';
import { file, staticKeys, VECTOR_ROUTE } from '../harness/vectors.js';
import { permissiveReplayStore } from './support/fuzz-verifier.js';
import { conformingToken } from './support/jws.js';

/** Order of the P-256 group (FIPS 186-4 D.1.2.3). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** (r, s) -> (r, n - s): the other valid ECDSA signature over the same digest, made without the key. */
function malleate(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url')}`;
}

const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };
const options = {
  keys: staticKeys(),
  audience: file.audience,
  issuers: [file.issuer],
  algorithms: ['RS256', 'ES256'] as ('RS256' | 'ES256')[],
  now: () => file.now * 1000,
};

describe('ES256 signature malleability (found by the signature-mutation fuzzing family)', () => {
  // ECDSA accepts (r, s) and (r, n - s) alike, and neither jose nor the verifier insists on low-s. A
  // second encoding of a token can therefore be made without the key. The contract keys replay on
  // (iss, jti), not on token bytes, which is what keeps this from becoming a replay: pinned here.
  it('the malleated token verifies as a valid signature, a different string over the same content', async () => {
    const token = conformingToken('lite-2026-05', file.now, 'malleable');
    const twin = malleate(token);
    expect(twin).not.toBe(token);
    const verifier = createVerifier({ ...options, replayStore: permissiveReplayStore });
    expect((await verifier.verify(twin, CALL)).reason).toBe('ok');
  });

  it('is refused as replayed_token once the original was presented (and the other way round)', async () => {
    for (const first of ['original', 'twin'] as const) {
      const token = conformingToken('lite-2026-05', file.now, `malleable-${first}`);
      const twin = malleate(token);
      const verifier = createVerifier({ ...options, replayStore: memoryReplayStore({ now: options.now }) });
      const [a, b] = first === 'original' ? [token, twin] : [twin, token];
      expect((await verifier.verify(a, CALL)).reason).toBe('ok');
      expect((await verifier.verify(b, CALL)).reason).toBe('replayed_token');
    }
  });

  it('RS256 (the contract default) has no such twin: s + n does not fit the signature length', async () => {
    const token = conformingToken('lite-2026-03', file.now, 'rsa-not-malleable');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const n = file.jwks.keys.find((key) => key.kid === 'lite-2026-03')!.n as string;
    const modulus = BigInt(`0x${Buffer.from(n, 'base64url').toString('hex')}`);
    const s = BigInt(`0x${Buffer.from(signature, 'base64url').toString('hex')}`);
    const shifted = Buffer.from((s + modulus).toString(16).padStart(514, '0'), 'hex');
    const verifier = createVerifier({ ...options, replayStore: permissiveReplayStore });
    const twin = `${header}.${payload}.${shifted.toString('base64url')}`;
    expect((await verifier.verify(twin, CALL)).reason).toBe('invalid_signature');
  });
});
