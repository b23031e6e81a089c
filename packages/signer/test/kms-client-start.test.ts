import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unhandledRejectionsDuring } from '../../../test-support/unhandled-rejections.js';
import { createSigner } from '../src/index.js';
import { AUDIENCE, ISSUER, SUBJECT } from './helpers/vectors.js';

const NAME = 'projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1';
// Credentials that cannot load, found without the network: the default client fails while it starts.
const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
beforeAll(() => {
  process.env.GOOGLE_APPLICATION_CREDENTIALS = '/nonexistent/hyper-s2s-credentials.json';
});
afterAll(() => {
  if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
});

describe('a KMS client that cannot start (no credentials)', () => {
  it('fails jwks() and sign() with a KmsError naming why, and no unhandled rejection ends the process', async () => {
    const signer = createSigner({
      key: { kms: { keyVersionName: NAME, maxRetries: 0 }, kid: 'lite-2026-12', alg: 'RS256' },
      issuer: ISSUER,
      subject: SUBJECT,
      audience: AUDIENCE,
    });
    const startFailure = {
      code: 'ERR_S2S_KMS_ERROR',
      message: expect.stringMatching(/^the KMS client could not start: .*hyper-s2s-credentials\.json/),
    };
    const unhandled = await unhandledRejectionsDuring(async () => {
      await expect(signer.jwks()).rejects.toMatchObject(startFailure);
      // Made anew per call (credentials may appear later), and failing the same way each time.
      await expect(signer.sign({ scope: 'spaces:create' })).rejects.toMatchObject(startFailure);
      await expect(signer.jwks()).rejects.toMatchObject(startFailure);
      // gax reports its failed start a few turns later when a method was called.
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    expect(unhandled).toEqual([]);
    await signer.close();
  });
});
