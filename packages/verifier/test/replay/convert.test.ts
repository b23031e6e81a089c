import { PGlite } from '@electric-sql/pglite';
import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { describe, expect, it } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { convertToPartitioned } from '../../src/replay/convert.js';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REPLAY_PARTITIONED_MIGRATION_SQL, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import type { ReplayDb } from '../../src/replay/store.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const NOW_S = Math.floor(Date.now() / 1000);
const RETAINED = 3000;
const EXPIRED = 200;

/** Rows spread over the whole retention window (exp from 24 h ago to 2 min ahead), and some past it. */
async function seed(db: ReplayDb): Promise<void> {
  await db.query(
    `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp)
     SELECT $1, 'seed-' || g, $2::bigint - $3::bigint + 600 + (g * ($3::bigint - 480) / $4::int)
       FROM generate_series(1, $4::int) AS g
     UNION ALL SELECT $1, 'expired-' || g, $2::bigint - $3::bigint - 7200 FROM generate_series(1, $5::int) AS g`,
    [ISS, NOW_S, REPLAY_RETENTION_SECONDS, RETAINED, EXPIRED],
  );
}

/** Resolves once a statement of this database waits for a lock (the conversion step under test). */
async function lockWaitSeen(db: ReplayDb): Promise<void> {
  await expect
    .poll(
      () =>
        count(
          db,
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        ),
      { timeout: 10_000, interval: 5 },
    )
    .toBeGreaterThan(0);
}

async function count(db: ReplayDb, sql: string): Promise<number> {
  const { rows } = await db.query(sql);
  return Number((rows[0] as { n: unknown }).n);
}

describe('convertToPartitioned: single table to partitions with traffic running', () => {
  const database = useReplayDatabase();

  it('loses no row within retention and accepts no replay before, during or after the switch', async () => {
    const admin = database.pool({ max: 2 });
    await seed(admin);
    const stores = [0, 1, 2].map(() => pgReplayStore({ db: database.pool({ max: 3 }), timeoutMs: 5000 }));
    const accepted = new Map<string, number>();
    const answers = { true: 0, false: 0, failed: 0, refusedShape: 0, misfit: 0 };
    let seedAccepted = 0;
    let next = 0;
    let stop = false;
    const fresh: string[] = [];

    async function worker(w: number): Promise<void> {
      const store = stores[w % stores.length]!;
      for (let i = 0; !stop; i++) {
        // New jtis, replays of accepted ones, and replays of seeded (pre-conversion) rows.
        const kind = i % 3;
        const jti =
          kind === 0 || fresh.length === 0
            ? `live-${next++}`
            : kind === 1
              ? fresh[(i * 7919) % fresh.length]!
              : `seed-${1 + ((i * 104729) % RETAINED)}`;
        const exp = kind === 2 ? NOW_S + 60 : NOW_S + 120; // a reused jti under another exp: still a replay
        try {
          const first = await store.remember({ iss: ISS, jti, exp });
          answers[first ? 'true' : 'false']++;
          if (first) {
            accepted.set(jti, (accepted.get(jti) ?? 0) + 1);
            if (jti.startsWith('seed-')) seedAccepted++;
            fresh.push(jti);
          }
        } catch (error) {
          answers.failed++; // 503 upstream: fail closed, never an acceptance
          // Every state of the conversion is a table migrate could have made: never refused as foreign.
          if ((error as { code?: unknown }).code === 'ERR_S2S_REPLAY_SCHEMA') answers.refusedShape++;
          // A batch that met the switched table (SQLSTATE class 42) is resent on the new layout, not failed.
          const sqlState = (error as { cause?: { code?: unknown } }).cause?.code;
          if (typeof sqlState === 'string' && sqlState.startsWith('42')) answers.misfit++;
        }
      }
    }

    const traffic = Array.from({ length: 12 }, (_, w) => worker(w));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Above the default: on a loaded 2-core machine an insert in flight may hold the switch back longer.
    const outcome = await convertToPartitioned(admin, { lockTimeoutMs: 2000 });
    // Traffic goes on until every store has re-detected the layout and answered on the new table.
    const after = answers.true + answers.false;
    await expect
      .poll(async () => (await Promise.all(stores.map((store) => store.layout()))).join(), {
        timeout: 10_000,
      })
      .toBe('partitioned,partitioned,partitioned');
    await expect.poll(() => answers.true + answers.false - after, { timeout: 10_000 }).toBeGreaterThan(200);
    stop = true;
    await Promise.all(traffic);

    console.info('[convert]', { outcome, answers, accepted: accepted.size });
    expect(outcome).toEqual({ copied: expect.any(Number), missing: 0, retiredDropped: false });
    expect(outcome.copied).toBeGreaterThanOrEqual(RETAINED);
    expect(seedAccepted).toBe(0);
    expect([...accepted.values()].every((n) => n === 1)).toBe(true);
    expect(answers.false).toBeGreaterThan(0);
    expect(answers.refusedShape).toBe(0);
    expect(answers.misfit).toBe(0);
    // Every retained seed row and every accepted jti is in the partitioned table; expired rows were not copied.
    expect(await count(admin, `SELECT count(*) AS n FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'seed-%'`)).toBe(
      RETAINED,
    );
    expect(
      await count(admin, `SELECT count(*) AS n FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'expired-%'`),
    ).toBe(0);
    const { rows } = await admin.query(`SELECT jti FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'live-%'`);
    const stored = new Set(rows.map((row) => row.jti as string));
    expect([...accepted.keys()].every((jti) => stored.has(jti))).toBe(true);
    // Replaying everything accepted before or during the switch, on the new layout: all refused.
    const again = await Promise.all(
      [...accepted.keys()].map((jti) => stores[0]!.remember({ iss: ISS, jti, exp: NOW_S + 120 })),
    );
    expect(again.every((first) => first === false)).toBe(true);
    // migrate() on a replica afterwards keeps the partitioned layout; a second conversion is refused.
    await migrate(admin);
    await expect(convertToPartitioned(admin)).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_SCHEMA' });
  }, 120_000);
});

