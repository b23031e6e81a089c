import { type OwnPostgres, startOwnPostgres } from '@hyper/s2s-own-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REMEMBER_SQL, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import type { ReplayEntry } from '../../src/replay/store.js';
import { countingDb } from '../support/counting-db.js';
import { holdReplayTableLock, slowReplayInserts, terminateBackends } from '../support/faults.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 60;
const entry = (jti: string): ReplayEntry => ({ iss: ISS, jti, exp: EXP });
const TIMEOUT_MS = 200;
/** The store's own timeout error: the configured bound cut the call (the fault would not have ended it). */
const CUT = {
  code: 'ERR_S2S_REPLAY_TIMEOUT',
  message: `replay store did not answer within ${TIMEOUT_MS} ms`,
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not recovered within ${withinMs} ms`);
    await sleep(50);
  }
}

describe('pgReplayStore when a statement is blocked (table locked by another session)', () => {
  const database = useReplayDatabase();

  it('rejects within the timeout, never true, and recovers once the lock is released', async () => {
    const db = countingDb(database.pool());
    const store = pgReplayStore({ db, timeoutMs: TIMEOUT_MS, pipelineDepth: 2 });
    await store.layout(); // the one-time layout detection is not what this test times
    expect(await store.remember(entry('before-lock'))).toBe(true);

    const release = await holdReplayTableLock(database.url);
    db.reset();
    try {
      // Five waves of callers while the lock is held (it is released only in `finally`): every caller
      // settles, each by the configured timeout, since the lock itself never lets go. No elapsed time
      // is asserted: the store's own typed timeout is the evidence.
      for (let wave = 0; wave < 5; wave++) {
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.remember(entry(`locked-${wave}-${i}`))),
        );
        for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: CUT });
      }
      expect(await store.health()).toBe(false);
      // A stuck database is not flooded: at most 2 x pipelineDepth statements were ever outstanding.
      expect(db.calls.filter((call) => call.text === REMEMBER_SQL).length).toBeLessThanOrEqual(4);
    } finally {
      await release();
    }

    await eventually(() => store.health(), 5000);
    await eventually(
      () =>
        store.layout().then(
          () => true,
          () => false,
        ),
      5000,
    );
    expect(await store.remember(entry('after-lock'))).toBe(true);
    expect(await store.remember(entry('before-lock'))).toBe(false);
  });
});

describe('pgReplayStore when statements are slow (a trigger sleeping in every INSERT)', () => {
  const database = useReplayDatabase();

  it('rejects within the timeout while slow, and answers normally once it is fast again', async () => {
    const store = pgReplayStore({ db: database.pool(), timeoutMs: TIMEOUT_MS });
    await store.layout();
    const restore = await slowReplayInserts(database.url, TIMEOUT_MS * 3);
    try {
      // Each INSERT sleeps three timeouts: a typed timeout naming the configured bound is the cut.
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => store.remember(entry(`slow-${i}`))),
      );
      for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: CUT });
      expect(await store.health()).toBe(true); // reads are fine: the store is slow, not down
    } finally {
      await restore();
    }
    await sleep(TIMEOUT_MS * 3); // the abandoned INSERT finishes server-side
    expect(await store.remember(entry('fast-again'))).toBe(true);
    // The slow statement did commit: its jtis are spent although their callers got no answer.
    expect(await store.remember(entry('slow-0'))).toBe(false);
  });
});

describe('pgReplayStore when its connections are terminated (pg_terminate_backend)', () => {
  const database = useReplayDatabase();

  it('fails the affected calls closed and recovers through the pool by itself', async () => {
    const store = pgReplayStore({ db: database.pool({ max: 4 }), timeoutMs: TIMEOUT_MS });
    await store.layout();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.remember(entry(`warm-${i}`)))); // open connections
    expect(await terminateBackends(database.url)).toBeGreaterThan(0);

    const answered: string[] = [];
    await eventually(async () => {
      const jti = `after-kill-${answered.length}`;
      const value = await store.remember(entry(jti)).then(String, (e: { code: string }) => e.code);
      expect(['true', 'ERR_S2S_REPLAY_FAILED', 'ERR_S2S_REPLAY_TIMEOUT']).toContain(value);
      answered.push(value);
      return value === 'true';
    }, 5000);
    expect(await store.remember(entry('warm-0'))).toBe(false);
  });
});

describe('pgReplayStore when the database server stops and comes back', () => {
  let server: OwnPostgres;
  let pool: pg.Pool;

  beforeAll(async () => {
    server = await startOwnPostgres();
    pool = new pg.Pool({ connectionString: server.url, max: 4 });
    pool.on('error', () => undefined); // idle connections die with the server
    await migrate(pool);
  }, 60_000);

  afterAll(async () => {
    await pool?.end().catch(() => undefined);
    await server?.destroy();
  }, 60_000);

  it('rejects within the timeout while down, then answers again without a restart', async () => {
    const store = pgReplayStore({ db: pool, timeoutMs: TIMEOUT_MS });
    await store.layout();
    expect(await store.remember(entry('before-stop'))).toBe(true);
    await server.stop();

    // Every caller settles, typed, while the server stays down.
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => store.remember(entry(`down-${i}`))),
    );
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(['ERR_S2S_REPLAY_FAILED', 'ERR_S2S_REPLAY_TIMEOUT']).toContain(
        (result as PromiseRejectedResult).reason.code,
      );
    }
    expect(await store.health()).toBe(false);

    await server.start();
    await eventually(() => store.health(), 5000);
    expect(await store.remember(entry('after-start'))).toBe(true);
    expect(await store.remember(entry('before-stop'))).toBe(false);
  }, 30_000);

  it('under traffic through a stop, answers true only for jtis that are recorded', async () => {
    const store = pgReplayStore({ db: pool, timeoutMs: TIMEOUT_MS });
    await eventually(() => store.health(), 5000);
    const firstUses: string[] = [];
    let failures = 0;
    let sent = 0;
    let stopping = false;
    const traffic = (async () => {
      while (!stopping) {
        const jtis = Array.from({ length: 8 }, () => `traffic-${sent++}`);
        const results = await Promise.allSettled(jtis.map((jti) => store.remember(entry(jti))));
        results.forEach((result, i) => {
          if (result.status === 'fulfilled') {
            expect(result.value).toBe(true); // every jti is new
            firstUses.push(jtis[i]!);
          } else {
            failures++;
          }
        });
      }
    })();
    await sleep(150);
    await server.stop();
    await sleep(300);
    await server.start();
    await eventually(() => store.health(), 5000);
    await sleep(150);
    stopping = true;
    await traffic;

    expect(failures).toBeGreaterThan(0);
    expect(firstUses.length).toBeGreaterThan(0);
    const { rows } = await pool.query(`SELECT jti FROM ${REPLAY_TABLE_NAME} WHERE jti = ANY($1::text[])`, [
      firstUses,
    ]);
    expect(rows).toHaveLength(firstUses.length);
  }, 30_000);
});

describe('pgReplayStore when statements never settle (a connection attempt that hangs for good)', () => {
  const database = useReplayDatabase();

  it('says so in readiness, and sends again once the stuck statements are given up (10 x timeoutMs)', async () => {
    const pool = database.pool();
    let hang = true;
    // A pooled connect that never completes: the driver's promise for it never settles.
    const db = {
      query: (text: string, values?: unknown[]) =>
        hang && text === REMEMBER_SQL ? new Promise<never>(() => {}) : pool.query(text, values),
    };
    const store = pgReplayStore({ db, timeoutMs: TIMEOUT_MS, prepare: false });
    await store.layout();
    for (const jti of ['stuck-1', 'stuck-2']) {
      await expect(store.remember(entry(jti))).rejects.toMatchObject(CUT);
    }
    // The probe itself would pass: only the stuck statements keep remember from sending. Polled: a
    // caller's deadline can fire a timer run before its statement's, which is tracked just after it.
    await expect.poll(() => store.health(), { timeout: 5 * TIMEOUT_MS, interval: 10 }).toBe(false);
    await expect(store.check()).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_TIMEOUT',
      message: expect.stringContaining('stuck past their bound'),
    });
    hang = false; // the database answers again; the hung attempts never will
    await eventually(() => store.health(), 10 * TIMEOUT_MS + 5000);
    expect(await store.remember(entry('after-stuck'))).toBe(true);
  });
});
