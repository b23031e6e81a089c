import { startOwnPostgres } from '@hyper/s2s-own-postgres';
import pg from 'pg';
import { dataVolume } from './data-volume.js';

export interface BenchDatabase {
  url: string;
  /** Which server, and its durability settings as read from it. */
  label: string;
  /** The durability settings as read from the server, e.g. "fsync on, synchronous_commit on, full_page_writes on". */
  durability: string;
  stop(): Promise<void>;
}

/**
 * The settings that make a commit durable. The tests' own starter turns them off for speed; every
 * figure here is about durable commits (the replay store must not forget a jti after a crash), so the
 * bench turns them back on, and refuses a server where they are off.
 */
const DURABLE = { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' } as const;

/** File systems in memory: an fsync there reaches no disk. */
const MEMORY_FILE_SYSTEMS = new Set(['tmpfs', 'ramfs']);

/**
 * Reads the durability settings (and, for a server on this machine, its data directory's file system)
 * back from the server; throws when a commit there would not be durable. `synchronous_commit` other
 * than off (on, local, remote_write, remote_apply) all flush the WAL locally before the commit returns.
 */
async function durability(url: string, source: string): Promise<string> {
  // dataVolume takes a pool; one connection is all these reads need.
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const { rows } = await pool.query<{
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
    // Only for a server on this machine (the scale study's own finder): a remote server's path says nothing here.
    const volume = await dataVolume(pool);
    if (volume !== undefined && MEMORY_FILE_SYSTEMS.has(volume.fsType)) {
      throw new Error(
        `bench: ${source} keeps its data in ${volume.dataDirectory}, on ${volume.fsType}: an fsync there reaches ` +
          'no disk, so its commits are not durable. Put the data directory on a disk (for the embedded server: TMPDIR).',
      );
    }
    return Object.entries(settings)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
  } finally {
    await pool.end();
  }
}

/**
 * Throws unless the replay table (every partition too) is logged: an UNLOGGED table is emptied by a
 * crash, whatever the server's settings.
 */
export async function assertReplayTableLogged(db: pg.Pool): Promise<void> {
  const { rows } = await db.query<{ name: string }>(
    // pg_partition_tree lists nothing for a table that is not partitioned: the table itself is named too.
    `SELECT relname AS name FROM pg_class
      WHERE relpersistence <> 'p'
        AND (oid = 'session.s2s_jwt_replay'::regclass
             OR oid IN (SELECT relid FROM pg_partition_tree('session.s2s_jwt_replay')))`,
  );
  if (rows.length > 0) {
    throw new Error(
      `bench: ${rows.map((row) => row.name).join(', ')} is not a logged table: a crash empties it, so its ` +
        'figures would not be those of a replay store.',
    );
  }
}

/** DATABASE_URL when set (the machine's server), else a throwaway PostgreSQL (the tests' own starter, made durable). */
export async function benchDatabase(): Promise<BenchDatabase> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const settings = await durability(url, 'the server at DATABASE_URL');
    return {
      url,
      label: `PostgreSQL at DATABASE_URL; ${settings}`,
      durability: settings,
      stop: async () => {},
    };
  }
  const server = await startOwnPostgres({ settings: DURABLE });
  try {
    const settings = await durability(server.url, 'the embedded server');
    return {
      url: server.url,
      label: `embedded PostgreSQL 18 (DATABASE_URL unset); ${settings}`,
      durability: settings,
      stop: () => server.destroy(),
    };
  } catch (error) {
    await server.destroy();
    throw error;
  }
}
