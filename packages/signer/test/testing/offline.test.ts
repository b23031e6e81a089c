import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyManagementServiceClient } from '@google-cloud/kms';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type KmsTestServer, startKmsTestServer } from '../../src/testing/index.js';
import { keyVersion, sha256 } from './fixtures.js';

// A stand-in metadata server: google-auth-library probes GCE_METADATA_HOST when it looks for credentials,
// so any credential lookup shows up here as a connection (and the test never leaves the machine).
describe('the client handed out by the KMS test server stays offline', () => {
  let server: KmsTestServer;
  let metadata: net.Server;
  let metadataConnections = 0;
  const saved = { ...process.env };
  const home = mkdtempSync(join(tmpdir(), 'kms-offline-'));

  beforeAll(async () => {
    metadata = net.createServer((socket) => {
      metadataConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    process.env.GCE_METADATA_HOST = `127.0.0.1:${(metadata.address() as net.AddressInfo).port}`;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    delete process.env.METADATA_SERVER_DETECTION;
    process.env.HOME = home; // no gcloud application-default credentials file either
    server = await startKmsTestServer();
    server.addKey(keyVersion('k'), { algorithm: 'EC_SIGN_P256_SHA256' });
  });
  afterAll(async () => {
    process.env = saved;
    await server.close();
    await new Promise((resolve) => metadata.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  /** Every TCP destination this process dials while `run` executes. */
  async function dialled(run: () => Promise<unknown>): Promise<Set<string>> {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      await run();
      return new Set(
        connect.mock.calls.map(([target]) => {
          // net.connect() hands Socket#connect its already-normalized [options, callback] pair.
          const { host, port } = (Array.isArray(target) ? target[0] : target) as net.TcpNetConnectOpts;
          return `${host}:${port}`;
        }),
      );
    } finally {
      connect.mockRestore();
    }
  }

  it('connects only to the test server and never looks up credentials', async () => {
    const targets = await dialled(async () => {
      const client = server.client();
      await client.getPublicKey({ name: keyVersion('k') });
      await client.asymmetricSign({ name: keyVersion('k'), digest: { sha256: sha256('m') } });
    });
    expect(targets).toEqual(new Set([`127.0.0.1:${server.port}`]));
    expect(metadataConnections).toBe(0);
  });

  it('(control) a client without universeDomain does probe the metadata server', async () => {
    const client = new KeyManagementServiceClient({
      apiEndpoint: '127.0.0.1',
      port: server.port,
      sslCreds: credentials.createInsecure(),
    });
    try {
      const targets = await dialled(() => client.getPublicKey({ name: keyVersion('k') }));
      expect(targets).toContain(process.env.GCE_METADATA_HOST);
      expect(metadataConnections).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });
});
