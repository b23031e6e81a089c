import { createServer } from 'node:net';
import { UNAVAILABLE_CAUSES } from '@hyper/s2s-contracts';
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ReplayStoreError } from '../src/replay/errors.js';
import { pgReplayStore } from '../src/replay/pg.js';
import type { ReplayStore } from '../src/replay/store.js';
import { unavailableCauseOf } from '../src/unavailable-cause.js';
import { createVerifier } from '../src/verifier.js';
import { type JwksServer, startJwksServer, text } from './harness/jwks-server.js';
import { requestLogs } from './harness/recorder.js';
import { nowSeconds, sign, type TestKey, vectorKey } from './harness/tokens.js';
import { file } from './harness/vectors.js';
import { liveVerifier } from './harness/verifiers.js';
import { testDatabaseUrl } from './support/database.js';
import { holdReplayTableLock } from './support/faults.js';
import { useReplayDatabase } from './support/replay-database.js';

// Every 503 says why, from the contract's closed set, with real parts: Postgres via pg and a real
// HTTP JWKS endpoint.
const call = { scope: 'spaces:create', path: '/integrations/spaces' };
let key: TestKey;
beforeAll(async () => {
  key = await vectorKey('lite-2026-03');
});

const migrated = useReplayDatabase();
const bare = useReplayDatabase({ migrated: false });
const handMade = useReplayDatabase({ migrated: false });

/** A 503's log line and the verifier's health() for one replay store. */
async function replayOutage(replayStore: ReplayStore, replayTimeoutMs = 300) {
  const observed = requestLogs();
  const verifier = liveVerifier({ replayStore, replayTimeoutMs, logger: observed.logger });
  const result = await verifier.verify(await sign(key, nowSeconds()), call);
  return { result, log: observed.logs[0]?.obj, health: await verifier.health() };
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('503 causes from the replay store (real Postgres)', () => {
  it('schema_missing when the table was never migrated (42P01)', async () => {
    const { result, log, health } = await replayOutage(pgReplayStore({ db: bare.pool({ max: 1 }) }));
    expect(result).toMatchObject({ status: 503, reason: 'replay_store_unavailable' });
    expect(log).toMatchObject({ status: 503, reason: 'replay_store_unavailable', cause: 'schema_missing' });
    expect(health).toEqual({ keys: true, replayStore: false, replayStoreCause: 'schema_missing' });
  });

  it("schema_missing when a migration's function is missing (42883, as Postgres reports it)", async () => {
    // The single layout's schema has no partition functions: what a dropped one looks like.
    const error = await migrated
      .pool({ max: 1 })
      .query('SELECT session.s2s_jwt_replay_maintain(1, 1)')
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(error).toMatchObject({ code: '42883' });
    expect(
      unavailableCauseOf(new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'failed', { cause: error })),
    ).toBe('schema_missing');
  });

  it('schema_missing when the table is not one migrate made (ERR_S2S_REPLAY_SCHEMA): nothing is written', async () => {
    const pool = handMade.pool({ max: 1 });
    // Keyed by (iss, jti, exp) on a single table: every INSERT … ON CONFLICT (iss, jti) would fail with a
    // bare 42P10 (cause error); the store refuses the table by name instead, before sending one.
    await pool.query('CREATE SCHEMA session');
    await pool.query(`CREATE TABLE session.s2s_jwt_replay (
      iss text NOT NULL, jti text NOT NULL, exp bigint NOT NULL,
      retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + 86400)) STORED,
      PRIMARY KEY (iss, jti, exp))`);
    const { result, log, health } = await replayOutage(pgReplayStore({ db: pool }));
    expect(result).toMatchObject({ status: 503, reason: 'replay_store_unavailable' });
    expect(log).toMatchObject({ status: 503, reason: 'replay_store_unavailable', cause: 'schema_missing' });
    expect(health).toEqual({ keys: true, replayStore: false, replayStoreCause: 'schema_missing' });
    expect((await pool.query('SELECT count(*)::int AS n FROM session.s2s_jwt_replay')).rows).toEqual([
      { n: 0 },
    ]);
  });

  it.each([
    [
      'nothing listens on the database port',
      async () => `postgres://postgres@127.0.0.1:${await closedPort()}/x`,
    ],
    [
      'the database named does not exist (3D000: refused at login)',
      async () => {
        const url = new URL(testDatabaseUrl());
        url.pathname = '/s2s_no_such_database';
        return url.toString();
      },
    ],
  ])('unreachable when %s', async (_name, connectionString) => {
    const pool = new pg.Pool({ connectionString: await connectionString() });
    pool.on('error', () => undefined);
    try {
      const { log, health } = await replayOutage(pgReplayStore({ db: pool }), 2000);
      expect(log).toMatchObject({ status: 503, cause: 'unreachable' });
      expect(health).toMatchObject({ replayStore: false, replayStoreCause: 'unreachable' });
    } finally {
      await pool.end();
    }
  });

  it('timeout when the table is locked by another session', async () => {
    const release = await holdReplayTableLock(migrated.url);
    try {
      const { log, health } = await replayOutage(pgReplayStore({ db: migrated.pool(), timeoutMs: 200 }), 200);
      expect(log).toMatchObject({ status: 503, cause: 'timeout' });
      expect(health).toMatchObject({ replayStore: false, replayStoreCause: 'timeout' });
    } finally {
      await release();
    }
  });

  it('health() carries no cause when the store answers', async () => {
    const { result, health } = await replayOutage(pgReplayStore({ db: migrated.pool() }));
    expect(result.status).toBe(200);
    expect(health).toEqual({ keys: true, replayStore: true });
  });
});

describe('503 causes from the JWKS endpoint', () => {
  let server: JwksServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it.each([
    ['http_status', text('down', 503, 'text/plain')],
    ['invalid_body', text('<html>login</html>', 200, 'text/html')],
  ] as const)('%s is logged with the 503 and reported by health()', async (cause, responder) => {
    server = await startJwksServer(file.jwks);
    server.respond(responder);
    const observed = requestLogs();
    const verifier = createVerifier({
      keys: { jwksUrl: server.url, failureBackoffMs: 0 },
      audience: file.audience,
      issuers: [file.issuer],
      replayStore: pgReplayStore({ db: migrated.pool() }),
      logger: observed.logger,
    });
    expect(await verifier.verify(await sign(key, nowSeconds()), call)).toMatchObject({
      status: 503,
      reason: 'jwks_unavailable',
    });
    const rejection = observed.logs.find(
      (line) => (line.obj as { event?: string }).event === 's2s_auth_rejected',
    )?.obj;
    expect(rejection).toMatchObject({ status: 503, cause });
    expect(await verifier.health()).toEqual({ keys: false, replayStore: true, keysCause: cause });
  });

  it('every cause logged comes from the contract list', () => {
    expect(UNAVAILABLE_CAUSES).toEqual([
      'timeout',
      'unreachable',
      'schema_missing',
      'http_status',
      'invalid_body',
      'error',
    ]);
  });
});
