import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kmsLoadedAfter, packageDir } from './helpers/kms-probe.js';

const srcDir = join(packageDir, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('@google-cloud/kms stays an optional peer', () => {
  it('no core source file imports it statically (only a dynamic import in kms.ts)', () => {
    for (const file of sourceFiles(srcDir)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/^\s*import[^;]*from\s+['"]@google-cloud\/kms['"]/m);
      expect(text, file).not.toMatch(/from\s+['"]@grpc\//);
      if (!file.endsWith('kms.ts'))
        expect(text, file).not.toMatch(/import\(\s*['"]@google-cloud\/kms['"]\s*\)/);
    }
  });

  it('a PEM signer, and a KMS signer given its own client, never load it', () => {
    const dist = join(packageDir, 'dist', 'index.js');
    const loaded = kmsLoadedAfter(`
      const { createSigner } = await import(${JSON.stringify(dist)});
      const { generateKeyPairSync } = await import('node:crypto');
      const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' });
      const signer = createSigner({ key: { privateKeyPem: pem, kid: 'lite-2026-03' }, issuer: 'i', subject: 's', audience: 'a' });
      await signer.sign({ scope: 'spaces:create' });
      createSigner({ key: { kms: { keyVersionName: 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1', client: { asymmetricSign() {}, getPublicKey() {} } }, kid: 'lite-2026-03' }, issuer: 'i', subject: 's', audience: 'a' });
    `);
    expect(loaded).toBe(false);
  });

  it('the probe does detect the package when it is loaded (control)', () => {
    expect(kmsLoadedAfter(`await import('@google-cloud/kms');`)).toBe(true);
  });
});
