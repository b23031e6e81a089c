import { createPublicKey, type JsonWebKey } from 'node:crypto';
import * as jose from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSigner,
  KmsError,
  KmsIntegrityError,
  KmsKeyMismatchError,
  type KmsKeyOptions,
  KmsResourceExhaustedError,
  KmsUnavailableError,
  type Signer,
} from '../src/index.js';
import type { KmsTestAlgorithm } from '../src/testing/index.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { decodeToken } from './helpers/tokens.js';
import { AUDIENCE, ISSUER, RSA_KEY, SUBJECT, VECTOR_NOW_MS, vectorFile } from './helpers/vectors.js';

const kms = useKmsTestServer();

const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((s) => s.close()));
});

function kmsSigner(
  algorithm: KmsTestAlgorithm,
  options: {
    alg?: 'RS256' | 'ES256';
    privateKeyPem?: string;
    kms?: Partial<KmsKeyOptions>;
    now?: () => number;
    jti?: () => string;
  } = {},
) {
  const name = keyVersionName();
  const { publicKeyPem } = kms.server.addKey(name, {
    algorithm,
    ...(options.privateKeyPem ? { privateKeyPem: options.privateKeyPem } : {}),
  });
  const signer = createSigner({
    key: {
      kms: { keyVersionName: name, client: kms.client(), retryBackoffMs: 5, ...options.kms },
      kid: 'lite-2026-03',
      ...(options.alg ? { alg: options.alg } : {}),
    },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    ...(options.now ? { now: options.now } : {}),
    ...(options.jti ? { jti: options.jti } : {}),
  });
  signers.push(signer);
  return { signer, name, publicKeyPem };
}

const sign = (signer: Signer) => signer.sign({ scope: 'spaces:create' });

describe('KMS signing through the real @google-cloud/kms client', () => {
  it.each([
    ['RSA_SIGN_PKCS1_2048_SHA256', 'RS256'],
    ['RSA_SIGN_PKCS1_3072_SHA256', 'RS256'],
    ['EC_SIGN_P256_SHA256', 'ES256'],
  ] as const)('%s signs %s tokens that jose verifies against jwks()', async (algorithm, alg) => {
    const { signer, publicKeyPem } = kmsSigner(algorithm, { alg });
    const token = await sign(signer);
    const jwks = await signer.jwks();
    const { protectedHeader, payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
      algorithms: [alg],
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    expect(protectedHeader).toEqual({ alg, typ: 'JWT', kid: 'lite-2026-03' });
    expect(payload.scope).toBe('spaces:create');
    // jwks() is the KMS public key, public members only.
    expect(
      createPublicKey({ key: jwks.keys[0] as unknown as JsonWebKey, format: 'jwk' }).export({
        format: 'pem',
        type: 'spki',
      }),
    ).toBe(publicKeyPem);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('reproduces a canonical RS256 vector byte for byte when KMS holds the vector key', async () => {
    const vector = vectorFile.vectors.find((v) => v.id === 'valid-spaces-create')!;
    const claims = vector.signed!.claims;
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', {
      privateKeyPem: RSA_KEY.pkcs8Pem,
      now: () => VECTOR_NOW_MS,
      jti: () => claims.jti as string,
    });
    expect(await sign(signer)).toBe(vector.token);
  });

  it('ES256: every one of 2,000 KMS signatures is converted to 64 bytes and verifies', {
    timeout: 60_000,
  }, async () => {
    const { signer } = kmsSigner('EC_SIGN_P256_SHA256', { alg: 'ES256' });
    const keys = jose.createLocalJWKSet(await signer.jwks());
    const batches = 100;
    const perBatch = 20;
    let checked = 0;
    for (let b = 0; b < batches; b++) {
      const tokens = await Promise.all(Array.from({ length: perBatch }, () => sign(signer)));
      for (const token of tokens) {
        expect(decodeToken(token).signature.length).toBe(64);
        await jose.jwtVerify(token, keys, { algorithms: ['ES256'] });
        checked++;
      }
    }
    expect(checked).toBe(2000);
  });

  it('fetches the public key once per signer, not per token', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256');
    const before = kms.server.calls;
    for (let i = 0; i < 5; i++) await sign(signer);
    await signer.jwks();
    const after = kms.server.calls;
    expect(after.getPublicKey - before.getPublicKey).toBe(1);
    expect(after.asymmetricSign - before.asymmetricSign).toBe(5);
  });

  it.each([
    ['an EC key version for RS256', 'EC_SIGN_P256_SHA256', 'RS256'],
    ['an RSA key version for ES256', 'RSA_SIGN_PKCS1_2048_SHA256', 'ES256'],
  ] as const)('refuses %s before signing anything (KmsKeyMismatchError)', async (_name, algorithm, alg) => {
    const { signer } = kmsSigner(algorithm, { alg });
    const before = kms.server.calls.asymmetricSign;
    await expect(sign(signer)).rejects.toBeInstanceOf(KmsKeyMismatchError);
    await expect(signer.jwks()).rejects.toMatchObject({ code: 'ERR_S2S_KMS_KEY_MISMATCH' });
    expect(kms.server.calls.asymmetricSign).toBe(before);
  });

  it('surfaces an unknown key version as a KmsError with the gRPC code, without retrying', async () => {
    const signer = createSigner({
      key: { kms: { keyVersionName: keyVersionName(), client: kms.client() }, kid: 'lite-2026-03' },
      issuer: ISSUER,
      subject: SUBJECT,
      audience: AUDIENCE,
    });
    signers.push(signer);
    const before = kms.server.calls.getPublicKey;
    const error = await sign(signer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsError);
    expect(error).toMatchObject({ code: 'ERR_S2S_KMS_ERROR', grpcCode: 5 });
    expect(kms.server.calls.getPublicKey - before).toBe(1);
  });
});

