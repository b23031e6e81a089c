import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reason } from '@hyper/s2s-contracts';
import { type OwnPostgres, startOwnPostgres } from '@hyper/s2s-own-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { createVerifier } from '../../src/verifier.js';
import { file, staticKeys, VECTOR_ROUTE } from '../harness/vectors.js';
import { holdReplayTableLock, slowReplayInserts, terminateBackends } from '../support/faults.js';
import { useReplayDatabase } from '../support/replay-database.js';
import { checkDrained, checkResult, emissions } from './support/contract-checks.js';
import { type Answer, drive, TokenMint } from './support/traffic.js';
import { until } from './support/until.js';

/** pgReplayStore's bound on each remember call, and the verifier's own bound on the store. */
const STORE_TIMEOUT_MS = 300;
const REPLAY_TIMEOUT_MS = 400;
/** Refusals seen while the fault holds before it is lifted (the fault lasts answers, not milliseconds). */
const REFUSALS_DURING_FAULT = 16;
/** Correct answers in a row after the fault that count as recovered, and how many more are checked. */
const RECOVERED_RUN = 16;
const TAIL = 40;
const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };

interface ObservedVerify {
  (token: string): Promise<Reason>;
  /** Everything logged and counted so far, handed over once. */
  drain: ReturnType<typeof emissions>['drain'];
}

function pgVerifier(pool: pg.Pool): ObservedVerify {
  const observed = emissions();
  const verifier = createVerifier({
    keys: staticKeys(),
    audience: file.audience,
    issuers: [file.issuer],
    algorithms: ['RS256', 'ES256'],
    replayStore: pgReplayStore({ db: pool, timeoutMs: STORE_TIMEOUT_MS }),
    replayTimeoutMs: REPLAY_TIMEOUT_MS,
    logger: observed.logger,
    metrics: observed.metrics,
  });
  const verify = async (token: string): Promise<Reason> =>
    checkResult(token, await verifier.verify(token, CALL));
  return Object.assign(verify, { drain: observed.drain });
}

interface FaultRun {
  readonly answers: Answer[];
  /** Answers that settled before the fault was injected (all must be correct). */
  readonly before: number;
  /** performance.now() once recovered: answers presented from then on must all be correct. */
  readonly recoveredAt: number;
}

const correct = (answer: Answer) => answer.reason === (answer.replay ? 'replayed_token' : 'ok');

/**
 * Traffic before, during and after a fault: `inject` starts it and returns how to end it. Phases are
 * counted in answers: the fault is held until REFUSALS_DURING_FAULT requests were refused while it held
 * (a lock or a stopped server never answers, so those refusals are the verifier's bounds at work), and
 * recovery is RECOVERED_RUN correct answers in a row presented after the fault ended.
 */
async function trafficThrough(
  verify: ObservedVerify,
  prefix: string,
  inject: () => Promise<() => Promise<void>>,
): Promise<FaultRun> {
  const stop = new AbortController();
  const live: Answer[] = [];
  const traffic = drive(
    { verify, mint: new TokenMint(prefix), concurrency: 8, replayEvery: 5, pauseMs: 2, signal: stop.signal },
    live,
  );
  await until(() => live.filter(correct).length >= 40, 'a healthy start');
  const before = live.length;
  const end = await inject();
  const refusedSince = live.length;
  await until(
    () =>
      live.slice(refusedSince).filter((answer) => answer.reason === 'replay_store_unavailable').length >=
      REFUSALS_DURING_FAULT,
    `${REFUSALS_DURING_FAULT} refusals while the fault holds`,
  );
  await end();
  const liftedAt = live.length;
  // Answers already in flight when the fault ended may still be refused; count from the next ones.
  let run = 0;
  let seen = liftedAt;
  await until(() => {
    for (; seen < live.length; seen++) run = correct(live[seen]!) ? run + 1 : 0;
    return run >= RECOVERED_RUN;
  }, `${RECOVERED_RUN} correct answers in a row after the fault`);
  // Used to order answers (presented after this), never to measure a duration.
  const recoveredAt = performance.now();
  const presentedAfter = () => live.filter((answer) => answer.startedAt >= recoveredAt).length;
  await until(() => presentedAfter() >= TAIL, `${TAIL} more answers`);
  stop.abort();
  const answers = await traffic;
  return { answers, before, recoveredAt };
}

/**
 * The promises every fault must keep: every request is answered (drive resolves only when each one
 * settled), affected requests get 503 replay_store_unavailable, fresh tokens get nothing else, no 200
 * without its jti in the table, no token accepted twice (not even when its 503 is retried afterwards),
 * and the verifier recovers without a restart: once recovered, every answer is right again.
 */
