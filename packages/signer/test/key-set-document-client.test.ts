import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKeySet, type KeySetDocument, keySetFromDocument, kmsPublishedKey } from '../src/index.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';

/*
 * Review finding 16: keySetFromDocument without a client creates one KMS client for all its key
 * versions, and close() closes it; so does a kmsPublishedKey without a client, for its own. The default client is the real KeyManagementServiceClient; only
 * its constructor defaults are pointed at the KMS test server (plaintext, no credential lookup), and
 * the instances built without options (the default ones) are recorded.
 */
const defaults = vi.hoisted(() => ({ port: 0, created: [] as unknown[], closed: 0 }));

vi.mock('@google-cloud/kms', async (importOriginal) => {
  const real = await importOriginal<typeof import('@google-cloud/kms')>();
  const { grpc } = await import('../src/testing/protos.js');
  type Options = ConstructorParameters<typeof real.KeyManagementServiceClient>[0];
  class KeyManagementServiceClient extends real.KeyManagementServiceClient {
    constructor(options?: Options) {
      super(
        options ?? {
          apiEndpoint: '127.0.0.1',
          port: defaults.port,
          sslCreds: grpc.credentials.createInsecure(),
          universeDomain: 'googleapis.com',
        },
      );
      if (options === undefined) defaults.created.push(this);
    }

    override close(): Promise<void> {
      if (defaults.created.includes(this)) defaults.closed++;
      return super.close();
    }
  }
  return { ...real, KeyManagementServiceClient };
});

const kms = useKmsTestServer();

afterEach(() => {
  defaults.created.length = 0;
  defaults.closed = 0;
});

/** A document of current, next and previous, each its own key version in the test server. */
function threeVersions(): KeySetDocument {
  const [a, b, c] = [keyVersionName(), keyVersionName(), keyVersionName()];
  for (const name of [a, b, c]) kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
  return {
    current: { kid: 'lite-2026-11', kmsKeyVersion: a },
    next: { kid: 'lite-2026-12', kmsKeyVersion: b, publishedAt: new Date().toISOString() },
    previous: [
      { kid: 'lite-2026-10', kmsKeyVersion: c, retireAt: new Date(Date.now() + 3_600_000).toISOString() },
    ],
  };
}

describe('keySetFromDocument and its KMS client', () => {
  it('without a client: one default client serves every key version, and close() closes it', async () => {
    defaults.port = kms.server.port;
    const keySet = keySetFromDocument(threeVersions());
    expect((await keySet.jwks()).keys.map((k) => k.kid)).toEqual([
      'lite-2026-11',
      'lite-2026-12',
      'lite-2026-10',
    ]);
    expect(defaults.created).toHaveLength(1);
    // A key's own close() leaves the client it shares with the other keys open.
    await (keySet.current as unknown as { close(): Promise<void> }).close();
    expect(defaults.closed).toBe(0);
    await keySet.close();
    expect(defaults.closed).toBe(1);
  });

  it('with a client: creates none and leaves it open on close()', async () => {
    const client = kms.client();
    const keySet = keySetFromDocument(threeVersions(), { kms: { client }, recheckSeconds: 0 });
    await keySet.jwks();
    await keySet.close();
    expect(defaults.created).toHaveLength(0);
    // The caller's client still works: the key set reads through it again (recheckSeconds 0).
    const before = kms.server.calls.getPublicKey;
    await expect(keySet.jwks()).resolves.toMatchObject({ keys: { length: 3 } });
    expect(kms.server.calls.getPublicKey - before).toBe(3);
  });
});

describe('kmsPublishedKey and its KMS client', () => {
  it('without a client: the default client it creates for a key set is closed by its close()', async () => {
    defaults.port = kms.server.port;
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const key = kmsPublishedKey({ kid: 'lite-2026-11', keyVersionName: name });
    const keySet = createKeySet({ current: key });
    expect((await keySet.jwks()).keys.map((k) => k.kid)).toEqual(['lite-2026-11']);
    expect(defaults.created).toHaveLength(1);
    await key.close();
    expect(defaults.closed).toBe(1);
  });

  it('with a client: creates none and leaves it open on close()', async () => {
    const client = kms.client();
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    const key = kmsPublishedKey({ kid: 'lite-2026-11', keyVersionName: name, client, recheckSeconds: 0 });
    await key.publicJwk();
    await key.close();
    expect(defaults.created).toHaveLength(0);
    // The caller's client still works: the key reads through it again (recheckSeconds 0).
    await expect(key.publicJwk()).resolves.toMatchObject({ kid: 'lite-2026-11' });
  });
});
