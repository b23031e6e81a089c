import { CLAIM_NAMES } from '@hyper/s2s-contracts';
import { describe, expect, it } from 'vitest';
import { createSigner } from '../src/index.js';
import { testKey, vectorFile } from './helpers/vectors.js';

const reproducible = vectorFile.vectors.filter((v) => v.signed?.producedBySigner && v.signed.deterministic);
const randomised = vectorFile.vectors.filter((v) => v.signed?.producedBySigner && !v.signed.deterministic);

/** Sequence steps a signer emits: the stateful vectors' tokens are reproduced like the others. */
const reproducibleSteps = vectorFile.sequences.flatMap((sequence) =>
  sequence.steps
    .map((step, i) => ({ id: `${sequence.id}[${i}]`, token: step.token, signed: step.signed }))
    .filter((step) => step.signed?.producedBySigner && step.signed.deterministic),
);

/** A signer configured from a vector's declared claims and signing key, as a Lite deployment would be. */
function signerFor(vector: Pick<(typeof vectorFile.vectors)[number], 'signed'>) {
  const { claims, signingKid } = vector.signed!;
  const key = testKey(signingKid!);
  return createSigner({
    key: { privateKeyPem: key.pkcs8Pem, kid: key.kid },
    issuer: claims.iss as string,
    subject: claims.sub as string,
    audience: claims.aud as string,
    ttlSeconds: (claims.exp as number) - (claims.iat as number),
    now: () => (claims.iat as number) * 1000,
    jti: () => claims.jti as string,
  });
}

describe('the signer reproduces the canonical vectors', () => {
  it('has signer-produced deterministic vectors to reproduce', () => {
    expect(reproducible.length).toBeGreaterThanOrEqual(10);
  });

  it('has signer-produced ES256 vectors to compare header and claims with', () => {
    expect(randomised.length).toBeGreaterThan(0);
  });

  it.each(reproducible.map((v) => [v.id, v] as const))('reproduces %s byte for byte', async (_id, vector) => {
    const { claims } = vector.signed!;
    const signer = signerFor(vector);
    expect(await signer.sign({ scope: claims.scope as string })).toBe(vector.token);
  });

  it('has signer-produced steps in the sequences (replay key vectors)', () => {
    expect(reproducibleSteps.length).toBeGreaterThanOrEqual(5);
  });

  it.each(reproducibleSteps.map((step) => [step.id, step] as const))(
    'reproduces sequence step %s byte for byte',
    async (_id, step) => {
      const { claims } = step.signed!;
      expect(await signerFor(step).sign({ scope: claims.scope as string })).toBe(step.token);
    },
  );

  it.each(randomised.map((v) => [v.id, v] as const))(
    'emits the header and claims of %s exactly (ES256 signatures are randomised)',
    async (_id, vector) => {
      const { claims } = vector.signed!;
      const signer = signerFor(vector);
      const token = await signer.sign({ scope: claims.scope as string });
      const [h, p] = token.split('.');
      expect(`${h}.${p}`).toBe(vector.token.split('.').slice(0, 2).join('.'));
    },
  );

  it('publishes exactly the vector file JWK for each test key', async () => {
    for (const jwk of vectorFile.jwks.keys) {
      const key = testKey(jwk.kid);
      const signer = createSigner({
        key: { privateKeyPem: key.pkcs8Pem, kid: key.kid },
        issuer: 'i',
        subject: 's',
        audience: 'a',
      });
      expect(await signer.jwks()).toEqual({ keys: [jwk] });
    }
  });

  it('emits claims in the contract order', async () => {
    const key = testKey('lite-2026-03');
    const signer = createSigner({
      key: { privateKeyPem: key.pkcs8Pem, kid: key.kid },
      issuer: 'i',
      subject: 's',
      audience: 'a',
    });
    const token = await signer.sign({ scope: 'spaces:create' });
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as object;
    expect(Object.keys(claims)).toEqual([...CLAIM_NAMES]);
  });
});
