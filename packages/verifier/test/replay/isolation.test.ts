import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REMEMBER_FUNCTION, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { expsInDistinctPartitions } from '../support/partition-window.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const STORES = 5;
const KEYS = 100;
const LEVELS = ['read committed', 'repeatable read', 'serializable'] as const;
type Level = (typeof LEVELS)[number];

/** Postgres's `-c` option value: the space in the level name escaped for libpq's options parser. */
const atLevel = (level: Level) => `-c default_transaction_isolation=${level.replace(' ', '\\ ')}`;

type Answer = boolean | { code: unknown; message: string };

/**
 * Every key presented at once by STORES replicas (a pool each, all at `level`), each under its own exp
 * — in distinct partitions for the partitioned layout, where a different exp is a different row.
 */
async function race(database: ReturnType<typeof useReplayDatabase>, level: Level, exps: readonly number[]) {
  await database.truncate();
  const stores = exps.map(() =>
    pgReplayStore({ db: database.pool({ max: 2, options: atLevel(level) }), timeoutMs: 20_000 }),
  );
  const answers: Answer[][] = await Promise.all(
    Array.from({ length: KEYS }, (_, k) =>
      Promise.all(
        stores.map((store, s) =>
          store.remember({ iss: ISS, jti: `k-${k}`, exp: exps[s]! }).then(
            (fresh): Answer => fresh,
            (error: Error & { cause?: { code?: unknown; message?: string } }): Answer => ({
              code: error.cause?.code,
              message: error.cause?.message ?? error.message,
            }),
          ),
        ),
      ),
    ),
  );
  const { rows } = await database
    .pool({ max: 1 })
    .query<{ jtis: number }>(`SELECT count(DISTINCT jti)::int AS jtis FROM ${REPLAY_TABLE_NAME}`);
  return { answers, storedJtis: rows[0]!.jtis };
}

const firsts = (perKey: readonly Answer[]) => perKey.filter((answer) => answer === true).length;

describe('the partitioned layout at each transaction isolation level (5 replicas, 5 exps in 5 partitions)', () => {
  const database = useReplayDatabase({ layout: 'partitioned' });

  it('READ COMMITTED: exactly one first use per key, no error', async () => {
    const exps = await expsInDistinctPartitions(database.pool({ max: 1 }), STORES);
    const { answers, storedJtis } = await race(database, 'read committed', exps);
    expect(answers.map(firsts)).toEqual(Array(KEYS).fill(1));
    expect(answers.flat().every((answer) => typeof answer === 'boolean')).toBe(true);
    expect(storedJtis).toBe(KEYS);
  });

  // A transaction snapshot predates the per-key lock: the probe would miss a concurrent first use under
  // another exp. REPEATABLE READ accepted every key twice or more; SERIALIZABLE did too whenever the
  // other writer ran at READ COMMITTED (its conflict detection spans SERIALIZABLE transactions only).
  it.each(['repeatable read', 'serializable'] as const)(
    '%s: the function refuses every call (25000, naming the level), never a first use',
    async (level) => {
      await database.truncate();
      const [exp] = await expsInDistinctPartitions(database.pool({ max: 1 }), 1);
      const db = database.pool({ max: 1, options: atLevel(level) });
      // As another writer (Core in Rust) calls it: straight through SQL, not through the store.
      await expect(
        db.query(`SELECT * FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`, [
          [ISS],
          ['direct'],
          [exp],
        ]),
      ).rejects.toMatchObject({
        code: '25000',
        message: expect.stringContaining(`needs READ COMMITTED, not ${level.toUpperCase()}`),
      });
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME}`);
      expect(rows[0].n).toBe(0);
    },
  );

  it.each(['repeatable read', 'serializable'] as const)(
    '%s: the store says so in readiness and on every call, and never answers a first use',
    async (level) => {
      const exps = await expsInDistinctPartitions(database.pool({ max: 1 }), STORES);
      const { answers, storedJtis } = await race(database, level, exps);
      const refusal = `is partitioned, and this connection runs at ${level.toUpperCase()}: its remember function needs READ COMMITTED`;
      for (const answer of answers.flat()) {
        expect(answer).toEqual({ code: undefined, message: expect.stringContaining(refusal) });
      }
      expect(storedJtis).toBe(0);
      const store = pgReplayStore({ db: database.pool({ max: 1, options: atLevel(level) }) });
      expect(await store.health()).toBe(false);
      // migrate on such a pool fails at startup, naming the level and the setting to change.
      await expect(migrate(database.pool({ max: 1, options: atLevel(level) }))).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_SCHEMA',
        message: expect.stringContaining("set default_transaction_isolation = 'read committed'"),
      });
    },
  );

  it('a first use at READ COMMITTED and a later writer at SERIALIZABLE: never two first uses', async () => {
    const exps = await expsInDistinctPartitions(database.pool({ max: 1 }), 2);
    await database.truncate();
    const committed = pgReplayStore({ db: database.pool({ max: 1 }) });
    expect(await committed.remember({ iss: ISS, jti: 'mixed', exp: exps[0]! })).toBe(true);
    const serializable = database.pool({ max: 1, options: atLevel('serializable') });
    await expect(
      serializable.query(`SELECT * FROM ${REMEMBER_FUNCTION}($1::text[], $2::text[], $3::bigint[])`, [
        [ISS],
        ['mixed'],
        [exps[1]!],
      ]),
    ).rejects.toMatchObject({ code: '25000' });
  });
});

describe('the single table at each transaction isolation level (5 replicas)', () => {
  const database = useReplayDatabase();
  const base = Math.floor(Date.now() / 1000) + 60;
  const exps = Array.from({ length: STORES }, (_, s) => base + s);

  it.each(LEVELS)('%s: at most one first use per key, and every key stored once', async (level) => {
    const { answers, storedJtis } = await race(database, level, exps);
    expect(answers.map(firsts).every((n) => n <= 1)).toBe(true);
    expect(answers.map(firsts).reduce((a, b) => a + b, 0)).toBe(storedJtis);
    if (level === 'read committed') expect(storedJtis).toBe(KEYS);
  });
});
