/**
 * Generates the TEST-ONLY key pairs the vectors are signed with. Run once; the PEMs are committed so
 * the vector generator is reproducible. Never use these keys outside tests: they are public.
 *
 *   pnpm --filter @hyper/s2s-contracts generate:keys [--force]
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { TEST_KEY_DIR, TEST_KEYS } from './test-keys.js';

const force = process.argv.includes('--force');
mkdirSync(TEST_KEY_DIR, { recursive: true });

for (const spec of TEST_KEYS) {
  const file = `${TEST_KEY_DIR}/${spec.file}`;
  if (existsSync(file) && !force) {
    console.log(`kept ${file}`);
    continue;
  }
  const { privateKey } =
    spec.alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  console.log(`wrote ${file}`);
}
