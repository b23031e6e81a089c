import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import {
  REPLAY_MIGRATION_SQL,
  REPLAY_PARTITIONED_MIGRATION_SQL,
  REPLAY_TABLE_NAME,
} from '../../src/replay/sql.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 60;

/**
 * A migration waiting for a lock on the live table queues every insert behind it. Each case keeps a
 * transaction open on the table (another replica's write, a report) for the whole migration: the
 * migration must finish, or give up, while that transaction is still open — never wait for it to end.
 */
describe('migrations on a live single table with a transaction open on it', () => {
  const database = useReplayDatabase();

  async function whileOpen<T>(lock: string, work: () => Promise<T>): Promise<T> {
    const other = await database.client();
    await other.query('BEGIN');
    await other.query(lock);
    try {
      return await work();
    } finally {
      await other.query('COMMIT');
    }
  }
  const openWrite = `INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) VALUES ('${ISS}', 'open-writer', ${EXP})`;
  const openRead = `SELECT count(*) FROM ${REPLAY_TABLE_NAME}`;

  it('0001 again (what every replica runs at start through migrate) does not wait for an open writer', async () => {
    const db = database.pool({ max: 1 });
    await whileOpen(openWrite, async () => {
      await db.query(REPLAY_MIGRATION_SQL);
      await migrate(db);
    });
    const { rows } = await db.query('SELECT count(*)::int AS n FROM pg_indexes WHERE indexname = $1', [
      's2s_jwt_replay_retain_until_idx',
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('0002 refuses a single table holding rows without waiting for an open reader, and changes nothing', async () => {
    const db = database.pool({ max: 1 });
    await database.truncate();
    await db.query(`INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) VALUES ($1, 'kept', $2)`, [ISS, EXP]);
    const refusal = await whileOpen(openRead, () =>
      db.query(REPLAY_PARTITIONED_MIGRATION_SQL).catch((e) => e),
    );
    expect(refusal).toMatchObject({
      code: '55000',
      message: expect.stringContaining('single table holding rows'),
    });
    const { rows } = await db.query(`SELECT jti FROM ${REPLAY_TABLE_NAME}`);
    expect(rows).toEqual([{ jti: 'kept' }]);
  });

  it.each(['repeatable read', 'serializable'])(
    '0002 refuses to replace an empty single table at %s (25000): its check under the lock would miss a write committed during the wait',
    async (level) => {
      await database.truncate();
      const db = database.pool({
        max: 1,
        options: `-c default_transaction_isolation=${level.replace(' ', '\\ ')}`,
      });
      await expect(db.query(REPLAY_PARTITIONED_MIGRATION_SQL)).rejects.toMatchObject({
        code: '25000',
        message: expect.stringContaining(`needs READ COMMITTED, not ${level.toUpperCase()}`),
      });
      const { rows } = await db.query('SELECT relkind FROM pg_class WHERE oid = to_regclass($1)', [
        REPLAY_TABLE_NAME,
      ]);
      expect(rows[0].relkind).toBe('r');
    },
  );

  it('0002 on an empty single table gives up on its lock while a reader holds the table (55P03), then succeeds', async () => {
    const db = database.pool({ max: 1 });
    await database.truncate();
    const refusal = await whileOpen(openRead, () =>
      db.query(REPLAY_PARTITIONED_MIGRATION_SQL).catch((e) => e),
    );
    expect(refusal).toMatchObject({ code: '55P03' });
    await db.query(REPLAY_PARTITIONED_MIGRATION_SQL);
    const { rows } = await db.query('SELECT relkind FROM pg_class WHERE oid = to_regclass($1)', [
      REPLAY_TABLE_NAME,
    ]);
    expect(rows[0].relkind).toBe('p');
  });
});
