/**
 * Which filesystem holds the PostgreSQL data directory, and whether it is mounted with `discard`.
 * With online discard, freeing a dropped table's blocks sends synchronous TRIMs inside the filesystem's
 * journal commit, and every WAL flush waiting on that commit stalls: on this machine freeing 380 MB
 * held concurrent commits up to ~100 ms (1.5 GB: ~230 ms), and none with `nodiscard`. The partitioned
 * purge frees one partition (6 hours of rows) at once, so its insert p99 is only readable next to this fact.
 */
import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { localPostgres } from './local-postgres.js';

export interface DataVolume {
  readonly dataDirectory: string;
  readonly mountPoint: string;
  readonly fsType: string;
  /** The mount options as /proc/mounts lists them. */
  readonly options: string;
  readonly discard: boolean;
}

/** Undefined when the server is not on this machine (or will not say where its data lives). */
export async function dataVolume(db: pg.Pool): Promise<DataVolume | undefined> {
  const server = await localPostgres(db);
  if (server === undefined) return undefined;
  const { dataDirectory } = server;
  let mounts: string;
  try {
    mounts = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return undefined;
  }
  let best: DataVolume | undefined;
  for (const line of mounts.split('\n')) {
    const [, mountPoint, fsType, options] = line.split(' ');
    if (mountPoint === undefined || fsType === undefined || options === undefined) continue;
    const prefix = mountPoint.endsWith('/') ? mountPoint : `${mountPoint}/`;
    const holds = dataDirectory === mountPoint || dataDirectory.startsWith(prefix);
    if (holds && (best === undefined || mountPoint.length >= best.mountPoint.length)) {
      best = { dataDirectory, mountPoint, fsType, options, discard: options.split(',').includes('discard') };
    }
  }
  return best;
}

/** One sentence for a report. */
export function describeDataVolume(volume: DataVolume | undefined): string {
  if (volume === undefined) return 'Data directory: not on this machine (mount options unknown)';
  const { dataDirectory, fsType, mountPoint, options, discard } = volume;
  return (
    `Data directory ${dataDirectory} on ${fsType} at ${mountPoint} (${options}): ` +
    (discard
      ? 'online `discard` is on, so every DROP trims synchronously (expect a commit stall per dropped partition)'
      : 'no online `discard`')
  );
}