describe('KMS data integrity: each fault switch is caught and no token is produced', () => {
  it.each([
    ['wrongSignatureCrc', 'signatureCrc32c', { wrongSignatureCrc: true }],
    ['unverifiedDigestCrc', 'verifiedDigestCrc32c', { unverifiedDigestCrc: true }],
    ['wrongName', 'name', { wrongName: true }],
    ['badSignature', 'signature', { badSignature: true }],
  ] as const)('%s on AsymmetricSign -> KmsIntegrityError(%s)', async (_fault, check, faults) => {
    for (const algorithm of ['RSA_SIGN_PKCS1_2048_SHA256', 'EC_SIGN_P256_SHA256'] as const) {
      const { signer } = kmsSigner(algorithm, { alg: algorithm.startsWith('EC') ? 'ES256' : 'RS256' });
      await signer.jwks(); // public key fetched before the fault
      kms.server.setFaults(faults);
      const error = await sign(signer).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KmsIntegrityError);
      expect(error).toMatchObject({ code: 'ERR_S2S_KMS_INTEGRITY', check });
      kms.server.resetFaults();
      await expect(sign(signer)).resolves.toMatch(/^ey/);
    }
  });

  it('wrongPemCrc on GetPublicKey -> jwks() and sign() fail with KmsIntegrityError(pemCrc32c), then recover', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256');
    kms.server.setFaults({ wrongPemCrc: true });
    await expect(signer.jwks()).rejects.toMatchObject({ code: 'ERR_S2S_KMS_INTEGRITY', check: 'pemCrc32c' });
    const before = kms.server.calls.asymmetricSign;
    await expect(sign(signer)).rejects.toMatchObject({ check: 'pemCrc32c' });
    expect(kms.server.calls.asymmetricSign).toBe(before);
    kms.server.resetFaults();
    // The failure is not cached: the next call fetches the key again and succeeds.
    await expect(signer.jwks()).resolves.toMatchObject({ keys: [{ kid: 'lite-2026-03' }] });
  });

  it('wrongName on GetPublicKey -> KmsIntegrityError(name)', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256');
    kms.server.setFaults({ wrongName: true });
    await expect(signer.jwks()).rejects.toMatchObject({ check: 'name' });
  });

  it('integrity errors never carry the token or its signing input', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', { jti: () => 'jti-that-must-not-leak' });
    await signer.jwks();
    kms.server.setFaults({ badSignature: true });
    const error = (await sign(signer).catch((e: unknown) => e)) as Error;
    expect(`${error.message} ${error.stack}`).not.toMatch(/jti-that-must-not-leak|eyJ/);
  });
});

describe('KMS deadlines and bounded retries', () => {
  it('retries UNAVAILABLE and succeeds within maxRetries', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', { kms: { maxRetries: 2 } });
    await signer.jwks();
    kms.server.setFaults({ unavailableTimes: 2 });
    const before = kms.server.calls.asymmetricSign;
    await expect(sign(signer)).resolves.toMatch(/^ey/);
    expect(kms.server.calls.asymmetricSign - before).toBe(3);
  });

  it('gives up after maxRetries + 1 attempts with KmsUnavailableError', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', { kms: { maxRetries: 2 } });
    await signer.jwks();
    kms.server.setFaults({ unavailableTimes: 10 });
    const before = kms.server.calls.asymmetricSign;
    const error = await sign(signer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error).toMatchObject({ code: 'ERR_S2S_KMS_UNAVAILABLE', attempts: 3, grpcCode: 14 });
    expect(kms.server.calls.asymmetricSign - before).toBe(3);
  });

  it('does not retry RESOURCE_EXHAUSTED: one call, a typed error, then normal service', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', { kms: { maxRetries: 2 } });
    await signer.jwks();
    kms.server.setFaults({ resourceExhaustedTimes: 1 });
    const before = kms.server.calls.asymmetricSign;
    const error = await sign(signer).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsResourceExhaustedError);
    expect(error).toMatchObject({ code: 'ERR_S2S_KMS_RESOURCE_EXHAUSTED', grpcCode: 8 });
    expect(kms.server.calls.asymmetricSign - before).toBe(1);
    await expect(sign(signer)).resolves.toMatch(/^ey/);
  });

  it('cuts each attempt at the deadline and bounds the total: 3 attempts of 150 ms against a 2 s latency', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', {
      kms: { deadlineMs: 150, maxRetries: 2, retryBackoffMs: 10 },
    });
    await signer.jwks();
    kms.server.setFaults({ latencyMs: 2000 });
    const before = kms.server.calls.asymmetricSign;
    const error = await sign(signer).catch((e: unknown) => e);
    // Three cut attempts (grpcCode 4 = DEADLINE_EXCEEDED each) against a 2 s answer prove the cut; the
    // test's own timeout bounds the total. No elapsed time is asserted: load would only stretch it.
    expect(error).toBeInstanceOf(KmsUnavailableError);
    expect(error).toMatchObject({ attempts: 3, grpcCode: 4 });
    expect(kms.server.calls.asymmetricSign - before).toBe(3);
  });

  it('answers within the deadline when KMS is slow but not too slow', async () => {
    const { signer } = kmsSigner('RSA_SIGN_PKCS1_2048_SHA256', { kms: { deadlineMs: 500 } });
    await signer.jwks();
    kms.server.setFaults({ latencyMs: 100 });
    await expect(sign(signer)).resolves.toMatch(/^ey/);
  });
});
