import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

/** The shared test server: DATABASE_URL when set, else the embedded one the global setup started. */
export function testDatabaseUrl(): string {
  const url = process.env.DATABASE_URL || inject('databaseUrl');
  if (!url)
    throw new Error('no DATABASE_URL and no embedded server: is test/support/global-setup.ts configured?');
  return url;
}

export interface IsolatedDatabase {
  readonly name: string;
  /** URL of the new database on the same server. */
  readonly url: string;
  /** Drops the database, terminating any connection still open to it. */
  drop(): Promise<void>;
}

/**
 * A fresh, uniquely named database on `serverUrl` (default: the shared test server), so test files run
 * in parallel without seeing each other's rows or locks on the replay table.
 */
export async function createIsolatedDatabase(
  serverUrl: string = testDatabaseUrl(),
): Promise<IsolatedDatabase> {
  const name = `s2s_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function admin(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on('error', () => undefined); // a dropped connection surfaces on the query instead
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface FreshDatabases {
  /** A pg.Pool on a new, empty database (its URL is `url`), ended and dropped after the file. */
  fresh(max?: number): Promise<pg.Pool & { readonly url: string }>;
  /** Another pg.Pool on `url`, ended after the file. */
  poolOn(url: string, max?: number): pg.Pool;
}

/** Registers an afterAll hook ending every pool and dropping every database the calling file made. */
export function useFreshDatabases(): FreshDatabases {
  const databases: IsolatedDatabase[] = [];
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await Promise.all(databases.map((database) => database.drop()));
  }, 60_000);
  const poolOn = (url: string, max = 2): pg.Pool => {
    const pool = new pg.Pool({ connectionString: url, max });
    pool.on('error', () => undefined); // idle clients dying (faults under test) must not crash the run
    pools.push(pool);
    return pool;
  };
  return {
    poolOn,
    async fresh(max = 2) {
      const database = await createIsolatedDatabase();
      databases.push(database);
      return Object.assign(poolOn(database.url, max), { url: database.url });
    },
  };
}
