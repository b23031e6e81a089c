import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { type PgReplayStoreOptions, pgReplayStore } from '../../src/replay/pg.js';
import { REMEMBER_PREPARED, REMEMBER_SQL, REPLAY_TABLE_NAME, SHAPE_SQL } from '../../src/replay/sql.js';
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

/**
 * `db` itself (still node-postgres to the store), recording the text of every query: plain or prepared.
 */
function recording(db: pg.Client) {
  const texts: string[] = [];
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver);
      return (first: string | { text: string }, ...rest: unknown[]) => {
        texts.push(typeof first === 'string' ? first : first.text);
        return (target.query as (...args: unknown[]) => unknown)(first, ...rest);
      };
    },
  });
  return { db: proxy, texts };
}

// What PgBouncer in transaction mode (without max_prepared_statements) does to a prepared statement,
// reproduced on one real connection: the server has lost it (26000) or already holds it (42P05).
describe('a database that refuses the prepared statement', () => {
  const database = useReplayDatabase();
  const single = REMEMBER_PREPARED.single;
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  beforeAll(() => {
    process.on('warning', onWarning);
  });
  afterEach(() => {
    warnings.length = 0;
  });
  afterAll(() => {
    process.off('warning', onWarning);
  });
  const refusals = () =>
    warnings.filter((w) => (w as { code?: string }).code === 'HYPER_S2S_REPLAY_PREPARE_REFUSED');

  it('26000 (statement gone): the batch is answered as text, exactly, and the store stays on text', async () => {
    const client = await database.client();
    const { db, texts } = recording(client);
    const store = pgReplayStore({ db });
    expect(await store.remember({ iss: ISS, jti: 'gone-1', exp: EXP })).toBe(true);
    await client.query('DEALLOCATE ALL'); // node-postgres still believes it is prepared: Bind fails
    expect(await store.remember({ iss: ISS, jti: 'gone-2', exp: EXP })).toBe(true);
    expect(await store.remember({ iss: ISS, jti: 'gone-1', exp: EXP })).toBe(false);
    expect(await store.remember({ iss: ISS, jti: 'gone-2', exp: EXP })).toBe(false);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]!.message).toMatch(/SQLSTATE 26000.*prepare: false/);
    expect(await preparedOn(client as unknown as pg.Pool)).toEqual([]);
    // Layout looked up once: a refused prepared statement is not a sign the table changed.
    expect(texts.filter((text) => text === SHAPE_SQL)).toHaveLength(1);
  });

  it('with a logger, the refusal is logged there (event, SQLSTATE) instead of a process warning', async () => {
    const client = await database.client();
    const logged: { obj: object; msg: string | undefined }[] = [];
    const logger = { info: () => undefined, warn: (obj: object, msg?: string) => logged.push({ obj, msg }) };
    const store = pgReplayStore({ db: client, logger });
    expect(await store.remember({ iss: ISS, jti: 'logged-1', exp: EXP })).toBe(true);
    await client.query('DEALLOCATE ALL');
    expect(await store.remember({ iss: ISS, jti: 'logged-2', exp: EXP })).toBe(true);
    expect(await store.remember({ iss: ISS, jti: 'logged-3', exp: EXP })).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toEqual([
      {
        obj: { event: 's2s_replay_prepare_refused', sqlState: '26000' },
        msg: expect.stringContaining('prepare: false'),
      },
    ]);
    expect(refusals()).toEqual([]);
  });

  it('a refusal that comes after every caller timed out is not resent: their jtis stay unspent', async () => {
    const client = await database.client();
    const store = pgReplayStore({ db: client, timeoutMs: 1000 });
    expect(await store.remember({ iss: ISS, jti: 'late-warm', exp: EXP })).toBe(true);
    await client.query('DEALLOCATE ALL');
    // The client runs one query at a time: the store's statement waits behind this one, past the
    // caller's bound, and is then refused (26000).
    const busy = client.query('SELECT pg_sleep(1.5)');
    await expect(store.remember({ iss: ISS, jti: 'late', exp: EXP })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_TIMEOUT',
    });
    await busy;
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti = 'late'`,
    );
    expect(rows[0].n).toBe(0);
    // The store is on text now, and the jti is still unspent: its first use answers true.
    expect(await store.remember({ iss: ISS, jti: 'late', exp: EXP })).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(refusals()).toHaveLength(1);
  });

  it('42P05 (name already held by the server connection): answered as text, nothing inserted twice', async () => {
    const client = await database.client();
    await client.query(`PREPARE ${single.name} AS ${single.text}`);
    const { db, texts } = recording(client);
    const store = pgReplayStore({ db });
    const answers = await Promise.all(
      ['held-1', 'held-2', 'held-1'].map((jti) => store.remember({ iss: ISS, jti, exp: EXP })),
    );
    expect(answers).toEqual([true, true, false]);
    expect(await store.remember({ iss: ISS, jti: 'held-2', exp: EXP })).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(refusals()).toHaveLength(1);
    expect(refusals()[0]!.message).toMatch(/SQLSTATE 42P05/);
    expect(texts.filter((text) => text === SHAPE_SQL)).toHaveLength(1);
    const { rows } = await client.query(
      `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti IN ('held-1', 'held-2')`,
    );
    expect(rows[0].n).toBe(2);
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
      expect.objectContaining({
        name: VerifierConfigError.name,
        field: 'prepare',
        message: expect.stringMatching(
          /^prepare: needs a node-postgres pg\.Pool or pg\.Client passed as itself/,
        ),
      }),
    );
  });

  it.each([
    ['no warn method', { info: () => undefined }],
    ['a function', () => undefined],
  ])('logger with %s throws VerifierConfigError naming logger', (_, logger) => {
    const options = { db: database.pool({ max: 1 }), logger } as unknown as PgReplayStoreOptions;
    expect(() => pgReplayStore(options)).toThrow(/^logger: must have info\(obj, msg\) and warn\(obj, msg\)$/);
  });

  it.each(['yes', 1, null])('prepare: %j throws VerifierConfigError: it must be true or false', (value) => {
    const options = { db: database.pool({ max: 1 }), prepare: value } as unknown as PgReplayStoreOptions;
    expect(() => pgReplayStore(options)).toThrow(/prepare.*must be true or false/);
  });
});
