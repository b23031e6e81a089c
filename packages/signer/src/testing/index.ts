// @hyper/s2s-signer/testing — a local Google Cloud KMS for tests that drive the real KMS client.
export type { KmsFaults } from './faults.js';
export type { KmsTestAlgorithm, KmsTestKeySpec } from './keys.js';
export { KmsTestServerError } from './keys.js';
export type {
  KmsTestClientOptions,
  KmsTestKeyState,
  KmsTestServer,
  KmsTestServerOptions,
} from './server.js';
export { startKmsTestServer } from './server.js';
