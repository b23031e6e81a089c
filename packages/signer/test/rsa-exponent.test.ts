import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { createSigner, kmsPublishedKey, type Signer } from '../src/index.js';
import { keyVersionName, useKmsTestServer } from './helpers/kms-server.js';
import { AUDIENCE, ISSUER, SUBJECT } from './helpers/vectors.js';

/** RSA-2048 with public exponent 3: big enough for the size check, refused by the contract's JWK policy. */
const e3Pem = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })
  .privateKey.export({ format: 'pem', type: 'pkcs8' })
  .toString();

const kms = useKmsTestServer();
const signers: Signer[] = [];
afterAll(async () => {
  await Promise.all(signers.map((s) => s.close()));
});

describe('an RSA key with a public exponent the contract refuses (e = 3)', () => {
  it('createSigner refuses the PEM at startup, naming the field and never the key', () => {
    let error: unknown;
    try {
      createSigner({
        key: { privateKeyPem: e3Pem, kid: 'lite-2026-06' },
        issuer: ISSUER,
        subject: SUBJECT,
        audience: AUDIENCE,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'ERR_S2S_INVALID_CONFIG', field: 'key.privateKeyPem' });
    expect((error as Error).message).toMatch(/exponent/);
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });

  it('a KMS key version with it is refused before anything is signed or published', async () => {
    const name = keyVersionName();
    kms.server.addKey(name, { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256', privateKeyPem: e3Pem });
    const signer = createSigner({
      key: { kms: { keyVersionName: name, client: kms.client(), maxRetries: 0 }, kid: 'lite-2026-06' },
      issuer: ISSUER,
      subject: SUBJECT,
      audience: AUDIENCE,
    });
    signers.push(signer);
    const before = kms.server.calls.asymmetricSign;
    await expect(signer.jwks()).rejects.toMatchObject({ code: 'ERR_S2S_KMS_KEY_MISMATCH' });
    await expect(signer.sign({ scope: 'spaces:create' })).rejects.toMatchObject({
      code: 'ERR_S2S_KMS_KEY_MISMATCH',
    });
    expect(kms.server.calls.asymmetricSign).toBe(before);
    const published = kmsPublishedKey({
      kid: 'lite-2026-06',
      keyVersionName: name,
      client: kms.client(),
      maxRetries: 0,
    });
    await expect(published.publicJwk()).rejects.toMatchObject({ code: 'ERR_S2S_KMS_KEY_MISMATCH' });
  });

  it('hyper-s2s-keys jwks refuses to print a JWKS for it (exit 1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 's2s-e3-'));
    const pem = join(dir, 'lite-2026-06.pem');
    const out: string[] = [];
    const err: string[] = [];
    let status: number;
    try {
      writeFileSync(pem, e3Pem, { mode: 0o600 });
      status = runCli(['jwks', '--pem', pem], {
        stdout: (text) => out.push(text),
        stderr: (text) => err.push(text),
        env: {},
      });
    } finally {
      // A private key, even a test one, is not left behind in the machine's temp directory.
      rmSync(dir, { recursive: true, force: true });
    }
    expect(status).toBe(1);
    expect(out.join('')).toBe('');
    expect(err.join('')).toMatch(/jwks: refused: e: .*exponent/);
    expect(existsSync(dir)).toBe(false);
  });
});
