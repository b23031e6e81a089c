import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { migrate } from '../../src/replay/migrate.js';
import type { ReplayLayout } from '../../src/replay/pg.js';
import { REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { createIsolatedDatabase, type IsolatedDatabase } from './database.js';

export interface ReplayDatabase {
  /** URL of this file's own database (valid from beforeAll on). */
  readonly url: string;
  /** A pg.Pool on it, ended after the file. Small by default: the shared server's connections are finite. */
  pool(config?: pg.PoolConfig): pg.Pool;
  /** A connected pg.Client on it (for holding locks or transactions), ended after the file. */
  client(): Promise<pg.Client>;
  /** Empties the replay table. */
  truncate(): Promise<void>;
}

/**
 * Registers beforeAll/afterAll hooks giving the calling test file a fresh database on the shared test
 * server (DATABASE_URL or the embedded one), migrated (in `layout`, default single) unless
 * `migrated: false`, dropped afterwards.
 */
export function useReplayDatabase(
  options: { migrated?: boolean; layout?: ReplayLayout } = {},
): ReplayDatabase {
  let database: IsolatedDatabase | undefined;
  const pools: pg.Pool[] = [];
  const clients: pg.Client[] = [];
  let admin: pg.Pool | undefined;

  beforeAll(async () => {
    database = await createIsolatedDatabase();
    if (options.migrated !== false)
      await migrate(self.pool({ max: 1 }), { layout: options.layout ?? 'single' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    await database?.drop();
  }, 60_000);

  const self: ReplayDatabase = {
    get url() {
      if (!database) throw new Error('useReplayDatabase: the database exists from beforeAll on');
      return database.url;
    },
    pool(config = {}) {
      const pool = new pg.Pool({ connectionString: self.url, max: 4, ...config });
      pool.on('error', () => undefined); // idle clients dying (faults under test) must not crash the run
      pools.push(pool);
      return pool;
    },
    async client() {
      const client = new pg.Client({ connectionString: self.url });
      client.on('error', () => undefined);
      clients.push(client);
      await client.connect();
      return client;
    },
    async truncate() {
      admin ??= self.pool({ max: 1 });
      await admin.query(`TRUNCATE ${REPLAY_TABLE_NAME}`);
    },
  };
  return self;
}
