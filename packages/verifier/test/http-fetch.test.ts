import { beforeAll, describe, expect, it } from 'vitest';
import { authenticateRequest, rejectionResponse } from '../src/http/fetch.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { downStore, liveVerifier } from './harness/verifiers.js';

let key: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});

const endpoint = { scope: 'spaces:create', path: '/integrations/spaces' };
const request = (authorization?: string) =>
  new Request('https://core.example/integrations/spaces?x=1', {
    method: 'POST',
    headers: authorization === undefined ? {} : { authorization },
  });

describe('Fetch-API helper', () => {
  it('returns the success result and no response for a valid token', async () => {
    const auth = await authenticateRequest(
      liveVerifier(),
      request(`Bearer ${await sign(key, nowSeconds())}`),
      endpoint,
    );
    expect(auth.ok).toBe(true);
    expect(auth.result).toMatchObject({ status: 200, reason: 'ok', claims: { scope: 'spaces:create' } });
    expect('response' in auth).toBe(false);
  });

  it('hands back a 401 Response with an RFC 6750 challenge', async () => {
    const auth = await authenticateRequest(liveVerifier(), request('Bearer a.b.c'), endpoint);
    expect(auth.ok).toBe(false);
    if (auth.ok) return;
    expect(auth.response.status).toBe(401);
    expect(auth.response.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect(await auth.response.json()).toEqual({ reason: 'malformed_token' });
  });

  it('sends no error code when the request has no bearer credentials', async () => {
    for (const header of [undefined, 'Basic dXNlcjpwYXNz']) {
      const auth = await authenticateRequest(liveVerifier(), request(header), endpoint);
      if (auth.ok) throw new Error('expected a rejection');
      expect(auth.result.reason).toBe('missing_token');
      expect(auth.response.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('hands back a 403 naming every required scope', async () => {
    const token = await sign(key, nowSeconds(), { scope: 'spaces:create' });
    const auth = await authenticateRequest(liveVerifier(), request(`Bearer ${token}`), {
      scope: ['spaces:create', 'join_tokens:issue'],
      path: '/integrations/both',
    });
    if (auth.ok) throw new Error('expected a rejection');
    expect(auth.response.status).toBe(403);
    expect(auth.response.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", scope="spaces:create join_tokens:issue"',
    );
  });

  it('hands back a 503 with Retry-After when a dependency is down', async () => {
    const token = await sign(key, nowSeconds());
    const auth = await authenticateRequest(
      liveVerifier({ replayStore: downStore }),
      request(`Bearer ${token}`),
      {
        ...endpoint,
        retryAfterSeconds: 7,
      },
    );
    if (auth.ok) throw new Error('expected a rejection');
    expect(auth.response.status).toBe(503);
    expect(auth.response.headers.get('retry-after')).toBe('7');
    expect(await auth.response.json()).toEqual({ reason: 'replay_store_unavailable' });
  });

  it.each([
    ['Bearer <token>', 'Bearer <token>'],
    ['Basic eA==', 'Bearer <token>'],
    ['', 'Bearer <token>'],
  ])(
    'refuses repeated Authorization headers (%j then %j), which a Request joins with ", ", as malformed_token like the node adapters',
    async (first, second) => {
      const token = await sign(key, nowSeconds());
      const headers = new Headers();
      headers.append('authorization', first.replace('<token>', token));
      headers.append('authorization', second.replace('<token>', token));
      const auth = await authenticateRequest(
        liveVerifier(),
        new Request('https://core.example/', { method: 'POST', headers }),
        endpoint,
      );
      expect(auth.result.reason).toBe('malformed_token');
    },
  );

  it('builds a rejection Response from a result on its own', async () => {
    const response = rejectionResponse(
      { ok: false, status: 503, reason: 'jwks_unavailable' },
      { scope: 'spaces:create' },
    );
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.text()).toBe('{"reason":"jwks_unavailable"}');
  });

  it('rejects (programmer error) when called without scope or path', async () => {
    await expect(
      authenticateRequest(liveVerifier(), request(), { scope: 'spaces:create' } as never),
    ).rejects.toThrow(/path/);
  });
});