describe('convertToPartitioned on PGlite', () => {
  it('converts, keeps retained rows, drops the retired table when asked', async () => {
    const db = await PGlite.create();
    try {
      await migrate(db);
      await seed(db);
      const outcome = await convertToPartitioned(db, { dropRetired: true });
      expect(outcome).toEqual({ copied: RETAINED, missing: 0, retiredDropped: true });
      const store = pgReplayStore({ db });
      expect(await store.layout()).toBe('partitioned');
      expect(await store.remember({ iss: ISS, jti: 'seed-1', exp: NOW_S + 60 })).toBe(false);
      expect(await store.remember({ iss: ISS, jti: 'new', exp: NOW_S + 60 })).toBe(true);
      expect(await count(db, `SELECT count(*) AS n FROM ${REPLAY_TABLE_NAME}`)).toBe(RETAINED + 1);
    } finally {
      await db.close();
    }
  }, 240_000);
});

describe('convertToPartitioned when the database misbehaves', () => {
  it('answers a failing or silent shape check with a typed error, within its step timeout', async () => {
    const failing: ReplayDb = {
      query: async () => {
        throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
      },
    };
    // Each names the step it failed in, so an operator knows how far the conversion got.
    await expect(convertToPartitioned(failing)).rejects.toMatchObject({
      name: 'ReplayStoreError',
      code: 'ERR_S2S_REPLAY_FAILED',
      message: 'replay conversion step "0 shape check" failed',
    });
    const silent: ReplayDb = { query: () => new Promise(() => {}) };
    await expect(
      convertToPartitioned(silent, { stepTimeoutMs: 50, lockTimeoutMs: 10 }),
    ).rejects.toMatchObject({
      name: 'ReplayStoreError',
      code: 'ERR_S2S_REPLAY_TIMEOUT',
      // Only this side stopped waiting: the operator is told to look before running it again.
      message:
        'replay conversion step "0 shape check" did not finish within 50 ms; it may still be running in the ' +
        'database: read the layout (store.layout()) before running again',
    });
  });
});

