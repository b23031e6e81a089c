import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import s2sAuth from '../src/http/fastify.js';
import { adapterConformance } from './harness/adapter-conformance.js';
import { recorder } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

let key: TestKey;
let app: FastifyInstance;
let down: FastifyInstance;
let base = '';
let downBase = '';
let handlerRuns = 0;
const observed = recorder();

beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
  app = Fastify();
  await app.register(s2sAuth, { verifier: liveVerifier({ metrics: observed.metrics }) });
  app.post('/integrations/spaces', { onRequest: app.s2sRequire('spaces:create') }, async (request) => {
    handlerRuns++;
    return { sub: request.s2s.claims.sub };
  });
  app.post(
    '/integrations/join-tokens/:id',
    { onRequest: app.s2sRequire(['join_tokens:issue']) },
    async () => {
      handlerRuns++;
      return { ok: true };
    },
  );
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  // The plugin decorates the instance (fastify-plugin), so another verifier gets another app.
  down = Fastify();
  await down.register(s2sAuth, { verifier: liveVerifier({ replayStore: downStore }), retryAfterSeconds: 5 });
  down.post('/unavailable', { onRequest: down.s2sRequire('spaces:create') }, async () => ({ ok: true }));
  downBase = await down.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
  await down.close();
});

describe('Fastify plugin on a listening server', () => {
  adapterConformance({
    base: () => base,
    unavailableBase: () => downBase,
    key: () => key,
    calls: observed.calls,
  });
});

describe('Fastify plugin through inject', () => {
  it('answers a rejection through reply without running the handler', async () => {
    const before = handlerRuns;
    const res = await app.inject({ method: 'POST', url: '/integrations/join-tokens/7' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ reason: 'missing_token' });
    expect(handlerRuns).toBe(before);
  });

  it('runs the handler with request.s2s set for a valid token', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/integrations/spaces',
      headers: { authorization: `Bearer ${await sign(key, nowSeconds())}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ sub: 'hyper-lite-gateway' });
  });

  it('uses the route template as the path label for every call', async () => {
    await app.inject({ method: 'POST', url: '/integrations/join-tokens/99?x=1' });
    const last = observed.calls.at(-1);
    expect(last?.labels.path).toBe('/integrations/join-tokens/:id');
  });

  it('refuses a bad scope or Retry-After when the route is declared', async () => {
    const other = Fastify();
    await other.register(s2sAuth, { verifier: liveVerifier() });
    expect(() => other.s2sRequire('')).toThrow(/^@hyper\/s2s-verifier\/fastify: s2sRequire: scope/);
    expect(() => other.s2sRequire('spaces:craete')).toThrow(
      '@hyper/s2s-verifier/fastify: s2sRequire: scope "spaces:craete" is not a contract scope',
    );
    expect(() => other.s2sRequire('spaces:create', { retryAfterSeconds: -1 })).toThrow(/retryAfter/);
    await other.close();
  });

  it('refuses registration without a verifier', async () => {
    const other = Fastify();
    other.register(s2sAuth, {} as never);
    await expect(other.ready()).rejects.toThrow(/verifier/);
  });
});
