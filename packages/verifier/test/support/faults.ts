import pg from 'pg';
import { REPLAY_TABLE_NAME } from '../../src/replay/sql.js';

/**
 * Real database faults for tests, each undone by the function it returns. They act on one database
 * (give them an isolated database's URL), never on the server as a whole.
 */

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Holds ACCESS EXCLUSIVE on the replay table from another session: every statement on it blocks. */
export async function holdReplayTableLock(url: string): Promise<() => Promise<void>> {
  const client = await connect(url);
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${REPLAY_TABLE_NAME} IN ACCESS EXCLUSIVE MODE`);
  return async () => {
    await client.query('COMMIT').catch(() => undefined);
    await client.end().catch(() => undefined);
  };
}

/** Makes every INSERT into the replay table take at least `ms` (a trigger sleeping server-side). */
export async function slowReplayInserts(url: string, ms: number): Promise<() => Promise<void>> {
  const client = await connect(url);
  try {
    await client.query(`CREATE OR REPLACE FUNCTION session.s2s_test_slow() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN PERFORM pg_sleep(${Number(ms) / 1000}); RETURN NULL; END $$`);
    await client.query(`CREATE OR REPLACE TRIGGER s2s_test_slow BEFORE INSERT ON ${REPLAY_TABLE_NAME}
      FOR EACH STATEMENT EXECUTE FUNCTION session.s2s_test_slow()`);
  } finally {
    await client.end();
  }
  return async () => {
    const undo = await connect(url);
    try {
      await undo.query(`DROP TRIGGER IF EXISTS s2s_test_slow ON ${REPLAY_TABLE_NAME}`);
      await undo.query('DROP FUNCTION IF EXISTS session.s2s_test_slow()');
    } finally {
      await undo.end();
    }
  };
}

/** Terminates every other backend connected to this database (pg_terminate_backend); returns how many. */
export async function terminateBackends(url: string): Promise<number> {
  const client = await connect(url);
  try {
    const { rows } = await client.query(
      `SELECT count(*)::int AS killed FROM (
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS terminated`,
    );
    return rows[0].killed;
  } finally {
    await client.end();
  }
}
