import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LITE_AUTH_LOG_CATEGORY } from '@hyper/s2s-contracts';
import * as jose from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { unhandledRejectionsDuring } from '../../../test-support/unhandled-rejections.js';
import { createSigner, SignRequestError } from '../src/index.js';
import { captureLogger } from './helpers/capture-logger.js';
import { decodeToken } from './helpers/tokens.js';
import { AUDIENCE, ISSUER, RSA_KEY, SUBJECT } from './helpers/vectors.js';
import { until } from './helpers/wait.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  requestId: string | undefined;
  body: string;
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let seen: Seen[];
let replies: Reply[];

const ok: Reply = (_req, res) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        requestId: req.headers['x-request-id'] as string,
        body,
      });
      (replies.shift() ?? ok)(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen = [];
  replies = [];
});

function makeSigner() {
  const log = captureLogger();
  const signer = createSigner({
    key: { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid },
    issuer: ISSUER,
    subject: SUBJECT,
    audience: AUDIENCE,
    logger: log.logger,
  });
  // The start-up warning for the contract's public test key (the vectors' key signs here) is not what
  // these tests read.
  log.entries.splice(0);
  return { signer, log };
}

const bearer = (s: Seen) => s.authorization!.replace(/^Bearer /, '');

describe('signer.fetch', () => {
  it('sends a fresh, valid token with the requested scope on every request', async () => {
    const { signer, log } = makeSigner();
    const keys = jose.createLocalJWKSet(await signer.jwks());
    for (let i = 0; i < 3; i++) {
      const res = await signer.fetch(
        `${base}/integrations/spaces`,
        { method: 'POST', body: '{}' },
        { scope: 'spaces:create' },
      );
      expect(res.status).toBe(200);
    }
    expect(seen).toHaveLength(3);
    const tokens = seen.map(bearer);
    expect(new Set(tokens).size).toBe(3);
    for (const token of tokens) {
      const { payload } = await jose.jwtVerify(token, keys, { issuer: ISSUER, audience: AUDIENCE });
      expect(payload.scope).toBe('spaces:create');
    }
    expect(new Set(tokens.map((t) => decodeToken(t).claims.jti)).size).toBe(3);
    expect(log.entries).toHaveLength(0);
  });

  it('refuses an invalid header without repeating its value (it may be a forwarded credential)', async () => {
    const { signer } = makeSigner();
    const forwarded = `Bearer ${'eyJhbGciOiJSUzI1NiJ9'}.\n${'eyJzdWIiOiJ4In0'}.c2ln`;
    const error = (await signer
      .fetch(
        `${base}/integrations/spaces`,
        { headers: { 'x-forwarded-auth': forwarded } },
        { scope: 'spaces:create' },
      )
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SignRequestError);
    expect(error.message).toBe('headers: a header name or value is not valid HTTP (the value is not shown)');
    expect(seen).toHaveLength(0);
  });

  it('signs a fresh token for each retry after a 503', async () => {
    const { signer } = makeSigner();
    replies = [
      (_req, res) =>
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"reason":"replay_store_unavailable"}'),
    ];
    const res = await signer.fetch(
      `${base}/integrations/spaces`,
      { method: 'POST', body: 'payload' },
      {
        scope: 'spaces:create',
        retries: 1,
      },
    );
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(bearer(seen[0]!)).not.toBe(bearer(seen[1]!));
    expect(seen.map((s) => s.body)).toEqual(['payload', 'payload']);
    // One request id across the retries, for correlation.
    expect(seen[0]!.requestId).toBe(seen[1]!.requestId);
  });

  it('does not retry by default: a 503 is returned to the caller and logged like a 401', async () => {
    const { signer, log } = makeSigner();
    replies = [
      (_req, res) =>
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"reason":"replay_store_unavailable"}'),
    ];
    const res = await signer.fetch(`${base}/x`, undefined, { scope: 'spaces:create' });
    expect(res.status).toBe(503);
    expect(seen).toHaveLength(1);
    await until(() => log.entries.length === 1, 'the 503 log line');
    expect(log.entries[0]!.obj).toMatchObject({
      event: 's2s_auth_rejected',
      status: 503,
      reason: 'replay_store_unavailable',
    });
    expect(await res.json()).toEqual({ reason: 'replay_store_unavailable' });
  });

  it('logs a 401 under meetings.hypervideo.auth with endpoint, scope, status, reason and request id, never the token', async () => {
    const { signer, log } = makeSigner();
    replies = [
      (_req, res) =>
        res
          .writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': 'Bearer error="invalid_token", error_description="replayed_token"',
          })
          .end('{"reason":"replayed_token"}'),
    ];
    const res = await signer.fetch(
      `${base}/integrations/spaces?space=secret-id`,
      { method: 'post' },
      {
        scope: 'spaces:create',
        requestId: 'req-123',
        logContext: { actor: 'user-42' },
      },
    );
    expect(res.status).toBe(401);
    // The caller still gets the body.
    expect(await res.json()).toEqual({ reason: 'replayed_token' });
    await until(() => log.entries.length > 0, 'the rejection log line');
    expect(log.entries).toHaveLength(1);
    const [entry] = log.entries;
    expect(entry!.level).toBe('warn');
    expect(entry!.obj).toEqual({
      actor: 'user-42',
      category: LITE_AUTH_LOG_CATEGORY,
      event: 's2s_auth_rejected',
      endpoint: `${base}/integrations/spaces`,
      method: 'POST',
      scope: 'spaces:create',
      status: 401,
      reason: 'replayed_token',
      requestId: 'req-123',
      kid: RSA_KEY.kid,
    });
    expect(seen[0]!.requestId).toBe('req-123');
    const logged = JSON.stringify(log.entries);
    const token = bearer(seen[0]!);
    for (const part of token.split('.')) expect(logged).not.toContain(part);
    expect(logged).not.toMatch(/Bearer|eyJ|secret-id/);
  });

  it('refuses a request id that is not a valid header value without repeating it', async () => {
    const { signer } = makeSigner();
    const error = (await signer
      .fetch(`${base}/integrations/spaces`, undefined, {
        scope: 'spaces:create',
        requestId: 'req\nsecret-value',
      })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SignRequestError);
    expect(error.message).toBe(
      'requestId: the request id is not a valid HTTP header value (the value is not shown)',
    );
    expect(seen).toHaveLength(0);
  });

  it('logs a request id passed as a non-string (plain JavaScript) as sent, and leaves no unhandled rejection', async () => {
    const { signer, log } = makeSigner();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      replies = [(_req, res) => res.writeHead(401).end()];
      await signer.fetch(`${base}/integrations/spaces`, undefined, {
        scope: 'spaces:create',
        requestId: 12345 as unknown as string,
      });
      await until(() => log.entries.length > 0, 'the rejection log line');
      await new Promise((resolve) => setImmediate(resolve));
      expect(log.entries[0]!.obj.requestId).toBe('12345');
      expect(seen[0]!.requestId).toBe('12345');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('logs a forwarded request id bounded and without control characters, and sends it to Core as it is', async () => {
    const { signer, log } = makeSigner();
    // A C1 control (U+0085, NEL) is a valid header byte and a line break to some log viewers.
    const forwarded = ['req-1\u0085forged', `req-${'x'.repeat(4000)}`];
    replies = forwarded.map(() => (_req, res) => res.writeHead(401).end());
    for (const id of forwarded) {
      await signer.fetch(
        `${base}/integrations/spaces`,
        { headers: { 'x-request-id': id } },
        { scope: 'spaces:create' },
      );
    }
    await until(() => log.entries.length === 2, 'both rejection log lines');
    expect(log.entries.map((entry) => entry.obj.requestId)).toEqual([
      'req-1forged',
      `req-${'x'.repeat(123)}…`,
    ]);
    expect(seen.map((request) => request.requestId)).toEqual(forwarded);
  });

  it('describes, never logs, a forwarded request id holding a token, and sends it to Core as it is', async () => {
    const { signer, log } = makeSigner();
    const token = await signer.sign({ scope: 'spaces:create' });
    replies = [(_req, res) => res.writeHead(401).end()];
    await signer.fetch(
      `${base}/integrations/spaces`,
      { headers: { 'x-request-id': token } },
      { scope: 'spaces:create' },
    );
    await until(() => log.entries.length === 1, 'the rejection log line');
    expect(log.entries[0]!.obj.requestId).toBe(
      `a value that may hold a token (${token.length} characters, not shown)`,
    );
    for (const part of token.split('.')) expect(JSON.stringify(log.entries)).not.toContain(part);
    expect(seen[0]!.requestId).toBe(token);
  });

  it('takes the reason of a 403 from WWW-Authenticate when the body has none', async () => {
    const { signer, log } = makeSigner();
    replies = [
      (_req, res) => res.writeHead(403, { 'www-authenticate': 'Bearer error="insufficient_scope"' }).end(),
    ];
    await signer.fetch(`${base}/integrations/join-tokens`, undefined, { scope: ['join_tokens:issue'] });
    await until(() => log.entries.length > 0, 'the rejection log line');
    expect(log.entries[0]!.obj).toMatchObject({
      status: 403,
      reason: 'insufficient_scope',
      scope: 'join_tokens:issue',
    });
    expect(typeof log.entries[0]!.obj.requestId).toBe('string');
    expect(seen[0]!.requestId).toBe(log.entries[0]!.obj.requestId);
  });

  it('answers the caller and leaves no unhandled rejection when the logger throws on a rejection', async () => {
    let calls = 0;
    const signer = createSigner({
      key: { privateKeyPem: RSA_KEY.pkcs8Pem, kid: RSA_KEY.kid },
      issuer: ISSUER,
      subject: SUBJECT,
      audience: AUDIENCE,
      logger: {
        info: () => undefined,
        warn: () => {
          calls++;
          throw new Error('log sink closed');
        },
      },
    });
    replies = [
      (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end(),
    ];
    const unhandled = await unhandledRejectionsDuring(async () => {
      const res = await signer.fetch(`${base}/integrations/spaces`, undefined, { scope: 'spaces:create' });
      expect(res.status).toBe(401);
      await until(() => calls > 0, 'the rejection log call');
    });
    expect(unhandled).toEqual([]);
  });

  it('logs only contract reasons: server text outside the vocabulary becomes "unknown"', async () => {
    const { signer, log } = makeSigner();
    replies = [
      (_req, res) =>
        res
          .writeHead(401, {
            'content-type': 'application/json',
            'www-authenticate': 'Bearer error="evil\\ninjected"',
          })
          .end('{"reason":"token eyJhbGciOi... was bad\\n level=error"}'),
    ];
    await signer.fetch(`${base}/x`, undefined, { scope: 'spaces:create' });
    await until(() => log.entries.length > 0, 'the rejection log line');
    expect(log.entries[0]!.obj.reason).toBe('unknown');
  });

  it('keeps the caller request id header and overrides any caller Authorization', async () => {
    const { signer } = makeSigner();
    await signer.fetch(
      `${base}/x`,
      { headers: { 'x-request-id': 'from-caller', authorization: 'Bearer stale' } },
      {
        scope: 'spaces:create',
      },
    );
    expect(seen[0]!.requestId).toBe('from-caller');
    expect(seen[0]!.authorization).not.toBe('Bearer stale');
  });

  it.each([-1, 1.5, 6, Number.NaN, '1'])(
    'refuses retries %s before sending anything, in the shared integer wording',
    async (retries) => {
      const { signer } = makeSigner();
      const error = await signer
        .fetch(`${base}/x`, undefined, { scope: 'spaces:create', retries: retries as number })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SignRequestError);
      expect(error).toMatchObject({ field: 'retries', message: 'retries: must be an integer from 0 to 5' });
      expect(seen).toHaveLength(0);
    },
  );

  it('refuses retries for a streamed body and an invalid scope before sending anything', async () => {
    const { signer } = makeSigner();
    const stream = new ReadableStream({ start: (c) => c.close() });
    await expect(
      signer.fetch(`${base}/x`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit, {
        scope: 'spaces:create',
        retries: 1,
      }),
    ).rejects.toBeInstanceOf(SignRequestError);
    await expect(signer.fetch(`${base}/x`, undefined, { scope: 'admin:all' })).rejects.toMatchObject({
      code: 'ERR_S2S_INVALID_SCOPE',
    });
    expect(seen).toHaveLength(0);
  });
});

