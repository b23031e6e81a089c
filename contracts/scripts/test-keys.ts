import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SupportedAlgorithm } from '../src/constants.js';

export const TEST_KEY_DIR = fileURLToPath(new URL('../test-keys', import.meta.url));

export interface TestKeySpec {
  /** kid the key is published under; `inKeyset: false` keys are the attacker's. */
  readonly kid: string;
  readonly alg: SupportedAlgorithm;
  readonly file: string;
  readonly inKeyset: boolean;
}

/** Two RS256 kids for the rotation runbook, one ES256 key, and an attacker's key Core never trusts. */
export const TEST_KEYS: readonly TestKeySpec[] = [
  { kid: 'lite-2026-03', alg: 'RS256', file: 'lite-2026-03.pem', inKeyset: true },
  { kid: 'lite-2026-04', alg: 'RS256', file: 'lite-2026-04.pem', inKeyset: true },
  { kid: 'lite-2026-05', alg: 'ES256', file: 'lite-2026-05.pem', inKeyset: true },
  { kid: 'lite-2025-01', alg: 'RS256', file: 'attacker-lite-2025-01.pem', inKeyset: false },
];

export interface LoadedTestKey extends TestKeySpec {
  readonly pem: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function loadTestKeys(): Map<string, LoadedTestKey> {
  return new Map(
    TEST_KEYS.map((spec) => {
      const pem = readFileSync(`${TEST_KEY_DIR}/${spec.file}`, 'utf8');
      const privateKey = createPrivateKey(pem);
      return [spec.kid, { ...spec, pem, privateKey, publicKey: createPublicKey(privateKey) }];
    }),
  );
}
