import { verify } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { crc32c } from '../../src/kms/crc32c.js';
import { type KmsTestServer, startKmsTestServer } from '../../src/testing/index.js';
import { ALGORITHMS, grpcCode, keyVersion, sha256 } from './fixtures.js';

const NAME = keyVersion('faulty');

describe('KMS test server fault switches, observed through the real client', () => {
  let server: KmsTestServer;
  let publicKeyPem: string;
  const sign = (message: string, options?: { timeout?: number; retry?: null }) => {
    const digest = sha256(message);
    return server
      .client()
      .asymmetricSign(
        { name: NAME, digest: { sha256: digest }, digestCrc32c: { value: crc32c(digest) } },
        options,
      );
  };

  beforeAll(async () => {
    server = await startKmsTestServer();
    publicKeyPem = server.addKey(NAME, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' }).publicKeyPem;
    for (const algorithm of ALGORITHMS) server.addKey(keyVersion(algorithm), { algorithm });
  });
  afterEach(() => server.resetFaults());
  afterAll(() => server.close());

  it('unavailableTimes: the next n calls fail UNAVAILABLE, then calls succeed', async () => {
    server.setFaults({ unavailableTimes: 2 });
    expect(await grpcCode(sign('a', { retry: null }))).toBe(status.UNAVAILABLE);
    expect(await grpcCode(server.client().getPublicKey({ name: NAME }, { retry: null }))).toBe(
      status.UNAVAILABLE,
    );
    expect(await grpcCode(sign('a', { retry: null }))).toBeUndefined();
  });

  it('unavailableTimes: the client retries UNAVAILABLE by default, and each retry reaches the server', async () => {
    const before = server.calls.asymmetricSign;
    server.setFaults({ unavailableTimes: 3 });
    const [response] = await sign('retried');
    expect(verify('sha256', Buffer.from('retried'), publicKeyPem, response.signature as Buffer)).toBe(true);
    expect(server.calls.asymmetricSign - before).toBe(4);
  });

  it('resourceExhaustedTimes: fails RESOURCE_EXHAUSTED, which the client does not retry', async () => {
    const before = server.calls.asymmetricSign;
    server.setFaults({ resourceExhaustedTimes: 1 });
    expect(await grpcCode(sign('q'))).toBe(status.RESOURCE_EXHAUSTED);
    expect(server.calls.asymmetricSign - before).toBe(1);
    expect(await grpcCode(sign('q'))).toBeUndefined();
  });

  it('latencyMs: a slow response is still answered when the deadline allows it', async () => {
    server.setFaults({ latencyMs: 50 });
    const [response] = await sign('slow', { timeout: 30_000 });
    expect(verify('sha256', Buffer.from('slow'), publicKeyPem, response.signature as Buffer)).toBe(true);
    const [key] = await server.client({ timeoutMs: 30_000 }).getPublicKey({ name: NAME });
    expect(key.pem).toBe(publicKeyPem);
  });

  it('latencyMs beyond the call deadline surfaces DEADLINE_EXCEEDED', async () => {
    server.setFaults({ latencyMs: 1_000 });
    // The code is the property: DEADLINE_EXCEEDED means the call was cut before the 1 s answer.
    expect(await grpcCode(sign('late', { timeout: 100 }))).toBe(status.DEADLINE_EXCEEDED);
    expect(await grpcCode(server.client({ timeoutMs: 100 }).getPublicKey({ name: NAME }))).toBe(
      status.DEADLINE_EXCEEDED,
    );
  });

  it('wrongSignatureCrc: signatureCrc32c no longer matches the (still valid) signature', async () => {
    server.setFaults({ wrongSignatureCrc: true });
    const [response] = await sign('m');
    const signature = response.signature as Buffer;
    expect(verify('sha256', Buffer.from('m'), publicKeyPem, signature)).toBe(true);
    expect(response.signatureCrc32c?.value).not.toBe(String(crc32c(signature)));
  });

  it('wrongName: both methods answer for a different key version', async () => {
    server.setFaults({ wrongName: true });
    const [signed] = await sign('m');
    const [publicKey] = await server.client().getPublicKey({ name: NAME });
    expect(signed.name).toBe(keyVersion('faulty', 2));
    expect(publicKey.name).toBe(keyVersion('faulty', 2));
  });

  it('wrongPemCrc: pemCrc32c no longer matches the PEM', async () => {
    server.setFaults({ wrongPemCrc: true });
    const [publicKey] = await server.client().getPublicKey({ name: NAME });
    expect(publicKey.pem).toBe(publicKeyPem);
    expect(publicKey.pemCrc32c?.value).not.toBe(String(crc32c(publicKeyPem)));
  });

  it('unverifiedDigestCrc: verifiedDigestCrc32c is false although a correct digestCrc32c was sent', async () => {
    server.setFaults({ unverifiedDigestCrc: true });
    const [response] = await sign('m');
    expect(response.verifiedDigestCrc32c).toBe(false);
  });

  it.each(ALGORITHMS)(
    'badSignature (%s): a signature that fails verification but carries a matching CRC',
    async (algorithm) => {
      server.setFaults({ badSignature: true });
      const [response] = await server
        .client()
        .asymmetricSign({ name: keyVersion(algorithm), digest: { sha256: sha256('m') } });
      const signature = response.signature as Buffer;
      const [publicKey] = await server.client().getPublicKey({ name: keyVersion(algorithm) });
      expect(response.signatureCrc32c?.value).toBe(String(crc32c(signature)));
      expect(verify('sha256', Buffer.from('m'), publicKey.pem!, signature)).toBe(false);
    },
  );

  it('resetFaults restores correct answers', async () => {
    server.setFaults({
      wrongName: true,
      wrongSignatureCrc: true,
      unverifiedDigestCrc: true,
      unavailableTimes: 5,
    });
    server.resetFaults();
    const [response] = await sign('m', { retry: null });
    expect(response.name).toBe(NAME);
    expect(response.verifiedDigestCrc32c).toBe(true);
    expect(response.signatureCrc32c?.value).toBe(String(crc32c(response.signature as Buffer)));
  });
});
