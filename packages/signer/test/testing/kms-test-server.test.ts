import { generateKeyPairSync, verify } from 'node:crypto';
import { createServer } from 'node:net';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignerError } from '../../src/errors.js';
import { crc32c } from '../../src/kms/crc32c.js';
import { type KmsTestServer, KmsTestServerError, startKmsTestServer } from '../../src/testing/index.js';
import { ALGORITHMS, grpcCode, keyVersion, sha256 } from './fixtures.js';

describe('KMS test server through the real KeyManagementServiceClient', () => {
  let server: KmsTestServer;
  const publicKeys = new Map<string, string>();

  beforeAll(async () => {
    server = await startKmsTestServer();
    for (const algorithm of ALGORITHMS) {
      publicKeys.set(algorithm, server.addKey(keyVersion(algorithm), { algorithm }).publicKeyPem);
    }
  });
  afterAll(() => server.close());

  it.each(ALGORITHMS)(
    '%s: asymmetricSign returns a signature node:crypto verifies over the message',
    async (algorithm) => {
      const message = `header.payload for ${algorithm}`;
      const digest = sha256(message);
      const [response] = await server.client().asymmetricSign({
        name: keyVersion(algorithm),
        digest: { sha256: digest },
        digestCrc32c: { value: crc32c(digest) },
      });
      const signature = response.signature as Buffer;
      expect(verify('sha256', Buffer.from(message), publicKeys.get(algorithm)!, signature)).toBe(true);
      expect(verify('sha256', Buffer.from(`${message}!`), publicKeys.get(algorithm)!, signature)).toBe(false);
      // Int64Value fields arrive as { value: '<decimal string>' }.
      expect(response.signatureCrc32c).toEqual({ value: String(crc32c(signature)) });
      expect(response.verifiedDigestCrc32c).toBe(true);
      expect(response.name).toBe(keyVersion(algorithm));
      expect(response.protectionLevel).toBe('SOFTWARE');
    },
  );

  it.each([
    ['RSA_SIGN_PKCS1_2048_SHA256', 256],
    ['RSA_SIGN_PKCS1_3072_SHA256', 384],
  ] as const)('%s signatures are %i bytes (modulus length)', async (algorithm, bytes) => {
    const [response] = await server
      .client()
      .asymmetricSign({ name: keyVersion(algorithm), digest: { sha256: sha256('x') } });
    expect((response.signature as Buffer).length).toBe(bytes);
  });

  it('EC_SIGN_P256_SHA256: hundreds of DER signatures all verify and vary in length, as real ECDSA does', async () => {
    const client = server.client();
    const lengths = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const message = `message ${i}`;
      const [response] = await client.asymmetricSign({
        name: keyVersion('EC_SIGN_P256_SHA256'),
        digest: { sha256: sha256(message) },
      });
      const signature = response.signature as Buffer;
      expect(verify('sha256', Buffer.from(message), publicKeys.get('EC_SIGN_P256_SHA256')!, signature)).toBe(
        true,
      );
      lengths.add(signature.length);
    }
    // DER INTEGERs are minimal: r or s below 2^255 drops the 0x00 pad byte, so 70, 71 and 72 all occur.
    expect([...lengths]).toEqual(expect.arrayContaining([70, 71, 72]));
  });

  it('reports verifiedDigestCrc32c false when the request carries no digestCrc32c', async () => {
    const [response] = await server
      .client()
      .asymmetricSign({ name: keyVersion('EC_SIGN_P256_SHA256'), digest: { sha256: sha256('x') } });
    expect(response.verifiedDigestCrc32c).toBe(false);
  });

  it('rejects a digestCrc32c that does not match the digest with INVALID_ARGUMENT', async () => {
    const digest = sha256('x');
    const call = server.client().asymmetricSign({
      name: keyVersion('RSA_SIGN_PKCS1_2048_SHA256'),
      digest: { sha256: digest },
      digestCrc32c: { value: (crc32c(digest) ^ 1) >>> 0 },
    });
    expect(await grpcCode(call)).toBe(status.INVALID_ARGUMENT);
  });

  it('rejects a sign request without a 32-byte SHA-256 digest with INVALID_ARGUMENT', async () => {
    const client = server.client();
    const name = keyVersion('RSA_SIGN_PKCS1_2048_SHA256');
    expect(await grpcCode(client.asymmetricSign({ name }))).toBe(status.INVALID_ARGUMENT);
    expect(await grpcCode(client.asymmetricSign({ name, digest: { sha256: Buffer.alloc(20) } }))).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await grpcCode(client.asymmetricSign({ name, digest: { sha384: Buffer.alloc(48) } }))).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  it.each(ALGORITHMS)(
    '%s: getPublicKey returns the SPKI PEM with its pemCrc32c and algorithm',
    async (algorithm) => {
      const [publicKey] = await server.client().getPublicKey({ name: keyVersion(algorithm) });
      expect(publicKey.pem).toBe(publicKeys.get(algorithm));
      expect(publicKey.pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
      expect(publicKey.pemCrc32c).toEqual({ value: String(crc32c(publicKey.pem!)) });
      expect(publicKey.algorithm).toBe(algorithm);
      expect(publicKey.name).toBe(keyVersion(algorithm));
      expect(publicKey.protectionLevel).toBe('SOFTWARE');
    },
  );

  it('answers NOT_FOUND for a key version it does not hold, on both methods', async () => {
    const client = server.client();
    const name = keyVersion('unknown');
    expect(await grpcCode(client.asymmetricSign({ name, digest: { sha256: sha256('x') } }))).toBe(
      status.NOT_FOUND,
    );
    expect(await grpcCode(client.getPublicKey({ name }))).toBe(status.NOT_FOUND);
  });

  it('signs with a key given as a PEM, so a test can hold the matching public key', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cases = [
      { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256', pair: rsa },
      { algorithm: 'EC_SIGN_P256_SHA256', pair: ec },
    ] as const;
    for (const { algorithm, pair } of cases) {
      const name = keyVersion(`imported-${algorithm}`);
      const privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const { publicKeyPem } = server.addKey(name, { algorithm, privateKeyPem });
      expect(publicKeyPem).toBe(pair.publicKey.export({ type: 'spki', format: 'pem' }));
      const [response] = await server.client().asymmetricSign({ name, digest: { sha256: sha256('m') } });
      expect(verify('sha256', Buffer.from('m'), pair.publicKey, response.signature as Buffer)).toBe(true);
    }
  });

  it.each([
    [
      'an RSA-2048 PEM for a 3072-bit algorithm',
      'RSA_SIGN_PKCS1_3072_SHA256',
      'ERR_S2S_KMS_TEST_KEY_MISMATCH',
    ],
    ['an RSA PEM for the P-256 algorithm', 'EC_SIGN_P256_SHA256', 'ERR_S2S_KMS_TEST_KEY_MISMATCH'],
    ['a PEM that is no private key', 'RSA_SIGN_PKCS1_2048_SHA256', 'ERR_S2S_KMS_TEST_INVALID_PEM'],
  ] as const)('addKey refuses %s with a typed error', (_, algorithm, code) => {
    const privateKeyPem =
      code === 'ERR_S2S_KMS_TEST_INVALID_PEM'
        ? '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n'
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
            .privateKey.export({ type: 'pkcs8', format: 'pem' })
            .toString();
    const attempt = () => server.addKey(keyVersion('refused'), { algorithm, privateKeyPem });
    expect(attempt).toThrow(KmsTestServerError);
    expect(attempt).toThrow(SignerError); // one base class per package
    expect(attempt).toThrow(expect.objectContaining({ code }));
  });

  it('answers UNIMPLEMENTED for the KMS methods it does not serve', async () => {
    const name = keyVersion('EC_SIGN_P256_SHA256');
    expect(await grpcCode(server.client().updateCryptoKeyVersion({ cryptoKeyVersion: { name } }))).toBe(
      status.UNIMPLEMENTED,
    );
  });

  it('models key version state: only ENABLED versions sign or give out their public key', async () => {
    const name = keyVersion('stateful');
    server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const client = server.client();
    const sign = () => client.asymmetricSign({ name, digest: { sha256: sha256('s') } });
    expect((await client.getCryptoKeyVersion({ name }))[0].state).toBe('ENABLED');
    expect(await grpcCode(sign())).toBeUndefined();
    for (const state of ['DISABLED', 'DESTROY_SCHEDULED', 'DESTROYED'] as const) {
      server.setKeyState(name, state);
      expect((await client.getCryptoKeyVersion({ name }))[0].state).toBe(state);
      expect(await grpcCode(client.getPublicKey({ name }))).toBe(status.FAILED_PRECONDITION);
      expect(await grpcCode(sign())).toBe(status.FAILED_PRECONDITION);
    }
    server.setKeyState(name, 'ENABLED');
    expect(await grpcCode(client.getPublicKey({ name }))).toBeUndefined();
    expect(() => server.setKeyState(keyVersion('never-added'), 'DISABLED')).toThrow(
      expect.objectContaining({ code: 'ERR_S2S_KMS_TEST_UNKNOWN_KEY' }),
    );
  });

  it('counts every RPC it receives, per method', async () => {
    const before = server.calls;
    const client = server.client();
    await client.getPublicKey({ name: keyVersion('EC_SIGN_P256_SHA256') });
    await client.asymmetricSign({ name: keyVersion('EC_SIGN_P256_SHA256'), digest: { sha256: sha256('a') } });
    await client.asymmetricSign({ name: keyVersion('EC_SIGN_P256_SHA256'), digest: { sha256: sha256('b') } });
    await grpcCode(client.getPublicKey({ name: keyVersion('unknown') }));
    expect(server.calls).toEqual({
      asymmetricSign: before.asymmetricSign + 2,
      getPublicKey: before.getPublicKey + 2,
      getCryptoKeyVersion: before.getCryptoKeyVersion,
    });
  });
});

describe('KMS test server lifecycle', () => {
  it('close() frees the port for a new listener', async () => {
    const server = await startKmsTestServer();
    server.addKey(keyVersion('k'), { algorithm: 'EC_SIGN_P256_SHA256' });
    await server.client().getPublicKey({ name: keyVersion('k') });
    await server.close();
    const listener = createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject).listen(server.port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => listener.close(resolve));
  });

  it('listens on the requested port', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => probe.once('listening', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const server = await startKmsTestServer({ host: '127.0.0.1', port });
    try {
      expect(server.port).toBe(port);
      server.addKey(keyVersion('k'), { algorithm: 'EC_SIGN_P256_SHA256' });
      const [publicKey] = await server.client().getPublicKey({ name: keyVersion('k') });
      expect(publicKey.algorithm).toBe('EC_SIGN_P256_SHA256');
    } finally {
      await server.close();
    }
  });

  it('close() cancels a call still waiting on injected latency instead of hanging', async () => {
    const server = await startKmsTestServer();
    server.addKey(keyVersion('k'), { algorithm: 'EC_SIGN_P256_SHA256' });
    server.setFaults({ latencyMs: 60_000 });
    const pending = grpcCode(server.client().getPublicKey({ name: keyVersion('k') }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await server.close();
    expect(await pending).toBe(status.CANCELLED);
  });
});
