// Packs the three published packages and installs the tarballs with plain npm into a fresh project
// outside the workspace, then uses them as a consumer would (as aws-jwt-verify tests its package).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packages = ['contracts', 'packages/signer', 'packages/verifier', 'packages/conformance'];
const work = mkdtempSync(join(tmpdir(), 'hyper-s2s-consumer-'));
const tarballs = join(work, 'tarballs');
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  for (const dir of packages) {
    // pnpm pack rewrites workspace: ranges to real versions, as publishing does.
    run('pnpm', ['pack', '--pack-destination', tarballs], join(root, dir));
  }
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  for (const file of files) {
    run('npx', ['--no-install', 'attw', '--profile', 'esm-only', '--format', 'table-flipped', file], root);
  }
  console.log(`consumer: @arethetypeswrong/cli clean (esm-only profile) for ${files.length} tarballs`);

  const app = join(work, 'app');
  run('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  // The KMS client and gRPC are the signer's optional peers: a consumer on KMS installs them itself.
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      ...files,
      '@google-cloud/kms@^5.2.1',
      '@grpc/grpc-js@^1.13.0',
      '@grpc/proto-loader@^0.8.0',
    ],
    app,
  );

  writeFileSync(
    join(app, 'check.mjs'),
    `
import { generateKeyPairSync } from 'node:crypto';
import { createSigner } from '@hyper/s2s-signer';
import { createVerifier, memoryReplayStore } from '@hyper/s2s-verifier';
import { KNOWN_SCOPES } from '@hyper/s2s-contracts';
import vectors from '@hyper/s2s-contracts/vectors.json' with { type: 'json' };

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const signer = createSigner({ key: { privateKeyPem: pem, kid: 'lite-2026-11' }, issuer: 'hyper-lite', subject: 'gw', audience: 'hyper-core' });
const verifier = createVerifier({ keys: { jwks: await signer.jwks() }, audience: 'hyper-core', issuers: ['hyper-lite'], replayStore: memoryReplayStore() });
const token = await signer.sign({ scope: KNOWN_SCOPES[0] });
const first = await verifier.verify(token, { scope: KNOWN_SCOPES[0], path: '/integrations/spaces' });
const again = await verifier.verify(token, { scope: KNOWN_SCOPES[0], path: '/integrations/spaces' });
if (!first.ok || again.reason !== 'replayed_token' || vectors.vectors.length < 40) {
  console.error('consumer check failed', first.reason, again.reason);
  process.exit(1);
}
console.log('consumer: signed and verified one token from the packed tarballs');
`,
  );
  process.stdout.write(run('node', ['check.mjs'], app));

  // ADR 0031's path from the tarballs: KMS signing through the real client against the KMS test server
  // (./testing), the JWKS published from the key versions, a verifier on the JWKS URL, a rotation,
  // an immediate revocation with refreshKeys(), and a disabled version that is never published.
  writeFileSync(
    join(app, 'check-kms-jwks.mjs'),
    `
import { createServer } from 'node:http';
import { createJwksHandler, createKeySet, createSigner, kmsPublishedKey } from '@hyper/s2s-signer';
import { startKmsTestServer } from '@hyper/s2s-signer/testing';
import { createVerifier, memoryReplayStore } from '@hyper/s2s-verifier';

const fail = (what) => { console.error('consumer KMS + JWKS check failed:', what); process.exit(1); };
const kms = await startKmsTestServer();
const version = (n) => 'projects/p/locations/global/keyRings/r/cryptoKeys/lite/cryptoKeyVersions/' + n;
for (const n of [1, 2]) kms.addKey(version(n), { algorithm: 'RSA_SIGN_PKCS1_2048_SHA256' });
const client = kms.client();
const kids = { 1: 'lite-2026-11', 2: 'lite-2026-12' };
const published = (n) => kmsPublishedKey({ kid: kids[n], keyVersionName: version(n), client, recheckSeconds: 0 });
const keySet = createKeySet({ current: published(1), next: published(2) });
const server = createServer(createJwksHandler(keySet));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const jwksUrl = 'http://127.0.0.1:' + server.address().port + '/.well-known/jwks.json';
const signer = (n) => createSigner({
  key: { kms: { keyVersionName: version(n), client }, kid: kids[n] },
  issuer: 'hyper-lite', subject: 'gw', audience: 'hyper-core',
});
const verifier = createVerifier({
  keys: { jwksUrl }, audience: 'hyper-core', issuers: ['hyper-lite'], replayStore: memoryReplayStore(),
});
const call = { scope: 'spaces:create', path: '/integrations/spaces' };
const verify = async (n) => (await verifier.verify(await signer(n).sign({ scope: 'spaces:create' }), call)).reason;
if ((await verifier.warmup()).kids.join() !== 'lite-2026-11,lite-2026-12') fail('JWKS kids');
if ((await verify(1)) !== 'ok' || (await verify(2)) !== 'ok') fail('KMS-signed tokens');
keySet.switchToNext({ force: true });
keySet.retire('lite-2026-11');
const refreshed = await verifier.refreshKeys();
if (!refreshed.refreshed || refreshed.kids.join() !== 'lite-2026-12') fail('refreshKeys');
if ((await verify(1)) !== 'unknown_kid' || (await verify(2)) !== 'ok') fail('after revocation');
kms.setKeyState(version(2), 'DISABLED');
if ((await fetch(jwksUrl)).status !== 503) fail('a disabled only version must give 503');
server.close();
await kms.close();
console.log('consumer: KMS-signed tokens verified through the published JWKS, rotated and revoked, from the tarballs');
process.exit(0);
`,
  );
  process.stdout.write(run('node', ['check-kms-jwks.mjs'], app));
  const help = run('npx', ['--no-install', 'hyper-s2s-keys', '--help'], app);
  if (!/keygen/.test(help)) throw new Error('hyper-s2s-keys --help did not list its commands');
  console.log('consumer: hyper-s2s-keys --help works from the installed tarball');
  const kit = run('npx', ['--no-install', 'hyper-s2s-conformance', '--help'], app);
  if (!/hyper-s2s-conformance core/.test(kit))
    throw new Error('hyper-s2s-conformance --help did not list core');
  console.log('consumer: hyper-s2s-conformance --help works from the installed tarball');
} finally {
  rmSync(work, { recursive: true, force: true });
}
