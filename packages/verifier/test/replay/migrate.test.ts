import { readFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { REPLAY_RETENTION_SECONDS, REPLAY_TABLE } from '@hyper/s2s-contracts';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { VerifierConfigError } from '../../src/errors.js';
import { REPLAY_PARTITION_SECONDS } from '../../src/replay/index.js';
import { checkReplayShape, migrate } from '../../src/replay/migrate.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import {
  PARTITION_SECONDS,
  PARTITIONED_FUNCTION_SIGNATURES,
  REMEMBER_FUNCTION,
  REMEMBER_FUNCTION_SIGNATURE,
  REPLAY_MIGRATION_FILE,
  REPLAY_MIGRATION_SQL,
  REPLAY_PARTITIONED_MIGRATION_SQL,
  REPLAY_TABLE_NAME,
  SHAPE_SQL,
} from '../../src/replay/sql.js';
import type { ReplayDb } from '../../src/replay/store.js';
import { countingDb } from '../support/counting-db.js';
import { testDatabaseUrl, useFreshDatabases } from '../support/database.js';
import { partitionNames, partitionStarts, windowsSince } from '../support/partition-window.js';

const databases = useFreshDatabases();
const freshPool = (max = 2) => databases.fresh(max);

async function columns(pool: pg.Pool): Promise<Record<string, unknown>[]> {
  const { rows } = await pool.query(
    `SELECT column_name, data_type, is_nullable, collation_name, is_generated
     FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [REPLAY_TABLE.schema, REPLAY_TABLE.table],
  );
  return rows;
}

describe('the shipped migration', () => {
  it('is the file migrations/0001_s2s_jwt_replay.sql, character for character', async () => {
    const file = await readFile(
      new URL(`../../migrations/${REPLAY_MIGRATION_FILE}`, import.meta.url),
      'utf8',
    );
    expect(file).toBe(REPLAY_MIGRATION_SQL);
  });

  it('creates session.s2s_jwt_replay keyed by (iss, jti) with exp, retain_until, first_seen_at', async () => {
    const pool = await freshPool();
    await migrate(pool);
    expect(await columns(pool)).toEqual([
      {
        column_name: 'iss',
        data_type: 'text',
        is_nullable: 'NO',
        collation_name: 'C',
        is_generated: 'NEVER',
      },
      {
        column_name: 'jti',
        data_type: 'text',
        is_nullable: 'NO',
        collation_name: 'C',
        is_generated: 'NEVER',
      },
      {
        column_name: 'exp',
        data_type: 'bigint',
        is_nullable: 'NO',
        collation_name: null,
        is_generated: 'NEVER',
      },
      {
        column_name: 'retain_until',
        data_type: 'timestamp with time zone',
        is_nullable: 'NO',
        collation_name: null,
        is_generated: 'ALWAYS',
      },
      {
        column_name: 'first_seen_at',
        data_type: 'timestamp with time zone',
        is_nullable: 'NO',
        collation_name: null,
        is_generated: 'NEVER',
      },
    ]);
    const { rows: indexes } = await pool.query(
      `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname`,
      [REPLAY_TABLE.schema, REPLAY_TABLE.table],
    );
    expect(indexes.map((row) => row.indexdef)).toEqual([
      `CREATE UNIQUE INDEX s2s_jwt_replay_pkey ON ${REPLAY_TABLE_NAME} USING btree (iss, jti)`,
      `CREATE INDEX s2s_jwt_replay_retain_until_idx ON ${REPLAY_TABLE_NAME} USING btree (retain_until)`,
    ]);
  });

  it('derives retain_until = exp + 24 h and stamps first_seen_at, whoever inserts the row', async () => {
    const pool = await freshPool();
    await migrate(pool);
    await pool.query(`INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) VALUES ('iss', 'jti', 1900000000)`);
    const { rows } = await pool.query(
      `SELECT extract(epoch FROM retain_until)::bigint AS retain, first_seen_at IS NOT NULL AS stamped
       FROM ${REPLAY_TABLE_NAME}`,
    );
    expect(rows).toEqual([{ retain: String(1_900_000_000 + REPLAY_RETENTION_SECONDS), stamped: true }]);
    await expect(
      pool.query(
        `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp, retain_until) VALUES ('i', 'j', 1, now())`,
      ),
    ).rejects.toMatchObject({ code: '428C9' }); // generated_always: no writer can set its own retention
  });

  it('is idempotent: migrating again keeps the table and its rows', async () => {
    const pool = await freshPool();
    await migrate(pool);
    const store = pgReplayStore({ db: pool });
    expect(await store.remember({ iss: 'iss', jti: 'kept', exp: 1_900_000_000 })).toBe(true);
    await migrate(pool);
    await migrate(pool);
    expect(await store.remember({ iss: 'iss', jti: 'kept', exp: 1_900_000_000 })).toBe(false);
  });

  it('is safe when eight replicas migrate the same empty database at once', async () => {
    const pool = await freshPool(8);
    const replicas = Array.from({ length: 8 }, async () => {
      const client = await pool.connect(); // one connection each, as separate processes would have
      try {
        await migrate(client);
      } finally {
        client.release();
      }
    });
    await expect(Promise.all(replicas)).resolves.toHaveLength(8);
    expect(await columns(pool)).toHaveLength(5);
  });

  it('accepts a database already migrated by running the .sql file (as Core does)', async () => {
    const pool = await freshPool();
    const file = await readFile(
      new URL(`../../migrations/${REPLAY_MIGRATION_FILE}`, import.meta.url),
      'utf8',
    );
    await pool.query(file); // simple protocol: the whole file at once
    await migrate(pool);
    expect(await pgReplayStore({ db: pool }).health()).toBe(true);
  });

  it('runs on PGlite', async () => {
    const db = await PGlite.create();
    try {
      await migrate(db);
      await migrate(db);
      const store = pgReplayStore({ db });
      expect(await store.remember({ iss: 'iss', jti: 'one', exp: 1_900_000_000 })).toBe(true);
      expect(await store.remember({ iss: 'iss', jti: 'one', exp: 1_900_000_000 })).toBe(false);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('says what to check: the connection settings for a refused connection or an unknown database, migrate for a missing table', async () => {
    const refused = new pg.Pool({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 5_000 });
    const url = new URL(testDatabaseUrl());
    url.pathname = '/s2s_no_such_database';
    const unknown = new pg.Pool({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
    try {
      for (const db of [refused, unknown]) {
        await expect(migrate(db)).rejects.toMatchObject({
          code: 'ERR_S2S_REPLAY_FAILED',
          message: expect.stringMatching(
            /^replay migration failed: .*\(check the pool's connection settings: host, port, database, user, password\)$/,
          ),
        });
        // The store says the same to a caller of remember() (a Core that migrates elsewhere).
        await expect(
          pgReplayStore({ db }).remember({ iss: 'iss', jti: 'one', exp: 1_900_000_000 }),
        ).rejects.toMatchObject({
          code: 'ERR_S2S_REPLAY_FAILED',
          message: expect.stringMatching(
            /^replay store statement failed: .+ \(check the pool's connection settings: host, port, database, user, password\)$/,
          ),
        });
      }
      // The server's own reason, for a logger that prints only the message.
      await expect(
        pgReplayStore({ db: unknown }).remember({ iss: 'iss', jti: 'one', exp: 1_900_000_000 }),
      ).rejects.toThrow(
        /^replay store statement failed: 3D000 database "s2s_no_such_database" does not exist \(/,
      );
    } finally {
      await Promise.all([refused.end(), unknown.end()]);
    }
    const empty = await freshPool();
    await expect(
      pgReplayStore({ db: empty }).remember({ iss: 'iss', jti: 'one', exp: 1_900_000_000 }),
    ).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_FAILED',
      message: `replay table ${REPLAY_TABLE.schema}.${REPLAY_TABLE.table} is missing (run migrate)`,
    });
    await migrate(empty);
    await empty.query(`DROP TABLE ${REPLAY_TABLE.schema}.${REPLAY_TABLE.table}`);
    const store = pgReplayStore({ db: empty });
    await expect(store.purge()).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_FAILED',
      message: expect.stringContaining('(run migrate'),
    });
  });

  it('fails with a typed error when the database refuses, and on a handle without query()', async () => {
    const pool = await freshPool();
    const client = await pool.connect();
    try {
      await client.query('SET default_transaction_read_only = on');
      // The reason is in the message too, for a logger that prints only the message.
      await expect(migrate(client)).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_FAILED',
        message: 'replay migration failed: 25006 cannot execute CREATE SCHEMA in a read-only transaction',
      });
    } finally {
      client.release(true);
    }
    await expect(migrate({} as never)).rejects.toThrow(VerifierConfigError);
    await expect(migrate(pool, { timeoutMs: 2 ** 31 })).rejects.toMatchObject({
      field: 'timeoutMs',
      message: expect.stringContaining('from 1 to 2147483647'),
    });
  });

  it('refuses, with ERR_S2S_REPLAY_SCHEMA, an existing table keyed otherwise and leaves it untouched', async () => {
    const pool = await freshPool();
    await pool.query('CREATE SCHEMA session');
    await pool.query(`CREATE TABLE ${REPLAY_TABLE_NAME} (
      iss text NOT NULL, jti text PRIMARY KEY, exp bigint NOT NULL,
      retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + ${REPLAY_RETENTION_SECONDS})) STORED)`);
    const refused = migrate(pool);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_SCHEMA' });
    await expect(refused).rejects.toThrow(/primary key \(jti\), expected \(iss, jti\)/);
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`,
      [REPLAY_TABLE.schema, REPLAY_TABLE.table],
    );
    expect(rows[0].n).toBe(1); // no purge index added to a table it does not own
  });

  it('refuses a table keyed by one column named "iss, jti" (a key is read unambiguously)', async () => {
    const pool = await freshPool();
    await pool.query('CREATE SCHEMA session');
    await pool.query(`CREATE TABLE ${REPLAY_TABLE_NAME} (
      "iss, jti" text PRIMARY KEY, iss text NOT NULL, jti text NOT NULL, exp bigint NOT NULL,
      retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + ${REPLAY_RETENTION_SECONDS})) STORED)`);
    await expect(migrate(pool)).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringContaining('has primary key ("iss, jti"), expected (iss, jti)'),
    });
    await expect(pgReplayStore({ db: pool }).runPurge()).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
    });
  });

  it('refuses a table whose retain_until is a plain column (the purge would delete by a value it does not control)', async () => {
    const pool = await freshPool();
    await pool.query('CREATE SCHEMA session');
    await pool.query(`CREATE TABLE ${REPLAY_TABLE_NAME} (
      iss text NOT NULL, jti text NOT NULL, exp bigint NOT NULL, retain_until timestamptz NOT NULL,
      first_seen_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (iss, jti))`);
    await expect(migrate(pool)).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringContaining('retain_until'),
    });
    // migrate skipped: a token still within its exp, filed with a retain_until already past. Purged, its
    // jti would be accepted again; the store's purge refuses the table instead and deletes nothing.
    await pool.query(
      `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp, retain_until)
       VALUES ('iss', 'live', extract(epoch FROM now())::bigint + 300, now() - interval '1 hour')`,
    );
    const store = pgReplayStore({ db: pool });
    await expect(store.runPurge()).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringMatching(/retain_until .*refusing to use or purge it/),
    });
    // Nor is anything remembered in it (the verifier answers 503, cause schema_missing), and the store
    // is not ready, so a readiness probe says so before traffic does.
    const exp = Math.floor(Date.now() / 1000) + 300;
    await expect(store.remember({ iss: 'iss', jti: 'new', exp })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
    });
    await expect(store.check()).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_SCHEMA' });
    expect(await store.health()).toBe(false);
    const { rows } = await pool.query(`SELECT jti FROM ${REPLAY_TABLE_NAME}`);
    expect(rows).toEqual([{ jti: 'live' }]);
  });

  it('does not mistake a layout switch during a purge run for a foreign table', async () => {
    const pool = await freshPool();
    await migrate(pool);
    // The purge's first catalog read sees the single table; then 0002 replaces it (empty, as on a fresh
    // install; convertToPartitioned's switch is the same rename) before the purge's next statement.
    let switched = false;
    const db: ReplayDb = {
      async query(text, values) {
        const result = await pool.query(text, values);
        if (!switched && text === SHAPE_SQL) {
          switched = true;
          await pool.query(REPLAY_PARTITIONED_MIGRATION_SQL);
        }
        return result;
      },
    };
    await expect(pgReplayStore({ db }).runPurge()).resolves.toMatchObject({ lockBusy: false });
    expect(switched).toBe(true);
    // The next run reads the new layout and maintains its partitions.
    await expect(pgReplayStore({ db: pool }).layout()).resolves.toBe('partitioned');
    await expect(pgReplayStore({ db: pool }).runPurge()).resolves.toMatchObject({ lockBusy: false });
  });

  it('answers a table dropped while its shape was read (expression NULL) as a failure to retry, not a foreign table', async () => {
    // What SHAPE_SQL returns when pg_get_expr finds the table gone after waiting for its lock.
    const raced: ReplayDb = {
      query: async () => ({
        rows: [{ kind: 'r', pk: 'iss, jti', generated: 's', retain_expr: null, missing_functions: null }],
      }),
    };
    await expect(checkReplayShape(raced, undefined, { allowMissing: false })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_FAILED',
      message: expect.stringContaining('changed while its shape was read'),
    });
  });

  it('refuses a retain_until generated with another retention', async () => {
    const pool = await freshPool();
    await pool.query('CREATE SCHEMA session');
    await pool.query(`CREATE TABLE ${REPLAY_TABLE_NAME} (
      iss text NOT NULL, jti text NOT NULL, exp bigint NOT NULL,
      retain_until timestamptz NOT NULL GENERATED ALWAYS AS (to_timestamp(exp + 60)) STORED,
      PRIMARY KEY (iss, jti))`);
    await expect(migrate(pool)).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_SCHEMA' });
  });
});

