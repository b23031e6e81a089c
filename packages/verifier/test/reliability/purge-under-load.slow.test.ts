import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLAY_RETENTION_SECONDS, type Reason } from '@hyper/s2s-contracts';
import { describe, expect, it } from 'vitest';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { createVerifier } from '../../src/verifier.js';
import { file, staticKeys, VECTOR_ROUTE } from '../harness/vectors.js';
import { useReplayDatabase } from '../support/replay-database.js';
import { checkDrained, checkResult, emissions } from './support/contract-checks.js';
import { conformingToken } from './support/jws.js';
import { type Answer, drive, TokenMint } from './support/traffic.js';

const EXPIRED_ROWS = 1_000_000;
const LIVE_ROWS = 50_000;
/** Rows a few seconds on either side of their retain_until, at the moment the purge starts. */
const EDGE_ROWS = 1_000;
const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };

describe('purging a large backlog while verification traffic runs', () => {
  const database = useReplayDatabase();

  it(`purges ${EXPIRED_ROWS.toLocaleString('en')} expired rows under traffic: no replay accepted, no row within retention lost`, async () => {
    const pool = database.pool({ max: 6 });
    const now = Math.floor(Date.now() / 1000);
    const expiredExp = now - REPLAY_RETENTION_SECONDS - 3600;
    const seedStarted = performance.now();
    await pool.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
       SELECT $1, 'expired-' || g, $2 FROM generate_series(1, $3::int) AS g`,
      [file.issuer, expiredExp, EXPIRED_ROWS],
    );
    // Within retention: tokens seen recently. Their jtis must stay spent through the purge.
    await pool.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
       SELECT $1, 'live-' || g, $2 FROM generate_series(1, $3::int) AS g`,
      [file.issuer, now + 60, LIVE_ROWS],
    );
    // Around the edge: retain_until 10 s in the past (purged) or 120 s in the future (kept).
    await pool.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
       SELECT $1, 'edge-' || g, CASE WHEN g % 2 = 0 THEN $2::bigint ELSE $3::bigint END
       FROM generate_series(1, $4::int) AS g`,
      [file.issuer, now - REPLAY_RETENTION_SECONDS - 10, now - REPLAY_RETENTION_SECONDS + 120, EDGE_ROWS],
    );
    await pool.query(`ANALYZE ${REPLAY_TABLE_NAME}`);
    const seedMs = performance.now() - seedStarted;

    const store = pgReplayStore({ db: pool });
    const observed = emissions();
    const verifier = createVerifier({
      keys: staticKeys(),
      audience: file.audience,
      issuers: [file.issuer],
      algorithms: ['RS256', 'ES256'],
      replayStore: store,
      logger: observed.logger,
      metrics: observed.metrics,
    });
    const verify = async (token: string): Promise<Reason> =>
      checkResult(token, await verifier.verify(token, CALL));

    const stop = new AbortController();
    const traffic = drive({
      verify,
      mint: new TokenMint('purge-load'),
      concurrency: 8,
      replayEvery: 3,
      pauseMs: 1,
      signal: stop.signal,
    });
    // Tokens whose jti is one of the live rows: answered replayed_token before, during and after the purge.
    const liveAnswers: Answer[] = [];
    const livePresenter = (async () => {
      for (let n = 1; !stop.signal.aborted; n += 97) {
        const jti = `live-${(n % LIVE_ROWS) + 1}`;
        const token = conformingToken('lite-2026-05', Math.floor(Date.now() / 1000), jti);
        const startedAt = performance.now();
        const reason = await verify(token);
        liveAnswers.push({ jti, token, replay: true, reason, startedAt, ms: performance.now() - startedAt });
        await sleep(2);
      }
    })();

    await sleep(300);
    const purgeStarted = performance.now();
    const outcome = await store.runPurge();
    const purgeMs = performance.now() - purgeStarted;
    await sleep(300);
    stop.abort();
    const [answers] = await Promise.all([traffic, livePresenter]);

    const { rows } = await pool.query(
      `SELECT
         count(*) FILTER (WHERE jti LIKE 'expired-%')::int AS expired,
         count(*) FILTER (WHERE jti LIKE 'live-%')::int AS live,
         count(*) FILTER (WHERE jti LIKE 'edge-%')::int AS edge,
         count(*) FILTER (WHERE jti LIKE 'purge-load-%')::int AS traffic
       FROM ${REPLAY_TABLE_NAME}`,
    );
    const accepted = answers.filter((answer) => answer.reason === 'ok');
    const acceptedJtis = new Set(accepted.map((answer) => answer.jti));
    const { rows: recorded } = await pool.query(
      `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti = ANY($1::text[])`,
      [[...acceptedJtis]],
    );
    const during = answers.filter(
      (answer) => answer.startedAt + answer.ms >= purgeStarted && answer.startedAt <= purgeStarted + purgeMs,
    );
    const latencies = during.map((answer) => answer.ms).sort((a, b) => a - b);
    const figures = {
      seedMs: Math.round(seedMs),
      purge: { ...outcome, ms: Math.round(purgeMs) },
      requests: answers.length + liveAnswers.length,
      requestsDuringPurge: during.length,
      p99MsDuringPurge: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
      maxMsDuringPurge: Math.round(latencies.at(-1) ?? 0),
      accepted: accepted.length,
      replaysRefused: answers.filter((answer) => answer.replay && answer.reason === 'replayed_token').length,
      liveJtisRefused: liveAnswers.filter((answer) => answer.reason === 'replayed_token').length,
      unavailable: [...answers, ...liveAnswers].filter(
        (answer) => answer.reason === 'replay_store_unavailable',
      ).length,
      rowsLeft: rows[0],
      acceptedWithoutRow: acceptedJtis.size - recorded[0].n,
    };
    console.info('[purge-under-load]', figures);

    expect(outcome).toEqual({
      deleted: EXPIRED_ROWS + EDGE_ROWS / 2,
      batches: expect.any(Number),
      lockBusy: false,
    });
    expect(during.length).toBeGreaterThan(0);
    // Nothing within retention was lost, and nothing it protects was accepted again.
    expect(rows[0]).toEqual({ expired: 0, live: LIVE_ROWS, edge: EDGE_ROWS / 2, traffic: acceptedJtis.size });
    expect(figures.acceptedWithoutRow).toBe(0);
    expect(accepted).toHaveLength(acceptedJtis.size);
    for (const answer of answers) expect(answer.reason).toBe(answer.replay ? 'replayed_token' : 'ok');
    for (const answer of liveAnswers) expect(answer.reason).toBe('replayed_token');
    checkDrained(observed.drain(), CALL, [...answers, ...liveAnswers]);
  }, 180_000);
});