describe('convertToPartitioned run again after its switch gave up', () => {
  const database = useReplayDatabase();

  it('a switch that timed out on its lock changed nothing; a rerun never blocks inserts; the same call converts', async () => {
    const admin = database.pool({ max: 2 });
    await seed(admin);
    const store = pgReplayStore({ db: database.pool({ max: 2 }), timeoutMs: 5000 });
    expect(await store.remember({ iss: ISS, jti: 'warm', exp: NOW_S + 120 })).toBe(true);
    const tight = { timeoutMs: 1000 }; // the verifier's default replayTimeoutMs
    // A reader's ACCESS SHARE lock: steps 1 and 2 go through it, the switch's ACCESS EXCLUSIVE does not.
    const reader = await database.client();
    await reader.query('BEGIN');
    await reader.query(`SELECT 1 FROM ${REPLAY_TABLE_NAME} LIMIT 1`);
    const switchGaveUp = {
      code: 'ERR_S2S_REPLAY_FAILED',
      // The message says what happened and what to do; the database's error stays the cause.
      message: expect.stringMatching(
        /^replay conversion step "3 switch" failed: a lock on the replay tables was not granted within lockTimeoutMs \(200 ms\) and the step was rolled back\. .*run convertToPartitioned again once it has ended$/,
      ),
      cause: { code: '55P03' }, // lock_not_available
    };
    await expect(convertToPartitioned(admin, { lockTimeoutMs: 200 })).rejects.toMatchObject(switchGaveUp);
    // Run again while the reader still holds the table: step 1 keeps the mirror trigger instead of
    // replacing it (which would queue behind the reader, and every insert behind it), so inserts answer.
    const rerun = expect(convertToPartitioned(admin, { lockTimeoutMs: 200 })).rejects.toMatchObject(
      switchGaveUp,
    );
    // Sent while the rerun waits for a lock: they queue behind that wait, at most lockTimeoutMs.
    await lockWaitSeen(admin);
    const during = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.remember({ iss: ISS, jti: `during-${i}`, exp: NOW_S + 120 }, tight),
      ),
    );
    expect(during.every(Boolean)).toBe(true);
    await rerun;
    await reader.query('COMMIT');

    // Still the single table, answering; a jti remembered now is mirrored and must survive the rerun.
    expect(await store.layout()).toBe('single');
    expect(await store.remember({ iss: ISS, jti: 'between', exp: NOW_S + 120 })).toBe(true);

    const outcome = await convertToPartitioned(admin);
    // The first run's copy and mirror stay: nothing left to copy, nothing missing.
    expect(outcome).toEqual({ copied: 0, missing: 0, retiredDropped: false });
    for (const jti of ['between', 'during-0', 'during-7']) {
      expect(await store.remember({ iss: ISS, jti, exp: NOW_S + 120 })).toBe(false);
    }
    expect(await store.remember({ iss: ISS, jti: 'seed-1', exp: NOW_S + 60 })).toBe(false);
    expect(await store.layout()).toBe('partitioned');
    expect(await count(admin, `SELECT count(*) AS n FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'seed-%'`)).toBe(
      RETAINED,
    );
    // Run once more on the converted table: refused, saying so.
    await expect(convertToPartitioned(admin)).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringContaining('is already partitioned: nothing to convert'),
    });
  }, 60_000);
});