async function expectFailClosed(name: string, run: FaultRun, verify: ObservedVerify, pool: pg.Pool) {
  const { answers, before, recoveredAt } = run;
  for (const answer of answers) {
    const allowed: Reason[] = answer.replay
      ? ['replayed_token', 'replay_store_unavailable']
      : ['ok', 'replay_store_unavailable'];
    expect(allowed).toContain(answer.reason);
  }
  const unavailable = answers.filter((answer) => answer.reason === 'replay_store_unavailable');
  expect(unavailable.length).toBeGreaterThanOrEqual(REFUSALS_DURING_FAULT); // the fault was real
  expect(answers.slice(0, before).every(correct)).toBe(true);
  const tail = answers.filter((answer) => answer.startedAt >= recoveredAt);
  expect(tail.length).toBeGreaterThanOrEqual(TAIL);
  expect(tail.every(correct)).toBe(true);

  // Retry every token that got a 503: first use (200) or replay, never a second 200.
  const retried = [
    ...new Map(
      answers.filter((a) => a.reason === 'replay_store_unavailable').map((a) => [a.jti, a]),
    ).values(),
  ];
  const retries: Reason[] = [];
  for (const answer of retried) retries.push(await verify(answer.token));
  for (const reason of retries) expect(['ok', 'replayed_token']).toContain(reason);
  checkDrained(verify.drain(), CALL, [
    ...answers,
    ...retried.map((answer, i) => ({ token: answer.token, reason: retries[i]! })),
  ]);

  const oks = new Map<string, number>();
  for (const answer of answers)
    if (answer.reason === 'ok') oks.set(answer.jti, (oks.get(answer.jti) ?? 0) + 1);
  retried.forEach((answer, i) => {
    if (retries[i] === 'ok') oks.set(answer.jti, (oks.get(answer.jti) ?? 0) + 1);
  });
  const acceptedTwice = [...oks.values()].filter((count) => count > 1).length;
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti = ANY($1::text[])`,
    [[...oks.keys()]],
  );
  const lost = oks.size - rows[0].n;
  console.info(`[pg-faults] ${name}:`, {
    requests: answers.length,
    unavailable: unavailable.length,
    retriedAfterRecovery: retried.length,
    retriesAccepted: retries.filter((reason) => reason === 'ok').length,
    acceptedTwice,
    lost,
  });
  expect(acceptedTwice).toBe(0);
  expect(lost).toBe(0);
}

describe('Postgres faults on the shared server, through the full verifier', () => {
  const database = useReplayDatabase();
  let pool: pg.Pool;
  let verify: ObservedVerify;

  beforeAll(() => {
    pool = database.pool({ max: 4 });
    verify = pgVerifier(pool);
  });

  it('a lock held on the replay table: 503s while it holds, then recovery', async () => {
    const run = await trafficThrough(verify, 'locked', () => holdReplayTableLock(database.url));
    await expectFailClosed('table lock held', run, verify, database.pool({ max: 1 }));
  }, 30_000);

  it('statements slower than the timeout: 503s while it holds, then recovery', async () => {
    const run = await trafficThrough(verify, 'slow', () =>
      slowReplayInserts(database.url, STORE_TIMEOUT_MS * 3),
    );
    await expectFailClosed('slow INSERTs', run, verify, database.pool({ max: 1 }));
  }, 30_000);

  it('backends terminated again and again (pg_terminate_backend): 503s, then recovery', async () => {
    let killed = 0;
    const run = await trafficThrough(verify, 'terminated', async () => {
      let stopped = false;
      const killing = (async () => {
        while (!stopped) {
          killed += await terminateBackends(database.url);
          await sleep(150);
        }
      })();
      return async () => {
        stopped = true;
        await killing;
      };
    });
    expect(killed).toBeGreaterThan(0);
    console.info(`[pg-faults] backends terminated: ${killed}`);
    await expectFailClosed('backends terminated', run, verify, database.pool({ max: 1 }));
  }, 30_000);
});

describe('Postgres server stopped mid-traffic (an own embedded server, never the shared one)', () => {
  let server: OwnPostgres;
  let pool: pg.Pool;
  let checkPool: pg.Pool;

  beforeAll(async () => {
    server = await startOwnPostgres();
    pool = new pg.Pool({ connectionString: server.url, max: 4 });
    pool.on('error', () => undefined); // idle connections die with the server
    checkPool = new pg.Pool({ connectionString: server.url, max: 1 });
    checkPool.on('error', () => undefined);
    await migrate(pool);
  }, 60_000);

  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    await checkPool?.end().catch(() => undefined);
    await server?.destroy();
  }, 60_000);

  it('answers 503 while down and recovers by itself once it is back', async () => {
    const verify = pgVerifier(pool);
    const run = await trafficThrough(verify, 'stopped', async () => {
      await server.stop();
      return () => server.start();
    });
    await expectFailClosed('server stopped and started', run, verify, checkPool);
  }, 60_000);
});
