import { createServer, type RequestListener, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unhandledRejectionsDuring } from '../../../test-support/unhandled-rejections.js';
import { type S2sAuthenticatedRequest, s2sMiddleware } from '../src/http/node.js';
import type { ReplayStore } from '../src/replay/store.js';
import { recorder } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

let key: TestKey;
let server: Server;
let base: string;
const observed = recorder();

beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
  const verifier = liveVerifier({ metrics: observed.metrics });
  const unavailable = liveVerifier({ replayStore: downStore });
  const app = express();
  app.post(
    '/integrations/spaces',
    s2sMiddleware(verifier, { scope: 'spaces:create', path: '/integrations/spaces' }),
    (req, res) => {
      const { claims } = (req as unknown as S2sAuthenticatedRequest).s2s;
      res.json({ sub: claims.sub, fromLocals: res.locals.s2s?.claims.jti === claims.jti });
    },
  );
  app.post(
    '/integrations/join-tokens/:id',
    s2sMiddleware(verifier, { scope: ['join_tokens:issue'], path: '/integrations/join-tokens/:id' }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  app.post(
    '/unavailable',
    s2sMiddleware(unavailable, { scope: 'spaces:create', path: '/unavailable', retryAfterSeconds: 5 }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers });

/** fetch folds repeated headers into one; node:http sends each Authorization line as given. */
function postRaw(path: string, authorization: string[]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }));
    });
    req.setHeader('authorization', authorization);
    req.on('error', reject);
    req.end();
  });
}

describe('Express middleware', () => {
  it('lets a valid token through with its claims on req.s2s and res.locals.s2s', async () => {
    const res = await post('/integrations/spaces', {
      authorization: `Bearer ${await sign(key, nowSeconds())}`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'hyper-lite-gateway', fromLocals: true });
  });

  it('answers 401 without an error code when no credentials are sent (RFC 6750 §3.1)', async () => {
    const res = await post('/integrations/spaces');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ reason: 'missing_token' });
  });

  it('answers 401 invalid_token with the reason for a bad token', async () => {
    const res = await post('/integrations/spaces', { authorization: 'Bearer not.a.token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await res.json()).toEqual({ reason: 'malformed_token' });
  });

  it('answers 401 replayed_token for the second presentation', async () => {
    const token = await sign(key, nowSeconds());
    expect((await post('/integrations/spaces', { authorization: `Bearer ${token}` })).status).toBe(200);
    const replay = await post('/integrations/spaces', { authorization: `Bearer ${token}` });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ reason: 'replayed_token' });
  });

  it('answers 403 insufficient_scope naming the required scope', async () => {
    const res = await post('/integrations/join-tokens/42', {
      authorization: `Bearer ${await sign(key, nowSeconds(), { scope: 'spaces:create' })}`,
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", scope="join_tokens:issue"',
    );
    expect(await res.json()).toEqual({ reason: 'insufficient_scope' });
  });

  it('answers 503 with Retry-After when the replay store is down', async () => {
    const res = await post('/unavailable', { authorization: `Bearer ${await sign(key, nowSeconds())}` });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({ reason: 'replay_store_unavailable' });
  });

  it.each<[string, string, (token: string) => string]>([
    ['a lowercase scheme (RFC 9110: case-insensitive)', 'ok', (t) => `bearer ${t}`],
    ['two spaces after Bearer', 'malformed_token', (t) => `Bearer  ${t}`],
    ['a tab after Bearer', 'malformed_token', (t) => `Bearer\t${t}`],
    ['no space after Bearer', 'missing_token', (t) => `Bearer${t}`],
    ['Bearer alone', 'malformed_token', () => 'Bearer'],
    ['another scheme', 'missing_token', () => 'Basic dXNlcjpwYXNz'],
    ['two tokens in one header', 'malformed_token', (t) => `Bearer ${t} ${t}`],
    ['a token with a trailing comma', 'malformed_token', (t) => `Bearer ${t},`],
  ])('parses the Authorization header strictly: %s -> %s', async (_name, reason, header) => {
    const res = await post('/integrations/spaces', { authorization: header(await sign(key, nowSeconds())) });
    if (reason === 'ok') expect(res.status).toBe(200);
    else expect(await res.json()).toEqual({ reason });
  });

  it.each<[string, (token: string) => string[]]>([
    ['two Bearer headers', (t) => [`Bearer ${t}`, `Bearer ${t}`]],
    ['a Basic header before a Bearer header', (t) => ['Basic dXNlcjpwYXNz', `Bearer ${t}`]],
    ['a Bearer header before an empty one', (t) => [`Bearer ${t}`, '']],
  ])('refuses more than one Authorization header: %s', async (_name, headers) => {
    const res = await postRaw('/integrations/spaces', headers(await sign(key, nowSeconds())));
    expect(res).toEqual({ status: 401, body: { reason: 'malformed_token' } });
  });

  it('labels metrics with the route template, never the URL', async () => {
    // Its own request: the test must not depend on what earlier tests happened to send.
    const before = observed.calls.length;
    const res = await post('/integrations/join-tokens/42', {
      authorization: `Bearer ${await sign(key, nowSeconds(), { scope: 'join_tokens:issue' })}`,
    });
    expect(res.status).toBe(200);
    const paths = new Set(observed.calls.slice(before).map((call) => call.labels.path));
    expect(paths.has('/integrations/join-tokens/:id')).toBe(true);
    expect([...paths].some((path) => path.includes('42'))).toBe(false);
  });

  it('refuses to build a middleware without a verifier, scope or path, or for a scope no signer grants', () => {
    const verifier = liveVerifier();
    expect(() => s2sMiddleware(verifier, { path: '/x' } as never)).toThrow(/scope/);
    expect(() => s2sMiddleware(verifier, { scope: 'spaces:create' } as never)).toThrow(/path/);
    expect(() => s2sMiddleware(verifier, { scope: '', path: '/x' })).toThrow(/scope/);
    expect(() => s2sMiddleware(verifier, { scope: 'spaces:craete', path: '/x' })).toThrow(
      '@hyper/s2s-verifier/express: s2sMiddleware options: scope "spaces:craete" is not a contract scope (known: spaces:create, join_tokens:issue); no signer grants it',
    );
    expect(() => s2sMiddleware(undefined as never, { scope: 'spaces:create', path: '/x' })).toThrow(
      '@hyper/s2s-verifier/express: s2sMiddleware: the verifier must be a Verifier (createVerifier or verifierFromEnv)',
    );
    expect(() =>
      s2sMiddleware(verifier, { scope: 'spaces:create', path: '/x', retryAfterSeconds: -1 }),
    ).toThrow(/retryAfter/);
  });
});

