import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import {
  PARTITION_LEAD_SECONDS,
  PARTITION_PREFIX,
  PARTITION_SECONDS,
  REPLAY_TABLE_NAME,
} from '../../src/replay/sql.js';

/**
 * The partitions ensure_partitions keeps at `nowS` (epoch seconds), by their first exp: from the one
 * holding now − 24 h to the one holding now + lead, both ends included.
 */
export function partitionWindow(nowS: number): number[] {
  const first = Math.floor((nowS - REPLAY_RETENTION_SECONDS) / PARTITION_SECONDS);
  const last = Math.floor((nowS + PARTITION_LEAD_SECONDS) / PARTITION_SECONDS);
  return Array.from({ length: last - first + 1 }, (_, i) => (first + i) * PARTITION_SECONDS);
}

/** The windows a call spanning [before, now] can leave: a partition boundary may pass meanwhile. */
export function windowsSince(beforeS: number): number[][] {
  return [partitionWindow(beforeS), partitionWindow(Math.floor(Date.now() / 1000))];
}

/** First exps of partitions named `<prefix><first exp>`, in order. */
export function partitionStarts(names: readonly string[]): number[] {
  return names.map((name) => Number(name.slice(PARTITION_PREFIX.length))).sort((a, b) => a - b);
}

/** Something that answers a query with rows: a pg.Pool or pg.Client. */
interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<{ relname: string }> }>;
}

/** Names of the partitions attached to the replay table, in name (and so exp) order. */
export async function partitionNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query(
    `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = to_regclass($1) ORDER BY 1`,
    [REPLAY_TABLE_NAME],
  );
  return rows.map((row) => row.relname);
}

/**
 * One exp inside each of the newest `count` attached partitions (the last second of each), read from
 * the catalog: keys presented under them land in `count` different partitions, where the
 * per-partition primary key cannot see the others. The newest, so that a purge later in the test
 * cannot find one of them past retention should a partition boundary pass meanwhile.
 */
export async function expsInDistinctPartitions(db: Queryable, count: number): Promise<number[]> {
  const starts = partitionStarts(await partitionNames(db));
  if (starts.length < count) throw new Error(`expected ${count} partitions, found ${starts.length}`);
  return starts.slice(-count).map((lo) => lo + PARTITION_SECONDS - 1);
}