describe('the partitioned layout', () => {
  /** First exps of the attached partitions, in order. */
  const partitions = async (pool: pg.Pool) => partitionStarts(await partitionNames(pool));

  it('creates a table partitioned by exp, from the partition holding now - 24 h to 6 h ahead, idempotently', async () => {
    const pool = await freshPool();
    const before = Math.floor(Date.now() / 1000);
    await migrate(pool, { layout: 'partitioned' });
    const first = await partitions(pool);
    expect(windowsSince(before)).toContainEqual(first);
    // Partitions are 6 hours of exp wide, 6 in the window (REPLAY.md, "Partition width"; Core's file says so too).
    expect(REPLAY_PARTITION_SECONDS).toBe(21_600);
    expect(first).toHaveLength(6);
    expect(first.slice(1).map((lo, i) => lo - first[i]!)).toEqual(Array(5).fill(21_600));
    await migrate(pool, { layout: 'partitioned' });
    await migrate(pool); // no layout asked: the one present is kept
    // The same partitions again (plus the next one ahead, should a partition boundary pass meanwhile).
    const again = await partitions(pool);
    expect(again.slice(0, first.length)).toEqual(first);
    expect(again.length - first.length).toBeLessThanOrEqual(1);
    const store = pgReplayStore({ db: pool });
    expect(await store.layout()).toBe('partitioned');
    const exp = Math.floor(Date.now() / 1000) + 60;
    expect(await store.remember({ iss: 'iss', jti: 'p', exp })).toBe(true);
    expect(await store.remember({ iss: 'iss', jti: 'p', exp: exp - PARTITION_SECONDS })).toBe(false);
  });

  it.each(PARTITIONED_FUNCTION_SIGNATURES)(
    'names %s when it is missing: the purge refuses, remember only without its own; migrate makes it again',
    async (signature) => {
      const pool = await freshPool();
      await migrate(pool, { layout: 'partitioned' });
      await pool.query(`DROP FUNCTION ${signature}`);
      // The purge (or remember) would call it and fail with a bare 42883 (undefined_function).
      const refused = {
        code: 'ERR_S2S_REPLAY_SCHEMA',
        message: expect.stringContaining(`its functions ${signature} are missing (run migrate`),
      };
      const store = pgReplayStore({ db: pool, timeoutMs: 5000 });
      const remember = () =>
        store.remember({ iss: 'iss', jti: 'f', exp: Math.floor(Date.now() / 1000) + 60 });
      await expect(store.runPurge()).rejects.toMatchObject(refused);
      const remembering = signature === REMEMBER_FUNCTION_SIGNATURE;
      // The message says what is refused: everything without remember, only the purge otherwise.
      await expect(store.runPurge()).rejects.toMatchObject({
        message: expect.stringMatching(
          remembering ? /; refusing to use or purge it$/ : /; refusing to purge it \(remembering goes on\)$/,
        ),
      });
      if (remembering) {
        await expect(store.layout()).rejects.toMatchObject(refused);
        await expect(remember()).rejects.toMatchObject(refused);
        expect(await store.health()).toBe(false);
      } else {
        // A purge function dropped by hand fails the purge (and its alert), not every verification.
        await expect(store.layout()).resolves.toBe('partitioned');
        await expect(remember()).resolves.toBe(true);
        expect(await store.health()).toBe(true);
      }
      await migrate(pool);
      await expect(store.runPurge()).resolves.toMatchObject({ lockBusy: false });
      await expect(store.layout()).resolves.toBe('partitioned');
    },
  );

  it('replaces an empty single table when asked for partitioned, as the file 0002 does', async () => {
    const pool = await freshPool();
    await migrate(pool);
    await migrate(pool, { layout: 'partitioned' });
    expect(await checkReplayShape(pool, undefined, { allowMissing: false })).toBe('partitioned');
    const byFile = await freshPool();
    await byFile.query(REPLAY_MIGRATION_SQL);
    await byFile.query(REPLAY_PARTITIONED_MIGRATION_SQL);
    expect(await checkReplayShape(byFile, undefined, { allowMissing: false })).toBe('partitioned');
  });

  it('lets replicas replace an empty single table at the same moment: every one succeeds', async () => {
    for (let round = 0; round < 3; round++) {
      const pool = await freshPool(4);
      await migrate(pool);
      const outcomes = await Promise.all(
        [1, 2, 3].map(() =>
          migrate(pool, { layout: 'partitioned' }).then(
            () => 'ok',
            (error: Error) => error.message,
          ),
        ),
      );
      expect(outcomes).toEqual(['ok', 'ok', 'ok']);
      expect(await checkReplayShape(pool, undefined, { allowMissing: false })).toBe('partitioned');
    }
  });

  it('refuses to silently switch layouts in either direction', async () => {
    const single = await freshPool();
    await migrate(single);
    await single.query(`INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) VALUES ('lite', 'held', 1)`);
    await expect(migrate(single, { layout: 'partitioned' })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
      message: expect.stringContaining('holds rows'),
    });
    await expect(migrate(single, { layout: 'partitioned' })).rejects.toThrow(/convertToPartitioned/);
    // Refused and unchanged: still the single table, its row kept.
    expect(await checkReplayShape(single, undefined, { allowMissing: false })).toBe('single');
    expect((await single.query(`SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME}`)).rows[0].n).toBe(1);
    const partitioned = await freshPool();
    await migrate(partitioned, { layout: 'partitioned' });
    await expect(migrate(partitioned, { layout: 'single' })).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_SCHEMA',
    });
    await expect(migrate(single, { layout: 'sharded' as never })).rejects.toThrow(VerifierConfigError);
  });

  /**
   * A partition the migration would not make, beside the newest one it made (`last`): its purge judges a
   * partition's age by its name and the width, and its new partitions would overlap one of another width.
   */
  const foreignPartitions: [string, (last: number) => { schema?: string; name: string; bound: string }][] = [
    // What a table made with hourly partitions holds.
    ['an hourly partition', (last) => ({ name: `e${last}`, bound: `FROM (${last}) TO (${last + 3600})` })],
    [
      'a partition off the 6-hour grid',
      (last) => {
        const lo = last + PARTITION_SECONDS + 3600;
        return { name: `e${lo}`, bound: `FROM (${lo}) TO (${lo + PARTITION_SECONDS})` };
      },
    ],
    [
      'a partition named otherwise',
      (last) => ({
        name: 'archive',
        bound: `FROM (${last + PARTITION_SECONDS}) TO (${last + 2 * PARTITION_SECONDS})`,
      }),
    ],
    [
      'a partition whose name has a leading zero',
      (last) => ({
        name: `e0${last + PARTITION_SECONDS}`,
        bound: `FROM (${last + PARTITION_SECONDS}) TO (${last + 2 * PARTITION_SECONDS})`,
      }),
    ],
    [
      'a partition in another schema',
      (last) => ({
        schema: 'elsewhere',
        name: `e${last + PARTITION_SECONDS}`,
        bound: `FROM (${last + PARTITION_SECONDS}) TO (${last + 2 * PARTITION_SECONDS})`,
      }),
    ],
    ['a DEFAULT partition', () => ({ name: 'default', bound: 'DEFAULT' })],
  ];

  /** When the remember function was last (re)created: CREATE OR REPLACE rewrites its catalog row. */
  const rememberVersion = async (pool: pg.Pool) =>
    (
      await pool.query(
        `SELECT xmin::text AS version FROM pg_proc WHERE oid = to_regprocedure('${REMEMBER_FUNCTION}(text[],text[],bigint[])')`,
      )
    ).rows[0]?.version;

  it.each(foreignPartitions)(
    'refuses, with ERR_S2S_REPLAY_SCHEMA, a table holding %s, before any DDL; so does the .sql file Core runs',
    async (_, make) => {
      const pool = await freshPool();
      await migrate(pool, { layout: 'partitioned' });
      const made = await partitionNames(pool);
      const last = partitionStarts(made).at(-1)!;
      const { schema = REPLAY_TABLE.schema, name, bound } = make(last);
      const relname = `${REPLAY_TABLE.table}_${name}`;
      if (name === `e${last}`) await pool.query(`DROP TABLE ${REPLAY_TABLE.schema}.${relname}`);
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await pool.query(
        `CREATE TABLE ${schema}.${relname} PARTITION OF ${REPLAY_TABLE_NAME} ${bound === 'DEFAULT' ? bound : `FOR VALUES ${bound}`}`,
      );
      const before = { partitions: await partitionNames(pool), remember: await rememberVersion(pool) };
      const counted = countingDb(pool);
      await expect(migrate(counted)).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_SCHEMA',
        // Names the partition and the remedy.
        message: expect.stringMatching(
          new RegExp(`partition ${relname} .*DROP TABLE ${REPLAY_TABLE_NAME} .*layout 'partitioned'`),
        ),
      });
      // The shape check alone was sent: no DDL ran.
      expect(counted.calls.map((call) => call.text)).toEqual([SHAPE_SQL]);
      await expect(migrate(pool, { layout: 'partitioned' })).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_SCHEMA',
      });
      // Core applies migrations/0002 as it is: the file refuses too, inside its migration lock.
      await expect(pool.query(REPLAY_PARTITIONED_MIGRATION_SQL)).rejects.toMatchObject({
        code: '42P16', // invalid_table_definition, REPLAY.md "Partition width"
        message: expect.stringMatching(new RegExp(`partition ${relname} .*Drop the table`)),
      });
      // A store whose migrate was skipped: its purge refuses the same table, naming the partition, rather
      // than drop partitions by a width the table does not have or fail every run on a bare SQL error.
      await expect(pgReplayStore({ db: pool }).runPurge()).rejects.toMatchObject({
        code: 'ERR_S2S_REPLAY_SCHEMA',
        message: expect.stringContaining(`partition ${relname} `),
      });
      expect({ partitions: await partitionNames(pool), remember: await rememberVersion(pool) }).toEqual(
        before,
      );
    },
  );

  it('reads partition bounds the same way on PGlite: accepts its own partitions, refuses an hourly one', async () => {
    const db = await PGlite.create();
    try {
      await migrate(db, { layout: 'partitioned' });
      await migrate(db, { layout: 'partitioned' });
      const lo = partitionStarts(await partitionNames(db)).at(-1)! + PARTITION_SECONDS;
      await db.query(
        `CREATE TABLE ${REPLAY_TABLE_NAME}_e${lo} PARTITION OF ${REPLAY_TABLE_NAME} FOR VALUES FROM (${lo}) TO (${lo + 3600})`,
      );
      await expect(migrate(db)).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_SCHEMA' });
    } finally {
      await db.close();
    }
  }, 60_000);
});
