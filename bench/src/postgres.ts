import { startOwnPostgres } from '@hyper/s2s-own-postgres';
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  /** Which server, and its durability settings as read from it. */
  label: string;
  stop(): Promise<void>;
}

/**
 * The settings that make a commit durable. The tests' own starter turns them off for speed; every
 * figure here is about durable commits (the replay store must not forget a jti after a crash), so the
 * bench turns them back on, and refuses a server where they are off.
 */
const DURABLE = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } as const;

/** Reads the durability settings from the server; throws when a commit there would not be durable. */
async function durability(url: string, source: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{
      fsync: string;
      synchronous_commit: string;
      full_page_writes: string;
    }>(
      `SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS synchronous_commit,
              current_setting('full_page_writes') AS full_page_writes`,
    );
    const settings = rows[0]!;
    const off = Object.entries(settings).filter(([, value]) => value === 'off');
    if (off.length > 0) {
      throw new Error(
        `bench: ${source} runs with ${off.map(([name]) => `${name} = off`).join(', ')}: its commits are not ` +
          'durable, so its figures would not be those of a replay store. Use a server with these on.',
      );
    }
    return Object.entries(settings)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
  } finally {
    await client.end();
  }
}

/** DATABASE_URL when set (the machine's server), else a throwaway PostgreSQL (the tests' own starter, made durable). */
export async function benchDatabase(): Promise<BenchDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const settings = await durability(url, 'the server at DATABASE_URL');
    return { url, label: `PostgreSQL at DATABASE_URL; ${settings}`, stop: async () => {} };
  }
  const server = await startOwnPostgres({ settings: DURABLE });
  try {
    const settings = await durability(server.url, 'the embedded server');
    return {
      url: server.url,
      label: `embedded PostgreSQL 18 (DATABASE_URL unset); ${settings}`,
      stop: () => server.destroy(),
    };
  } catch (error) {
    await server.destroy();
    throw error;
  }
}