describe('signer.fetch and redirects: one token is never presented twice', () => {
  const redirect =
    (status: number, location: string): Reply =>
    (_req, res) =>
      res.writeHead(status, { location }).end();
  const jti = (s: Seen) => decodeToken(bearer(s)).claims.jti;

  it('returns a redirect to the caller by default (redirect: manual), sending the token once', async () => {
    const { signer } = makeSigner();
    replies = [redirect(307, '/same-2')];
    const res = await signer.fetch(`${base}/same`, { method: 'POST', body: 'x' }, { scope: 'spaces:create' });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe('/same-2');
    expect(seen.map((s) => s.url)).toEqual(['/same']);
  });

  it('with redirect: follow, signs a fresh token for every same-origin hop', async () => {
    const { signer } = makeSigner();
    const keys = jose.createLocalJWKSet(await signer.jwks());
    replies = [redirect(307, '/hop-1'), redirect(308, `${base}/hop-2`)];
    const res = await signer.fetch(
      `${base}/start`,
      { method: 'POST', body: 'x', redirect: 'follow' },
      { scope: 'spaces:create' },
    );
    expect(res.status).toBe(200);
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/start', 'x'],
      ['POST', '/hop-1', 'x'],
      ['POST', '/hop-2', 'x'],
    ]);
    expect(new Set(seen.map(jti)).size).toBe(3);
    for (const s of seen) await jose.jwtVerify(bearer(s), keys, { issuer: ISSUER, audience: AUDIENCE });
  });

  it('with redirect: follow, sends no token once a hop leaves the origin, nor after it comes back', async () => {
    const { signer } = makeSigner();
    const other: Seen[] = [];
    const elsewhere = createServer((req, res) => {
      other.push({ method: req.method, url: req.url, authorization: req.headers.authorization } as Seen);
      res.writeHead(307, { location: `${base}/back` }).end();
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    try {
      const port = (elsewhere.address() as AddressInfo).port;
      replies = [redirect(302, `http://127.0.0.1:${port}/stolen`)];
      const res = await signer.fetch(`${base}/start`, { redirect: 'follow' }, { scope: 'spaces:create' });
      expect(res.status).toBe(200);
      expect(other.map((s) => [s.url, s.authorization])).toEqual([['/stolen', undefined]]);
      expect(seen.map((s) => [s.url, s.authorization === undefined])).toEqual([
        ['/start', false],
        ['/back', true],
      ]);
    } finally {
      await new Promise((resolve) => elsewhere.close(resolve));
    }
  });

  it('with redirect: follow, turns a POST answered 303 into a GET without a body, as fetch does', async () => {
    const { signer } = makeSigner();
    replies = [redirect(303, '/result')];
    await signer.fetch(
      `${base}/start`,
      { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' }, redirect: 'follow' },
      { scope: 'spaces:create' },
    );
    expect(seen.map((s) => [s.method, s.url, s.body])).toEqual([
      ['POST', '/start', 'x'],
      ['GET', '/result', ''],
    ]);
    expect(jti(seen[0]!)).not.toBe(jti(seen[1]!));
  });

  it('refuses redirect: follow with a streamed body before sending anything', async () => {
    const { signer } = makeSigner();
    const stream = new ReadableStream({ start: (c) => c.close() });
    await expect(
      signer.fetch(
        `${base}/x`,
        { method: 'POST', body: stream, duplex: 'half', redirect: 'follow' } as RequestInit,
        {
          scope: 'spaces:create',
        },
      ),
    ).rejects.toMatchObject({ code: 'ERR_S2S_INVALID_SIGN_REQUEST', field: 'redirect' });
    expect(seen).toHaveLength(0);
  });
});
