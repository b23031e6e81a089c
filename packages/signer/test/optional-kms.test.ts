import { execFileSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kmsLoadedAfter, packageDir } from './helpers/kms-probe.js';

const srcDir = join(packageDir, 'src');
/** Only the KMS adapter's own folder may import the client, and only dynamically. */
const kmsDir = join(srcDir, 'kms') + sep;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

describe('@google-cloud/kms stays an optional peer', () => {
  it('no core source file imports it statically (only a dynamic import under src/kms/)', () => {
    for (const file of sourceFiles(srcDir)) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/^\s*import[^;]*from\s+['"]@google-cloud\/kms['"]/m);
      expect(text, file).not.toMatch(/from\s+['"]@grpc\//);
      if (!file.startsWith(kmsDir))
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

/**
 * Installs the built package into a fresh node_modules next to its real dependencies only (contracts and
 * nanoid), so `@google-cloud/kms` cannot be resolved, as in a service that never installed the peer.
 */
function installWithoutKms(): string {
  const root = mkdtempSync(join(tmpdir(), 's2s-no-kms-'));
  const target = join(root, 'node_modules', '@hyper', 's2s-signer');
  mkdirSync(target, { recursive: true });
  cpSync(join(packageDir, 'dist'), join(target, 'dist'), { recursive: true });
  cpSync(join(packageDir, 'package.json'), join(target, 'package.json'));
  for (const dep of ['@hyper/s2s-contracts', 'nanoid']) {
    symlinkSync(realpathSync(join(packageDir, 'node_modules', dep)), join(root, 'node_modules', dep), 'dir');
  }
  return root;
}

describe('a KMS key without @google-cloud/kms installed', () => {
  it('signerFromEnv fails at startup naming the package and the variable that asked for KMS', () => {
    const root = installWithoutKms();
    try {
      const script = `
        import { signerFromEnv } from '@hyper/s2s-signer';
        try {
          signerFromEnv({ env: {
            HYPER_S2S_JWT_KMS_KEY_VERSION: 'projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
            HYPER_S2S_JWT_KID: 'lite-2026-03', HYPER_S2S_JWT_ISSUER: 'hyper-lite',
            HYPER_S2S_JWT_SUBJECT: 'hyper-lite', HYPER_S2S_JWT_AUDIENCE: 'hyper-core' } });
          process.stdout.write(JSON.stringify({ started: true }));
        } catch (e) {
          process.stdout.write(JSON.stringify({ started: false, name: e.name, code: e.code, field: e.field, message: e.message }));
        }`;
      const out = JSON.parse(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          cwd: root,
          encoding: 'utf8',
          // pnpm's NODE_PATH points into the workspace store, where the package is installed.
          env: { ...process.env, NODE_PATH: '' },
        }),
      );
      expect(out).toMatchObject({
        started: false,
        name: 'SignerConfigError',
        code: 'ERR_S2S_INVALID_CONFIG',
        field: 'HYPER_S2S_JWT_KMS_KEY_VERSION',
      });
      expect(out.message).toContain('@google-cloud/kms');
      expect(out.message).toContain('HYPER_S2S_JWT_KMS_KEY_VERSION');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
