import { afterAll, describe, expect, it } from 'vitest';
import { createSigner, KmsError, KmsKeyMismatchError, type Signer } from '../src/index.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { AUDIENCE, ISSUER, SUBJECT } from './helpers/vectors.js';

/*
 * Review finding 12: createSigner makes no KMS call, so the README's startup check is `await
 * signer.jwks()`. It must surface every key version that cannot sign (wrong algorithm, unknown,
 * not ENABLED) without signing anything, and warm the public key for the first sign().
 */

const kms = useKmsTestServer();
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((signer) => signer.close()));
});

/** A signer for `name` with the default alg (RS256), as signerFromEnv builds one without HYPER_S2S_JWT_ALG. */
function signerFor(name: string): Signer {
  const signer = createSigner({
    key: { kms: { keyVersionName: name, client: kms.client(), retryBackoffMs: 1 }, kid: 'lite-2026-03' },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
  });
  signers.push(signer);
  return signer;
}

const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

describe('await signer.jwks() is the startup check of a KMS key version', () => {
  it.each([
    [
      'an EC version for the default RS256',
      () => {
        const name = keyVersionName();
        kms.server.addKey(name, { algorithm: 'EC_SIGN_P256_SHA256' });
        return name;
      },
      { code: 'ERR_S2S_KMS_KEY_MISMATCH' },
      KmsKeyMismatchError,
    ],
    [
      'an unknown version',
      () => keyVersionName(),
      { code: 'ERR_S2S_KMS_ERROR', grpcCode: NOT_FOUND },
      KmsError,
    ],
    [
      'a DISABLED version',
      () => {
        const name = keyVersionName();
        kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
        kms.server.setKeyState(name, 'DISABLED');
        return name;
      },
      { code: 'ERR_S2S_KMS_ERROR', grpcCode: FAILED_PRECONDITION },
      KmsError,
    ],
  ] as const)(
    'rejects for %s, with one GetPublicKey and no signature',
    async (_what, version, expected, type) => {
      const signer = signerFor(version());
      const before = kms.server.calls;
      const error = await signer.jwks().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect(error).toMatchObject(expected);
      // Not retried (none of these is transient), and nothing was signed.
      expect(kms.server.calls.getPublicKey - before.getPublicKey).toBe(1);
      expect(kms.server.calls.asymmetricSign - before.asymmetricSign).toBe(0);
    },
  );

  it('passes for a usable version and leaves the first sign() only AsymmetricSign to do', async () => {
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const signer = signerFor(name);
    await expect(signer.jwks()).resolves.toMatchObject({ keys: [{ kid: 'lite-2026-03', alg: 'RS256' }] });
    const before = kms.server.calls;
    await expect(signer.sign({ scope: 'spaces:create' })).resolves.toMatch(/^ey/);
    expect(kms.server.calls.getPublicKey - before.getPublicKey).toBe(0);
    expect(kms.server.calls.asymmetricSign - before.asymmetricSign).toBe(1);
  });
});
