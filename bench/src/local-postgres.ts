/**
 * Whether the PostgreSQL server behind a pool runs on this machine, so that its processes (/proc) and
 * its data directory's mount can be read from here. One answer for every report that needs it.
 */
import type pg from 'pg';
import { commandOf, parentPid, workingDirectory } from './cpu.js';

export interface LocalPostgres {
  readonly dataDirectory: string;
  readonly postmasterPid: number;
}

/**
 * The server behind `db` when its backend is a postgres process here whose postmaster works in the
 * server's data_directory. Undefined for a remote or containerised server (its pid may name an
 * unrelated local process, its path an unrelated local directory), or without the rights to read
 * data_directory (superuser or pg_read_all_settings) or the postmaster's /proc entry.
 */
export async function localPostgres(db: pg.Pool): Promise<LocalPostgres | undefined> {
  let pid: number;
  let dataDirectory: string;
  try {
    const { rows } = await db.query<{ pid: number; dir: string }>(
      "SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS dir",
    );
    pid = rows[0]!.pid;
    dataDirectory = rows[0]!.dir;
  } catch {
    return undefined;
  }
  if (commandOf(pid) !== 'postgres') return undefined;
  const postmasterPid = parentPid(pid);
  if (postmasterPid === undefined || commandOf(postmasterPid) !== 'postgres') return undefined;
  const cwd = workingDirectory(postmasterPid);
  return cwd !== undefined && cwd === workingDirectory(dataDirectory)
    ? { dataDirectory, postmasterPid }
    : undefined;
}
