import { type KmsTestServer, startKmsTestServer } from '../../src/testing/index.js';

let counter = 0;

/** A fresh, well-formed key version name per call, so tests never share keys by accident. */
export function keyVersionName(): string {
  counter++;
  return `projects/hyper-test/locations/global/keyRings/s2s/cryptoKeys/lite-${counter}/cryptoKeyVersions/1`;
}

export { type KmsTestServer, startKmsTestServer };
