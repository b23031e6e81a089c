import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { type PgReplayStoreOptions, pgReplayStore } from '../../src/replay/pg.js';
import { REMEMBER_PREPARED, REMEMBER_SQL } from '../../src/replay/sql.js';
import { isNodePostgres } from '../../src/replay/store.js';
import { countingDb } from '../support/counting-db.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 60;

/** Statements prepared on the pool's one connection (pool max 1, so every query shares it). */
async function preparedOn(pool: pg.Pool): Promise<{ name: string; statement: string }[]> {
  const { rows } = await pool.query('SELECT name, statement FROM pg_prepared_statements ORDER BY name');
  return rows;
}

describe.each(['single', 'partitioned'] as const)('pgReplayStore on node-postgres (%s layout)', (layout) => {
  const database = useReplayDatabase({ layout });
  const prepared = REMEMBER_PREPARED[layout];

  it('prepares the remember statement once per connection and answers through it', async () => {
    const pool = database.pool({ max: 1 });
    const store = pgReplayStore({ db: pool });
    expect(await store.remember({ iss: ISS, jti: `${layout}-a`, exp: EXP })).toBe(true);
    expect(await store.remember({ iss: ISS, jti: `${layout}-a`, exp: EXP })).toBe(false);
    expect(await store.remember({ iss: ISS, jti: `${layout}-b`, exp: EXP })).toBe(true);
    expect(await preparedOn(pool)).toEqual([{ name: prepared.name, statement: prepared.text }]);
  });

  it('with prepare: false sends text only, and answers the same', async () => {
    const pool = database.pool({ max: 1 });
    const store = pgReplayStore({ db: pool, prepare: false });
    expect(await store.remember({ iss: ISS, jti: `${layout}-c`, exp: EXP })).toBe(true);
    expect(await store.remember({ iss: ISS, jti: `${layout}-c`, exp: EXP })).toBe(false);
    expect(await preparedOn(pool)).toEqual([]);
  });
});

describe('prepare: which handles prepare, and a setting that cannot work is a startup error', () => {
  const database = useReplayDatabase();
  // Started here, not while the file is collected: PGlite's start-up holds the event loop for seconds,
  // which would run other describes' replay calls past their deadline.
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await PGlite.create();
  });
  afterAll(() => pglite.close());

  it('recognises a pg.Pool and a pg.Client as node-postgres, PGlite and a plain query object as not', async () => {
    expect(isNodePostgres(database.pool({ max: 1 }))).toBe(true);
    expect(isNodePostgres(await database.client())).toBe(true);
    expect(isNodePostgres(pglite)).toBe(false);
    expect(isNodePostgres(countingDb(database.pool({ max: 1 })))).toBe(false);
  });

  it('a handle that takes text only gets text statements by default', async () => {
    const db = countingDb(database.pool({ max: 1 }));
    const store = pgReplayStore({ db });
    expect(await store.remember({ iss: ISS, jti: 'text-only', exp: EXP })).toBe(true);
    expect(db.calls.filter((call) => call.text === REMEMBER_SQL)).toEqual([{ text: REMEMBER_SQL, rows: 1 }]);
  });

  it.each([
    ['PGlite', () => pglite],
    ['a plain query object', () => countingDb(database.pool({ max: 1 }))],
  ])('prepare: true with %s throws VerifierConfigError naming prepare', (_, db) => {
    expect(() => pgReplayStore({ db: db(), prepare: true })).toThrow(
      expect.objectContaining({ name: VerifierConfigError.name, field: 'prepare' }),
    );
  });

  it.each(['yes', 1, null])('prepare: %j throws VerifierConfigError: it must be true or false', (value) => {
    const options = { db: database.pool({ max: 1 }), prepare: value } as unknown as PgReplayStoreOptions;
    expect(() => pgReplayStore(options)).toThrow(/prepare.*must be true or false/);
  });
});
