// The README's Hono example, run: authenticateRequest in a Hono middleware, the route template from
// c.req.routePath as the path label, and the rejection Response returned as is.
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { beforeAll, describe, expect, it } from 'vitest';
import { authenticateRequest } from '../src/http/fetch.js';
import type { VerifySuccess } from '../src/result.js';
import type { Verifier } from '../src/verifier.js';
import { recorder } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

function honoApp(verifier: Verifier) {
  const requireS2s = (scope: string) =>
    createMiddleware<{ Variables: { s2s: VerifySuccess } }>(async (c, next) => {
      const auth = await authenticateRequest(verifier, c.req.raw, { scope, path: c.req.routePath });
      if (!auth.ok) return auth.response;
      c.set('s2s', auth.result);
      await next();
    });
  const app = new Hono();
  app.post('/integrations/spaces', requireS2s('spaces:create'), (c) =>
    c.json({ sub: c.get('s2s').claims.sub }),
  );
  app.post('/integrations/join-tokens/:id', requireS2s('join_tokens:issue'), (c) => c.json({ ok: true }));
  return app;
}

let key: TestKey;
const observed = recorder();
let app: ReturnType<typeof honoApp>;
const auth = async (claims: { scope?: string } = {}) => ({
  authorization: `Bearer ${await sign(key, nowSeconds(), claims)}`,
});

beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
  app = honoApp(liveVerifier({ metrics: observed.metrics }));
});

describe('Hono on authenticateRequest', () => {
  it('lets a valid token through with its claims, once', async () => {
    const headers = await auth();
    const res = await app.request('/integrations/spaces', { method: 'POST', headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'hyper-lite-gateway' });
    const replay = await app.request('/integrations/spaces', { method: 'POST', headers });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ reason: 'replayed_token' });
  });

  it('answers 401 with a bare Bearer challenge without credentials', async () => {
    const res = await app.request('/integrations/spaces', { method: 'POST' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ reason: 'missing_token' });
  });

  it('answers 403 naming the scope, and labels the metric with the route template', async () => {
    const res = await app.request('/integrations/join-tokens/42', { method: 'POST', headers: await auth() });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", scope="join_tokens:issue"',
    );
    expect(observed.calls.at(-1)?.labels.path).toBe('/integrations/join-tokens/:id');
  });

  it('answers 503 with Retry-After when the replay store is down', async () => {
    const down = honoApp(liveVerifier({ replayStore: downStore }));
    const res = await down.request('/integrations/spaces', { method: 'POST', headers: await auth() });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ reason: 'replay_store_unavailable' });
  });
});
