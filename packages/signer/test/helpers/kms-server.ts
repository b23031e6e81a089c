import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type KmsTestServer, startKmsTestServer } from '../../src/testing/index.js';

let counter = 0;

/** A fresh, well-formed key version name per call, so tests never share keys by accident. */
export function keyVersionName(): string {
  counter++;
  return `projects/hyper-test/locations/global/keyRings/s2s/cryptoKeys/lite-${counter}/cryptoKeyVersions/1`;
}

export interface KmsTestServerHandle {
  /** The file's KMS test server (valid from beforeAll on). */
  readonly server: KmsTestServer;
  /** A real `@google-cloud/kms` client on it, closed with the server. */
  client(...args: Parameters<KmsTestServer['client']>): ReturnType<KmsTestServer['client']>;
  /** A fresh key version name (see keyVersionName). */
  keyVersionName(): string;
}

/**
 * Registers beforeAll/afterAll hooks giving the calling test file (or describe block) its own KMS test
 * server on port 0, closed afterwards; injected faults are cleared before each test unless
 * `resetFaults: false`. Call it before registering hooks that close signers, so those run first.
 */
export function useKmsTestServer(options: { resetFaults?: boolean } = {}): KmsTestServerHandle {
  let server: KmsTestServer | undefined;
  beforeAll(async () => {
    server = await startKmsTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  if (options.resetFaults !== false) beforeEach(() => handle.server.resetFaults());

  const handle: KmsTestServerHandle = {
    get server() {
      if (!server) throw new Error('useKmsTestServer: the server exists from beforeAll on');
      return server;
    },
    client: (...args) => handle.server.client(...args),
    keyVersionName,
  };
  return handle;
}

export { type KmsTestServer, startKmsTestServer };
