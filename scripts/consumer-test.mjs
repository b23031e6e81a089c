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
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], app);

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