describe('s2sMiddleware never leaves an unhandled rejection (it would end the process)', () => {
  /** One POST with a fresh token through a plain node:http server around `handler`, closed after. */
  async function postThrough(handler: RequestListener): Promise<{ status: number; body: string }> {
    const plain = createServer(handler);
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const port = (plain.address() as AddressInfo).port;
      const answer = await fetch(`http://127.0.0.1:${port}/x`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await sign(key, nowSeconds())}` },
      });
      return { status: answer.status, body: await answer.text() };
    } finally {
      plain.closeAllConnections();
      await new Promise((resolve) => plain.close(resolve));
    }
  }

  /**
   * An outer layer answers 504 (a request timeout) while the replay store holds verify; the store then
   * answers `fresh`. `next` is the handler after the middleware.
   */
  async function timedOutBehindVerify(fresh: boolean) {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let current: ServerResponse | undefined;
    const store: ReplayStore = {
      remember: async () => {
        current?.writeHead(504).end();
        await gate;
        return fresh;
      },
      purge: async () => 0,
    };
    let handlerCalls = 0;
    const middleware = s2sMiddleware(liveVerifier({ replayStore: store }), {
      scope: 'spaces:create',
      path: '/x',
    });
    const unhandled = await unhandledRejectionsDuring(async () => {
      const answer = await postThrough((req, res) => {
        current = res;
        middleware(req, res, () => {
          handlerCalls++;
          res.end('handler');
        });
      });
      expect(answer.status).toBe(504);
      release();
    });
    return { unhandled, handlerCalls };
  }

  it('answers nothing more when an outer layer already answered a token later refused', async () => {
    const { unhandled, handlerCalls } = await timedOutBehindVerify(false);
    expect(unhandled).toEqual([]);
    expect(handlerCalls).toBe(0);
  });

  it('does not run the handler when an outer layer already answered a token later accepted', async () => {
    const { unhandled, handlerCalls } = await timedOutBehindVerify(true);
    expect(unhandled).toEqual([]);
    expect(handlerCalls).toBe(0);
  });

  it('answers a bare 500 when a plain node:http next throws', async () => {
    const middleware = s2sMiddleware(liveVerifier(), { scope: 'spaces:create', path: '/x' });
    const unhandled = await unhandledRejectionsDuring(async () => {
      const answer = await postThrough((req, res) =>
        middleware(req, res, () => {
          throw new Error('handler bug');
        }),
      );
      expect(answer).toEqual({ status: 500, body: '' });
    });
    expect(unhandled).toEqual([]);
  });
});