describe('convertToPartitioned behind an open write transaction', () => {
  const database = useReplayDatabase();

  it('gives up on its trigger within lockTimeoutMs, changing nothing, while inserts keep answering', async () => {
    const admin = database.pool({ max: 2 });
    const store = pgReplayStore({ db: database.pool({ max: 2 }), timeoutMs: 5000 });
    expect(await store.remember({ iss: ISS, jti: 'warm', exp: NOW_S + 120 })).toBe(true);
    const writer = await database.client();
    await writer.query('BEGIN');
    await writer.query(`INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) VALUES ($1, 'open', $2)`, [
      ISS,
      NOW_S + 60,
    ]);
    // Default lockTimeoutMs: below the default replay timeout.
    const converting = expect(convertToPartitioned(admin)).rejects.toMatchObject({
      message: expect.stringContaining(
        'replay conversion step "1 prepare" failed: a lock on the replay tables was not granted within lockTimeoutMs (500 ms)',
      ),
      cause: { code: '55P03' },
    });
    // Sent while the trigger's creation waits behind the writer: they queue behind that wait.
    await lockWaitSeen(admin);
    const during = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.remember({ iss: ISS, jti: `during-${i}`, exp: NOW_S + 120 }, { timeoutMs: 1000 }),
      ),
    );
    expect(during.every(Boolean)).toBe(true);
    await converting;
    await writer.query('COMMIT');
    // Step 1 is one transaction: no _next table, no trigger left behind.
    expect(
      await count(admin, `SELECT count(*) AS n FROM pg_trigger WHERE tgname = 's2s_jwt_replay_mirror'`),
    ).toBe(0);
    expect(
      await count(admin, `SELECT (to_regclass('session.s2s_jwt_replay_next') IS NOT NULL)::int AS n`),
    ).toBe(0);
  }, 60_000);

  it('refuses a lockTimeoutMs the step bound would not outlast, and scales the default down to it', async () => {
    const pool = database.pool({ max: 1 });
    await expect(convertToPartitioned(pool, { stepTimeoutMs: 500, lockTimeoutMs: 200 })).rejects.toThrow(
      VerifierConfigError,
    );
    // Only stepTimeoutMs given: the lock bound follows it (a quarter), no complaint about an unset option.
    const silent: ReplayDb = { query: () => new Promise(() => {}) };
    await expect(convertToPartitioned(silent, { stepTimeoutMs: 400 })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_TIMEOUT',
    });
    // Past a Node timer's longest delay the step bound would fire at once.
    await expect(convertToPartitioned(silent, { stepTimeoutMs: 2 ** 31 })).rejects.toMatchObject({
      field: 'stepTimeoutMs',
    });
  });
});

describe('a conversion left unfinished (its switch gave up)', () => {
  const database = useReplayDatabase();
  const NEXT = 'session.s2s_jwt_replay_next';

  /** Names of `_next`'s partitions, oldest first. */
  async function nextPartitions(db: ReplayDb): Promise<string[]> {
    const { rows } = await db.query(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
      [NEXT],
    );
    return rows.map((row) => (row as { relname: string }).relname);
  }

  it("the single layout's purge keeps _next's partitions ahead; migrating to the partitioned layout is refused; the conversion still finishes", async () => {
    const admin = database.pool({ max: 2 });
    const reader = await database.client();
    await reader.query('BEGIN');
    await reader.query(`SELECT 1 FROM ${REPLAY_TABLE_NAME} LIMIT 1`);
    await expect(convertToPartitioned(admin, { lockTimeoutMs: 200 })).rejects.toMatchObject({
      message: expect.stringContaining('replay conversion step "3 switch" failed'),
    });
    await reader.query('COMMIT');
    const made = await nextPartitions(admin);
    expect(made.length).toBeGreaterThan(0);

    // Time passing: the partition furthest ahead is what the mirror trigger needs next.
    const furthest = made.at(-1)!;
    await admin.query(`DROP TABLE session.${furthest}`);
    const store = pgReplayStore({ db: database.pool({ max: 2 }) });
    expect(await store.runPurge()).toMatchObject({ lockBusy: false });
    expect(await nextPartitions(admin)).toEqual(made);

    // The live table is still single and empty: 0002 would drop it and make a partitioned table whose
    // partitions' names _next holds, so it would get none. Refused, by migrate and by the file alike.
    await expect(migrate(admin, { layout: 'partitioned' })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringContaining(`while ${NEXT} exists: an online conversion is unfinished`),
    });
    await expect(admin.query(REPLAY_PARTITIONED_MIGRATION_SQL)).rejects.toMatchObject({ code: '55006' });
    expect(await store.layout()).toBe('single');
    expect(await store.remember({ iss: ISS, jti: 'still-single', exp: NOW_S + 120 })).toBe(true);

    expect(await convertToPartitioned(admin)).toEqual({ copied: 0, missing: 0, retiredDropped: false });
    expect(await store.remember({ iss: ISS, jti: 'still-single', exp: NOW_S + 60 })).toBe(false);
    expect(await store.layout()).toBe('partitioned');
  }, 60_000);
});
