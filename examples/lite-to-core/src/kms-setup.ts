/**
 * Lite's Cloud KMS, locally: the signer's KMS test server (a real gRPC KeyManagementService) holding one
 * RSA key with two key versions, reached through the real @google-cloud/kms client. The kid <-> version
 * mapping is the key set document an operator keeps with `hyper-s2s-keys rotation`.
 */
import type { KeyManagementServiceClient } from '@google-cloud/kms';
import type { KeySetDocumentKey } from '@hyper/s2s-signer';
import { type KmsTestServer, startKmsTestServer } from '@hyper/s2s-signer/testing';
import { kidForMonth } from './keys.js';

const CRYPTO_KEY = 'projects/hyper-demo/locations/europe-west1/keyRings/hyper-lite/cryptoKeys/s2s-jwt';

export interface LiteKms {
  readonly server: KmsTestServer;
  readonly client: KeyManagementServiceClient;
  /** Version 1 under this month's kid (signing now), version 2 under next month's (the rotation target). */
  readonly versions: readonly [KeySetDocumentKey, KeySetDocumentKey];
  close(): Promise<void>;
}

export async function startLiteKms(): Promise<LiteKms> {
  const server = await startKmsTestServer();
  const versions = [1, 2].map((n) => {
    const kmsKeyVersion = `${CRYPTO_KEY}/cryptoKeyVersions/${n}`;
    server.addKey(kmsKeyVersion, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
    return { kid: kidForMonth(n - 1), kmsKeyVersion };
  }) as [KeySetDocumentKey, KeySetDocumentKey];
  return {
    server,
    // A per-call deadline well under gax's 60 s default, as the signer's own policy has.
    client: server.client({ timeoutMs: 2000 }),
    versions,
    close: () => server.close(),
  };
}
