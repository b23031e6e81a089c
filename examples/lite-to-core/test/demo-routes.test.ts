import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Jwks } from '@hyper/s2s-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoreServer, startCore } from '../src/core.js';
import { demoRoutes } from '../src/demo-routes.js';
import { type LiteGateway, startLiteGateway } from '../src/gateway.js';
import { generateLiteKey, kidForMonth } from '../src/keys.js';

describe('pnpm demo --serve: the gateway routes for curl', () => {
  let core: CoreServer;
  let lite: LiteGateway;

  beforeAll(async () => {
    lite = await startLiteGateway(generateLiteKey(kidForMonth(0)));
    // Read in-process: a pooled HTTP connection left idle while PGlite starts (seconds, blocking the
    // event loop) can be closed by the server just as the first test reuses it (ECONNRESET).
    const published: Jwks = await lite.signer.jwks();
    core = await startCore(published);
    lite.mount(demoRoutes(lite, core.url));
  }, 300_000); // PGlite starts slowly on a loaded machine
  afterAll(async () => {
    await core?.close();
    await lite?.close();
  });

  const post = (url: string, token?: string) =>
    fetch(url, { method: 'POST', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const mint = async (query: string) => {
    const res = await post(`${lite.url}/demo/mint-token?${query}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-demo-only')).toMatch(/demo/);
    return (await res.text()).trim();
  };

  it('signs and forwards POST /call/spaces and /call/join-tokens, relaying Core', async () => {
    const spaces = await post(`${lite.url}/call/spaces`);
    expect(spaces.status).toBe(201);
    expect(await spaces.json()).toMatchObject({ created: '/integrations/spaces' });
    const join = await post(`${lite.url}/call/join-tokens`);
    expect(join.status).toBe(201);
    expect(await join.json()).toMatchObject({ created: '/integrations/join-tokens' });
  });

  it('still serves the JWKS beside the mounted routes', async () => {
    const res = await fetch(`${lite.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
  });

  it('mints a fresh token Core accepts once', async () => {
    const token = await mint('scope=spaces:create&age=0');
    expect((await post(`${core.url}/integrations/spaces`, token)).status).toBe(201);
    const replay = await post(`${core.url}/integrations/spaces`, token);
    expect(await replay.json()).toEqual({ reason: 'replayed_token' });
  });

  it('mints an old token that Core refuses as expired', async () => {
    const res = await post(`${core.url}/integrations/spaces`, await mint('scope=spaces:create&age=400'));
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ reason: 'expired_signature' });
  });

  it('mints a wrong-scope token that Core refuses with 403', async () => {
    const res = await post(`${core.url}/integrations/join-tokens`, await mint('scope=spaces:create'));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ reason: 'insufficient_scope' });
  });

  it('refuses an unknown scope or an unbounded age', async () => {
    expect((await post(`${lite.url}/demo/mint-token?scope=admin`)).status).toBe(400);
    expect((await post(`${lite.url}/demo/mint-token?age=-1`)).status).toBe(400);
    expect((await post(`${lite.url}/demo/mint-token?age=999999`)).status).toBe(400);
  });
});

describe('pnpm demo --serve: Ctrl-C', () => {
  it('closes the servers and exits 0 on SIGINT', async () => {
    const script = `
      const { exitCleanlyOnSignal } = await import('./src/demo-routes.ts');
      exitCleanlyOnSignal(async () => { console.log('closed'); });
      setInterval(() => {}, 1000);
      console.log('ready');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((ready) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) ready();
      });
    });
    child.kill('SIGINT');
    const [code, signal] = await once(child, 'exit');
    expect({ code, signal, closed: out.includes('closed') }).toEqual({ code: 0, signal: null, closed: true });
  }, 300_000);
});
