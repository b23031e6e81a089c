// Packs the three published packages and installs the tarballs with plain npm into a fresh project
// outside the workspace, then uses them as a consumer would (as aws-jwt-verify tests its package).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { rejectionBody } from '@hyper/s2s-verifier/http';
import { REPLAY_MIGRATION_SQL } from '@hyper/s2s-verifier/replay';
import { KNOWN_SCOPES } from '@hyper/s2s-contracts';
import vectors from '@hyper/s2s-contracts/vectors.json' with { type: 'json' };

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
const signer = createSigner({ key: { privateKeyPem: pem, kid: 'lite-2026-11' }, issuer: 'hyper-lite', subject: 'gw', audience: 'hyper-core' });
const verifier = createVerifier({ keys: { jwks: await signer.jwks() }, audience: 'hyper-core', issuers: ['hyper-lite'], replayStore: memoryReplayStore() });
const token = await signer.sign({ scope: KNOWN_SCOPES[0] });
const first = await verifier.verify(token, { scope: KNOWN_SCOPES[0], path: '/integrations/spaces' });
const again = await verifier.verify(token, { scope: KNOWN_SCOPES[0], path: '/integrations/spaces' });
// The ./http and ./replay subpaths resolve from the tarballs and carry the helpers moved off the root.
const body = JSON.parse(rejectionBody(again));
if (!first.ok || again.reason !== 'replayed_token' || vectors.vectors.length < 40 || body.reason !== 'replayed_token' || !REPLAY_MIGRATION_SQL.includes('CREATE TABLE')) {
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

  await frameworks(app, files);
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * The framework adapters from the tarballs, in TypeScript as a consumer writes them: compiled with
 * tsc (nodenext, experimentalDecorators for Nest, no emitDecoratorMetadata), then run against real
 * Express, Fastify and Nest (both platforms) servers. The framework versions are the ranges the
 * verifier is tested with (its devDependencies).
 */
async function frameworks(app, files) {
  const dev = JSON.parse(readFileSync(join(root, 'packages/verifier/package.json'), 'utf8')).devDependencies;
  const wanted = [
    'express',
    '@types/express',
    'fastify',
    'fastify-plugin',
    '@nestjs/common',
    '@nestjs/core',
    '@nestjs/platform-express',
    '@nestjs/platform-fastify',
    'reflect-metadata',
    'rxjs',
  ].map((name) => `${name}@${dev[name]}`);
  const rootDev = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies;
  wanted.push(`typescript@${rootDev.typescript}`, `@types/node@${rootDev['@types/node']}`);
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, ...wanted], app);

  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        experimentalDecorators: true,
        skipLibCheck: true,
        outDir: 'out',
        types: ['node'],
      },
      files: ['frameworks.ts'],
    }),
  );
  writeFileSync(join(app, 'frameworks.ts'), frameworksSource());
  run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json'], app);
  console.log('consumer: the Express (typed req.s2s), Fastify and Nest adapters compile from the tarballs');
  process.stdout.write(run('node', ['out/frameworks.js'], app));
}

// A function, not a const: the try block above runs before a module-level const would be initialized.
function frameworksSource() {
  return `
import 'reflect-metadata';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Claims } from '@hyper/s2s-contracts';
import { createSigner } from '@hyper/s2s-signer';
import { createVerifier, memoryReplayStore, type Verifier } from '@hyper/s2s-verifier';
import { s2sMiddleware } from '@hyper/s2s-verifier/express';
import s2sAuth from '@hyper/s2s-verifier/fastify';
import { RequireS2sScope, S2sClaims, S2sGuard, S2sModule } from '@hyper/s2s-verifier/nest';
import { Controller, HttpCode, Module, Post, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import express from 'express';
import Fastify from 'fastify';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signer = createSigner({
  key: { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, kid: 'lite-2026-11' },
  issuer: 'hyper-lite',
  subject: 'consumer-gateway',
  audience: 'hyper-core',
});
const jwks = await signer.jwks();
const newVerifier = (): Verifier =>
  createVerifier({ keys: { jwks }, audience: 'hyper-core', issuers: ['hyper-lite'], replayStore: memoryReplayStore() });

async function check(name: string, base: string): Promise<void> {
  const url = base + '/integrations/spaces';
  const ok = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer ' + (await signer.sign({ scope: 'spaces:create' })) } });
  const body = (await ok.json()) as { sub?: string };
  const missing = await fetch(url, { method: 'POST' });
  if (ok.status !== 200 || body.sub !== 'consumer-gateway' || missing.status !== 401 || missing.headers.get('www-authenticate') !== 'Bearer') {
    throw new Error(name + ': got ' + ok.status + ' ' + JSON.stringify(body) + ', then ' + missing.status);
  }
  console.log('consumer: ' + name + ' lets a signed token through and answers 401 without one');
}

const expressApp = express();
expressApp.post(
  '/integrations/spaces',
  s2sMiddleware(newVerifier(), { scope: 'spaces:create', path: '/integrations/spaces' }),
  (req, res) => {
    const sub: string = req.s2s.claims.sub;
    res.json({ sub });
  },
);
const expressServer = expressApp.listen(0, '127.0.0.1');
await new Promise((resolve) => expressServer.once('listening', resolve));
await check('Express', 'http://127.0.0.1:' + (expressServer.address() as AddressInfo).port);
expressServer.close();

const fastify = Fastify();
await fastify.register(s2sAuth, { verifier: newVerifier() });
fastify.post('/integrations/spaces', { onRequest: fastify.s2sRequire('spaces:create') }, async (request) => ({
  sub: request.s2s.claims.sub,
}));
await check('Fastify', await fastify.listen({ port: 0, host: '127.0.0.1' }));
await fastify.close();

@Controller('integrations')
@UseGuards(S2sGuard)
class SpacesController {
  @Post('spaces')
  @HttpCode(200)
  @RequireS2sScope('spaces:create')
  create(@S2sClaims() claims: Claims) {
    return { sub: claims.sub };
  }
}

for (const platform of ['express', 'fastify'] as const) {
  @Module({ imports: [S2sModule.forRoot({ verifier: newVerifier() })], controllers: [SpacesController] })
  class AppModule {}
  const adapter = platform === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const nest = await NestFactory.create(AppModule, adapter, { logger: false });
  await nest.listen(0, '127.0.0.1');
  await check('Nest on ' + platform, (await nest.getUrl()).replace('[::1]', '127.0.0.1'));
  await nest.close();
}
`;
}
