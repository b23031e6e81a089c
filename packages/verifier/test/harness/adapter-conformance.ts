import { request } from 'node:http';
import { expect, it } from 'vitest';
import type { MetricCall } from './recorder.js';
import { nowSeconds, sign, type TestKey } from './tokens.js';

/**
 * The app under test serves, behind the adapter:
 * - POST /integrations/spaces           scope spaces:create, answers { sub } from the claims
 * - POST /integrations/join-tokens/:id  scope [join_tokens:issue]
 * and records its verifier's metric calls in `calls`; the app at `unavailableBase` serves
 * - POST /unavailable                   a verifier whose replay store is down, Retry-After 5
 */
export interface AdapterUnderTest {
  base: () => string;
  unavailableBase: () => string;
  key: () => TestKey;
  calls: MetricCall[];
}

const post = (base: string, path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers });

/** node:http sends each Authorization line as given (fetch would fold them into one). */
function postRaw(url: string, authorization: string[]): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST' }, (res) => {
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

/** The same answers as the Express middleware: status, JSON body, RFC 6750 challenge, Retry-After. */
export function adapterConformance(app: AdapterUnderTest): void {
  it('lets a valid token through with its claims', async () => {
    const res = await post(app.base(), '/integrations/spaces', {
      authorization: `Bearer ${await sign(app.key(), nowSeconds())}`,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'hyper-lite-gateway' });
  });

  it('answers 401 with a bare Bearer challenge when no credentials are sent', async () => {
    const res = await post(app.base(), '/integrations/spaces');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ reason: 'missing_token' });
  });

  it('answers 401 invalid_token for a bad token, and never echoes it', async () => {
    const res = await post(app.base(), '/integrations/spaces', { authorization: 'Bearer not.a.token' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ reason: 'malformed_token' });
    expect(text).not.toContain('not.a.token');
  });

  it('answers 401 replayed_token for the second presentation', async () => {
    const token = await sign(app.key(), nowSeconds());
    const first = await post(app.base(), '/integrations/spaces', { authorization: `Bearer ${token}` });
    expect(first.status).toBe(200);
    const replay = await post(app.base(), '/integrations/spaces', { authorization: `Bearer ${token}` });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ reason: 'replayed_token' });
  });

  it('answers 403 insufficient_scope naming the required scope', async () => {
    const res = await post(app.base(), '/integrations/join-tokens/42', {
      authorization: `Bearer ${await sign(app.key(), nowSeconds(), { scope: 'spaces:create' })}`,
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_scope", scope="join_tokens:issue"',
    );
    expect(await res.json()).toEqual({ reason: 'insufficient_scope' });
  });

  it('answers 503 with Retry-After when the replay store is down', async () => {
    const res = await post(app.unavailableBase(), '/unavailable', {
      authorization: `Bearer ${await sign(app.key(), nowSeconds())}`,
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({ reason: 'replay_store_unavailable' });
  });

  it('refuses two Authorization headers as malformed', async () => {
    const token = await sign(app.key(), nowSeconds());
    const res = await postRaw(`${app.base()}/integrations/spaces`, [`Bearer ${token}`, `Bearer ${token}`]);
    expect(res).toEqual({ status: 401, body: { reason: 'malformed_token' } });
  });

  it('labels metrics with the route template, never the URL', () => {
    const paths = new Set(app.calls.map((call) => call.labels.path));
    expect(paths.has('/integrations/join-tokens/:id')).toBe(true);
    expect([...paths].some((path) => path.includes('42'))).toBe(false);
  });
}
