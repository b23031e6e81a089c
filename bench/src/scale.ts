/**
 * `npx -y pnpm@10 bench:scale`: capacity study of the replay store (issue 13). Loads the table to N rows in
 * steps (realistic iss/jti, exp spread over the 24 h retention) and at each step measures remember()
 * throughput and p99 at 64 in flight, bytes per million rows, WAL bytes per token, one 5-minute purge
 * (duration, insert p99 during it vs idle) and autovacuum activity; then single vs partitioned at the
 * largest N. Uses its own databases on the server at DATABASE_URL (or an embedded one) and drops them.
 * Default steps (1 M, 3 M, 10 M) are sized for ≤ 15 min on 2 cores; `--steps 1000000,10000000,30000000`
 * for the full study (the bulk load, `--load bulk`, default, is what makes 30 M rows fit).
 */
import { readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { migrate, type PgReplayStore, pgReplayStore } from '@hyper/s2s-verifier';
import { REPLAY_PARTITION_SECONDS } from '@hyper/s2s-verifier/replay';
import pg from 'pg';
import { type DataVolume, dataVolume, describeDataVolume } from './data-volume.js';
import { fmt, latencySummary, median } from './harness.js';
import { benchDatabase } from './postgres.js';
import { purgeUnderLoad as measurePurge } from './purge-under-load.js';
import { SCALE_MARKER } from './scale-report.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    steps: { type: 'string', default: '1000000,3000000,10000000' },
    ops: { type: 'string', default: '20000' },
    write: { type: 'boolean', default: true },
    // 'bulk': indexes dropped while loading and rebuilt after (10 M / 30 M steps fit the time budget);
    // 'insert': every row through the live indexes, as in production (slower past shared_buffers).
    load: { type: 'string', default: 'bulk' },
    // 'partitioned-purge': only the partitioned layout's purge under load, repeated (no RESULTS.md).
    only: { type: 'string' },
    repeat: { type: 'string', default: '5' },
    // Stores sharing the load in --only partitioned-purge (replicas: each keeps pipelineDepth statements in flight).
    stores: { type: 'string', default: '1' },
    // pgReplayStore's pipelineDepth for every store here (default: the store's).
    'pipeline-depth': { type: 'string' },
    // Purges under an open loop at this many remember() arrivals per second instead of 64 callers.
    rate: { type: 'string' },
    // --only partitioned-purge: which purges to rotate (default detach,drop,none; also detach-only, unlink, split).
    modes: { type: 'string', default: 'detach,drop,none' },
    // --only hash-leaves: leaves per 6-hour partition to compare (1: the layout as shipped).
    leaves: { type: 'string', default: '1,8,32' },
  },
});
const STEPS = values.steps
  .split(',')
  .map(Number)
  .filter((x) => Number.isSafeInteger(x) && x > 0)
  .sort((a, b) => a - b);
const OPS = Number(values.ops);
if (values.load !== 'bulk' && values.load !== 'insert')
  throw new Error("bench:scale: --load must be 'bulk' or 'insert'");
const BULK = values.load === 'bulk';
const IN_FLIGHT = 64;
const DAY = 86_400;
/** Width of one partition of the partitioned layout (seconds of exp): what one purge of it drops. */
const WIDTH = REPLAY_PARTITION_SECONDS;
const WIDTH_HOURS = WIDTH / 3600;
/** Rows in one partition when `rows` are spread evenly over the 24 h retention. */
const partitionRows = (rows: number) => Math.round((rows * WIDTH) / DAY);
const depthOption =
  values['pipeline-depth'] === undefined ? {} : { pipelineDepth: Number(values['pipeline-depth']) };
/** Measured on this server: ~250 bytes per row with indexes (3 M rows); refuse to leave less than 10 GB free. */
const BYTES_PER_ROW_GUESS = 260;
const MIN_FREE_BYTES = 10 * 2 ** 30;

const free = statfsSync('/').bavail * statfsSync('/').bsize;
const largest = STEPS.at(-1) ?? 0;
// Both layouts at the largest step, each with one partition of expired rows added, and room for WAL.
const diskRows = 2 * (largest + partitionRows(largest)) + largest / 2;
if (free - diskRows * BYTES_PER_ROW_GUESS < MIN_FREE_BYTES) {
  throw new Error(
    `bench:scale: ${fmt(largest)} rows would leave less than 10 GB of disk free; pass smaller --steps`,
  );
}

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};

const server = await benchDatabase();
const names: string[] = [];
async function freshDatabase(tag: string): Promise<pg.Pool> {
  const name = `s2s_bench_scale_${tag}_${process.pid}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  names.push(name);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
  pool.on('error', () => undefined);
  return pool;
}
async function dropDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

const ISSUERS = `ARRAY['https://lite-eu.hyper.example','https://lite-us.hyper.example','https://billing.hyper.example']`;

/**
 * Indexes of each layout as `migrate` creates them. A bulk load drops them and builds them again at
 * fillfactor 70: random (UUID) inserts leave B-tree leaves about ln 2 ≈ 69 % full (measured here: an
 * index grown by inserts was 1.33× the size of one built at the default 90), so sizes stay those of a
 * table grown by traffic while the build costs a sort instead of one random index descent per row.
 */
const INDEXES = {
  single: [
    {
      drop: 'ALTER TABLE session.s2s_jwt_replay DROP CONSTRAINT s2s_jwt_replay_pkey',
      build:
        'ALTER TABLE session.s2s_jwt_replay ADD CONSTRAINT s2s_jwt_replay_pkey PRIMARY KEY (iss, jti) WITH (fillfactor = 70)',
      reset: 'ALTER INDEX session.s2s_jwt_replay_pkey RESET (fillfactor)',
    },
    {
      drop: 'DROP INDEX session.s2s_jwt_replay_retain_until_idx',
      build:
        'CREATE INDEX s2s_jwt_replay_retain_until_idx ON session.s2s_jwt_replay (retain_until) WITH (fillfactor = 70)',
      reset: 'ALTER INDEX session.s2s_jwt_replay_retain_until_idx RESET (fillfactor)',
    },
  ],
  partitioned: [
    {
      drop: 'ALTER TABLE session.s2s_jwt_replay DROP CONSTRAINT s2s_jwt_replay_pk',
      build:
        'ALTER TABLE session.s2s_jwt_replay ADD CONSTRAINT s2s_jwt_replay_pk PRIMARY KEY (iss, jti, exp) WITH (fillfactor = 70)',
      // A partitioned index refuses RESET; its partitions' indexes (what the rows live in) take it.
      // The parent keeps the option: partitions attached later clone it, and it only affects builds
      // and rightmost splits, which random jti keys hardly make.
      reset: `DO $r$ DECLARE i regclass; BEGIN
        FOR i IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'session.s2s_jwt_replay_pk'::regclass LOOP
          EXECUTE format('ALTER INDEX %s RESET (fillfactor)', i);
        END LOOP; END $r$`,
    },
  ],
};

/** Inserts rows `from+1 .. to` in one statement: a UUID jti, one of three issuers, exp spread over the retention window. */
async function insertRows(pool: pg.Pool, from: number, to: number): Promise<void> {
  await pool.query(
    `INSERT INTO session.s2s_jwt_replay (iss, jti, exp)
     SELECT (${ISSUERS})[1 + g % 3], gen_random_uuid()::text,
            extract(epoch FROM now())::bigint - ${DAY} + 900 + (g * 7919) % (${DAY} - 600)
     FROM generate_series($1::bigint + 1, $2::bigint) AS g`,
    [from, to],
  );
}

/** Adds rows `from+1 .. to` (as insertRows), a million per statement, indexes rebuilt after when bulk. */
async function load(pool: pg.Pool, from: number, to: number, partitioned = false): Promise<void> {
  const indexes = INDEXES[partitioned ? 'partitioned' : 'single'];
  if (BULK) for (const index of indexes) await pool.query(index.drop);
  for (let lo = from; lo < to; lo += 1_000_000) await insertRows(pool, lo, Math.min(to, lo + 1_000_000));
  if (BULK) {
    const client = await pool.connect();
    try {
      await client.query(`SET maintenance_work_mem = '1GB'`);
      for (const index of indexes) {
        await client.query(index.build);
        await client.query(index.reset);
      }
    } finally {
      client.release();
    }
  }
  await pool.query('VACUUM (ANALYZE) session.s2s_jwt_replay');
  await settle(pool);
}

/**
 * A checkpoint after the bench's own bulk writes: otherwise the checkpoint they trigger writes gigabytes
 * of loaded pages during the measurements that follow (idle p99 of 100-170 ms seen right after a 30 M-row
 * load), a cost of setting the bench up, not of the store.
 */
async function settle(pool: pg.Pool): Promise<void> {
  await pool.query('CHECKPOINT');
}

let sequence = 0;
const entry = () => ({
  iss: 'https://lite-eu.hyper.example',
  jti: `${process.pid}-${++sequence}-${Math.random().toString(36).slice(2)}`,
  exp: Math.floor(Date.now() / 1000) + 120,
});

/** remember() at 64 in flight until `stop()` (and at least `minOps`); sorted latencies and rate. */
async function drive(store: PgReplayStore, stop: () => boolean, minOps: number) {
  const samples: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (!stop() || samples.length < minOps) {
        const t0 = performance.now();
        if (!(await store.remember(entry()))) throw new Error('lost a jti');
        samples.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { ...latencySummary(samples), perSec: samples.length / seconds };
}

async function one<T>(pool: pg.Pool, sql: string): Promise<T> {
  return (await pool.query(sql)).rows[0] as T;
}

async function tableBytes(pool: pg.Pool): Promise<number> {
  const row = await one<{ b: string }>(
    pool,
    `SELECT CASE WHEN c.relkind = 'p'
              THEN (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(c.oid))
              ELSE pg_total_relation_size(c.oid) END::bigint AS b
     FROM pg_class c WHERE c.oid = 'session.s2s_jwt_replay'::regclass`,
  );
  return Number(row.b);
}

interface Vacuum {
  dead: number;
  autovacuums: number;
  autoanalyzes: number;
}
async function vacuumStats(pool: pg.Pool): Promise<Vacuum> {
  const row = await one<{ dead: string; av: string; aa: string }>(
    pool,
    `SELECT coalesce(sum(n_dead_tup), 0) AS dead, coalesce(sum(autovacuum_count), 0) AS av,
            coalesce(sum(autoanalyze_count), 0) AS aa
     FROM pg_stat_user_tables WHERE schemaname = 'session'`,
  );
  return { dead: Number(row.dead), autovacuums: Number(row.av), autoanalyzes: Number(row.aa) };
}

async function walLsn(pool: pg.Pool): Promise<string> {
  return (await one<{ lsn: string }>(pool, 'SELECT pg_current_wal_lsn()::text AS lsn')).lsn;
}
async function walBytes(pool: pg.Pool, from: string): Promise<number> {
  return Number(
    (await one<{ b: string }>(pool, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${from}')::bigint AS b`))
      .b,
  );
}

/** Bytes the next purge frees: every partition wholly past retention, with its indexes. */
async function expiredBytes(pool: pg.Pool): Promise<number> {
  const row = await one<{ b: string }>(
    pool,
    `SELECT coalesce(sum(pg_total_relation_size(partition::regclass)), 0)::bigint AS b
     FROM session.s2s_jwt_replay_expired_partitions()`,
  );
  return Number(row.b);
}

/**
 * Adds `rows` rows past retention, with exps spread over one partition's width (the partition two
 * widths before the one holding now − 24 h), for a purge to remove: one partition's worth of rows.
 */
async function addExpired(pool: pg.Pool, rows: number, partitioned: boolean): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const lo = Math.floor((now - DAY - 2 * WIDTH) / WIDTH) * WIDTH;
  if (partitioned) {
    await pool.query(
      `CREATE TABLE IF NOT EXISTS session.s2s_jwt_replay_e${lo} PARTITION OF session.s2s_jwt_replay
       FOR VALUES FROM (${lo}) TO (${lo + WIDTH})`,
    );
  }
  await pool.query(
    `INSERT INTO session.s2s_jwt_replay (iss, jti, exp)
     SELECT (${ISSUERS})[1 + g % 3], gen_random_uuid()::text, ${lo} + g % ${WIDTH}
     FROM generate_series(1, $1::int) AS g`,
    [rows],
  );
  await pool.query('ANALYZE session.s2s_jwt_replay');
  await settle(pool);
}

/** `--rate`: remember() arrivals per second of the open loop the purges run under (else IN_FLIGHT callers). */
const RATE = values.rate === undefined ? undefined : Number(values.rate);
if (RATE !== undefined && !(Number.isSafeInteger(RATE) && RATE > 0))
  throw new Error('bench:scale: --rate must be a positive integer (arrivals per second)');
/** Seconds of arrivals before an open-loop purge starts: its idle p99 then rests on tens of thousands of calls. */
const OPEN_LOOP_IDLE_S = 5;
/** The load every purge here runs under, as the report names it. */
const LOAD_SHAPE =
  RATE === undefined
    ? `${IN_FLIGHT} callers in a closed loop`
    : `${fmt(RATE)} remember() arrivals/s (open loop, Poisson)`;

/** Purges one partition's worth of rows under remember() load, from one continuous load (purge-under-load.ts). */
function purgeUnderLoad(
  store: PgReplayStore,
  purgeNow: () => Promise<{ deleted: number }> = () => store.runPurge(),
) {
  return measurePurge(
    store,
    purgeNow,
    RATE === undefined
      ? { inFlight: IN_FLIGHT, idleOps: OPS / 2, entry }
      : { ratePerSec: RATE, idleOps: Math.max(OPS / 2, RATE * OPEN_LOOP_IDLE_S), entry },
  );
}

interface Step {
  rows: number;
  loadS: number;
  run: Awaited<ReturnType<typeof drive>>;
  bytesPerMillion: number;
  walPerToken: number;
  purge: Awaited<ReturnType<typeof purgeUnderLoad>>;
  /** The same load around a "purge" that only waits, run in the steady state before the expired rows are added. */
  control: Awaited<ReturnType<typeof purgeUnderLoad>>;
  purgeRows: number;
  vacuum: Vacuum;
}

async function step(
  pool: pg.Pool,
  store: PgReplayStore,
  rows: number,
  loaded: number,
  partitioned: boolean,
  purgeRows: number,
): Promise<Step> {
  const loadStart = performance.now();
  await load(pool, loaded, rows, partitioned);
  const loadS = (performance.now() - loadStart) / 1000;
  const before = await vacuumStats(pool);
  const bytes = await tableBytes(pool);
  const lsn = await walLsn(pool);
  let count = 0;
  const run = await drive(store, () => ++count > OPS, OPS);
  const wal = await walBytes(pool, lsn);
  const control = await purgeUnderLoad(store, controlPurge);
  await addExpired(pool, purgeRows, partitioned);
  const purge = await purgeUnderLoad(store);
  const after = await vacuumStats(pool);
  return {
    rows,
    loadS,
    run,
    bytesPerMillion: (bytes / rows) * 1e6,
    walPerToken: wal / run.ops,
    purge,
    control,
    purgeRows,
    vacuum: {
      dead: after.dead,
      autovacuums: after.autovacuums - before.autovacuums,
      autoanalyzes: after.autoanalyzes - before.autoanalyzes,
    },
  };
}

/** How long a control "purge" waits: about what a short real purge takes. */
const CONTROL_PURGE_MS = 200;

/**
 * The control for a purge under load: the same callers, window and sampling around a "purge" that only
 * waits, so what a window of that length does to p99 by itself is not blamed on the purge.
 */
async function controlPurge(): Promise<{ deleted: number }> {
  await new Promise((resolve) => setTimeout(resolve, CONTROL_PURGE_MS));
  return { deleted: 0 };
}

/** `--modes split`: longer than ext4's default journal commit interval (5 s), so the two frees land in two commits. */
const SPLIT_PAUSE_MS = 6000;

/**
 * `--only partitioned-purge`: the partitioned table loaded to the largest step, then `--repeat` times
 * one partition of expired rows (largest × width / 24 h) purged under load (64 callers, or `--rate`), rotating
 * `--modes`: `detach` the store's purge (detach concurrently, then drop), `drop` the maintain function
 * called alone (a DROP of the attached partition: ACCESS EXCLUSIVE on the parent), `none` a control that
 * only waits, and on request `detach-only` (the detach alone), `unlink` (the DROP of a partition
 * detached beforehand, untimed) and `split` (the same table's primary key dropped, then, SPLIT_PAUSE_MS
 * later, the table), so all see the same machine load. Prints each run's insert p99 during the
 * purge vs idle just before, the bytes freed, and what the active backends were waiting on. Writes
 * nothing to RESULTS.md.
 */
if (values.only === 'partitioned-purge') {
  const repeat = Number(values.repeat);
  // The store's purge lock key ('s2s:purg' in ASCII); here only the bench purges.
  const maintainAlone = `SELECT deleted::float8 AS deleted FROM session.s2s_jwt_replay_maintain(8300823758029288039, 21600)`;
  try {
    const parted = await freshDatabase('purge');
    await migrate(parted, { layout: 'partitioned' });
    const replicas = Array.from({ length: Math.max(1, Number(values.stores)) }, () =>
      pgReplayStore({ db: parted, timeoutMs: 10_000, purgeTimeoutMs: 600_000, ...depthOption }),
    );
    let next = 0;
    // remember() spread round-robin over the replicas' stores; the purge runs from the first one.
    const store: PgReplayStore = {
      ...replicas[0]!,
      remember: (entry, call) => replicas[next++ % replicas.length]!.remember(entry, call),
    };
    await load(parted, 0, largest, true);
    out(describeDataVolume(await dataVolume(parted)));
    const known = ['detach', 'drop', 'none', 'detach-only', 'unlink', 'split'] as const;
    type Mode = (typeof known)[number];
    const modes = values.modes.split(',') as Mode[];
    const unknown = modes.filter((m) => !known.includes(m));
    if (unknown.length > 0 || modes.length === 0)
      throw new Error(`bench:scale: --modes takes ${known.join(', ')}; not ${unknown.join(', ')}`);
    const ratios: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
    const blocked: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
    /** DETACH ... CONCURRENTLY of every expired partition, each its own statement, as the store's purge does. */
    const detachExpired = async () => {
      const { rows } = await parted.query(
        'SELECT partition FROM session.s2s_jwt_replay_expired_partitions()',
      );
      for (const { partition } of rows as { partition: string }[]) {
        await parted.query(`ALTER TABLE session.s2s_jwt_replay DETACH PARTITION ${partition} CONCURRENTLY`);
      }
      return { deleted: 0 };
    };
    const maintain = async () => ({ deleted: Number((await parted.query(maintainAlone)).rows[0].deleted) });
    /**
     * The files of each detached expired table freed in two transactions, SPLIT_PAUSE_MS apart: its
     * primary key (the index files), then the table (the heap); so the filesystem never frees the whole
     * partition in one journal commit.
     */
    const split = async () => {
      const { rows } = await parted.query(
        `SELECT c.relname, k.conname, greatest(c.reltuples, 0)::float8 AS rows FROM pg_class c JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'p'
          WHERE c.relnamespace = 'session'::regnamespace AND c.relkind = 'r' AND c.relname ~ '^s2s_jwt_replay_e[0-9]+$'
            AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)`,
      );
      let deleted = 0;
      for (const table of rows as { relname: string; conname: string; rows: number }[]) {
        await parted.query(`ALTER TABLE session.${table.relname} DROP CONSTRAINT ${table.conname}`);
        await sleep(SPLIT_PAUSE_MS);
        await parted.query(`DROP TABLE session.${table.relname}`);
        // As maintain counts a dropped table: the planner's estimate.
        deleted += table.rows;
      }
      return { deleted };
    };
    const watcher = await parted.connect();
    let lastWaits = '';
    /**
     * Runs `purge`, polling pg_locks meanwhile: the most backends seen waiting on a relation lock; and
     * what the other backends were waiting on, sample by sample (wait_event, or `cpu` when none).
     */
    async function watched(purge: () => Promise<{ deleted: number }>, into: number[]) {
      let done = false;
      let most = 0;
      const waits = new Map<string, number>();
      const poll = (async () => {
        while (!done) {
          const { rows } = await watcher.query(
            `SELECT (SELECT count(*)::int FROM pg_locks WHERE NOT granted AND locktype = 'relation') AS n,
                    coalesce((SELECT json_object_agg(w, c) FROM (
                      SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') AS w, count(*)::int AS c
                      FROM pg_stat_activity
                      WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                      GROUP BY 1) AS a), '{}') AS waits`,
          );
          most = Math.max(most, rows[0].n);
          for (const [wait, count] of Object.entries(rows[0].waits as Record<string, number>)) {
            waits.set(wait, (waits.get(wait) ?? 0) + count);
          }
        }
      })();
      try {
        return await purge();
      } finally {
        done = true;
        await poll;
        into.push(most);
        lastWaits = [...waits]
          .sort((x, y) => y[1] - x[1])
          .map(([wait, count]) => `${wait} ${count}`)
          .join(', ');
      }
    }
    // 'none' is the control: the same load, window and sampling around a "purge" that only waits as
    // long as a real one, so what the window itself does to p99 is not blamed on the purge.
    // 'detach-only' and 'unlink' split the store's purge: the DETACH alone (its partition dropped
    // untimed afterwards), and the DROP of a table already detached (the files freed, the parent untouched).
    const purges: Record<Mode, () => Promise<{ deleted: number }>> = {
      detach: () => store.runPurge(),
      drop: maintain,
      none: controlPurge,
      'detach-only': detachExpired,
      unlink: maintain,
      split,
    };
    for (let i = 0; i < repeat * modes.length; i++) {
      const mode = modes[i % modes.length]!;
      await addExpired(parted, partitionRows(largest), true);
      const freed = await expiredBytes(parted);
      if (mode === 'unlink' || mode === 'split') await detachExpired();
      const r = await purgeUnderLoad(store, () => watched(purges[mode], blocked[mode]!));
      // Purges that leave their partition in place: clear it untimed so every measured purge frees one.
      if (mode === 'none' || mode === 'detach-only') await store.runPurge();
      ratios[mode]!.push(r.ratio);
      out(
        `${mode}: purge ${fmt(r.purgeMs, 0)} ms, ${fmt(r.deleted)} rows (${mode === 'none' || mode === 'detach-only' ? `nothing freed while timed; its ${fmt(freed / 2 ** 20)} MiB partition is dropped afterwards` : `${fmt(freed / 2 ** 20)} MiB freed`}), pg_locks polled: at most ${blocked[mode]!.at(-1)} ungranted relation locks at once (wait events of active backends, from pg_stat_activity in the same polls but a separate snapshot: ${lastWaits || 'none'}); insert p99 idle ${fmt(r.idle.p99, 2)} ms → during ${fmt(r.during.p99, 2)} ms (${fmt(r.ratio, 2)}×, ${r.during.ops} ops during, ${r.slow} slower than 1.5× the idle p99, slowest ${fmt(r.slowestMs, 1)} ms); load average ${loadavg()
          .map((x) => fmt(x, 1))
          .join(' ')}`,
      );
    }
    for (const [mode, list] of Object.entries(ratios)) {
      list.sort((x, y) => x - y);
      out(
        `${mode}: median ratio ${fmt(list[Math.floor(list.length / 2)] ?? 0, 2)}× (${list.map((x) => fmt(x, 2)).join(', ')}) over ${list.length} runs at ${fmt(largest)} rows under ${LOAD_SHAPE}, ${replicas.length} store(s); backends waiting on a relation lock, most per run: ${blocked[mode]!.join(', ')}`,
      );
    }
    watcher.release();
    await parted.end();
  } finally {
    await dropDatabases().catch((error) => console.error('[scale] drop failed', error));
    await server.stop();
  }
  process.exit(0);
}

/** `--only hash-leaves`: keys per remember statement, connections sending them, seconds per round. */
const LEAF_BATCH = 64;
const LEAF_CONNECTIONS = 8;
const LEAF_ROUND_MS = 4000;

const leafLabel = (k: number) =>
  k === 1 ? '6-hour partitions as shipped' : `${k} hash leaves per partition`;

/**
 * Every partition of a freshly migrated partitioned table rebuilt as `leaves` hash partitions on
 * (iss, jti), so that a purge could free a partition one leaf (1/leaves of its files) per DROP.
 */
async function hashLeaves(pool: pg.Pool, leaves: number): Promise<void> {
  const { rows } = await pool.query(
    `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'session.s2s_jwt_replay'::regclass`,
  );
  for (const { relname, bound } of rows as { relname: string; bound: string }[]) {
    await pool.query(`ALTER TABLE session.s2s_jwt_replay DETACH PARTITION session.${relname}`);
    await pool.query(`DROP TABLE session.${relname}`);
    await pool.query(
      `CREATE TABLE session.${relname} (LIKE session.s2s_jwt_replay INCLUDING DEFAULTS INCLUDING GENERATED) PARTITION BY HASH (iss, jti)`,
    );
    for (let r = 0; r < leaves; r++) {
      await pool.query(
        `CREATE TABLE session.${relname}_h${r} PARTITION OF session.${relname} FOR VALUES WITH (MODULUS ${leaves}, REMAINDER ${r})`,
      );
    }
    await pool.query(`ALTER TABLE session.s2s_jwt_replay ATTACH PARTITION session.${relname} ${bound}`);
  }
}

/**
 * `--only hash-leaves --leaves 1,8,32 --steps N`: what freeing a partition in smaller files would cost
 * every key. Postgres frees a table's files only whole, so smaller frees need smaller tables: each 6-hour
 * partition split into K hash leaves on (iss, jti). Measured: the layout's own remember function, 64 keys
 * per statement on 8 connections (the store's coalesced statements, without the Node side), on N rows
 * (the largest step), rounds rotating over K. Writes nothing to RESULTS.md.
 */
if (values.only === 'hash-leaves') {
  const leaves = values.leaves.split(',').map(Number);
  if (leaves.some((k) => !Number.isSafeInteger(k) || k < 1))
    throw new Error(`bench:scale: --leaves takes whole numbers of at least 1; not ${values.leaves}`);
  const repeat = Number(values.repeat);
  try {
    const pools = new Map<number, pg.Pool>();
    for (const k of leaves) {
      const pool = await freshDatabase(`leaves${k}`);
      await migrate(pool, { layout: 'partitioned' });
      if (k > 1) await hashLeaves(pool, k);
      // Through the live indexes: load's bulk path resets fillfactor on the partitions' indexes, which
      // under hash leaves are partitioned indexes and refuse RESET.
      await insertRows(pool, 0, largest);
      await pool.query('VACUUM (ANALYZE) session.s2s_jwt_replay');
      await settle(pool);
      const tree = await one<{ leaves: number }>(
        pool,
        `SELECT count(*) FILTER (WHERE isleaf)::int AS leaves FROM pg_partition_tree('session.s2s_jwt_replay')`,
      );
      out(`${leafLabel(k)}: ${tree.leaves} tables hold the ${fmt(largest)} rows`);
      pools.set(k, pool);
    }
    const perSec = new Map<number, number[]>(leaves.map((k) => [k, []]));
    for (let round = 0; round < repeat; round++) {
      for (let j = 0; j < leaves.length; j++) {
        const k = leaves[(round + j) % leaves.length]!;
        const pool = pools.get(k)!;
        const samples: number[] = [];
        const until = performance.now() + LEAF_ROUND_MS;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: LEAF_CONNECTIONS }, async () => {
            while (performance.now() < until) {
              const keys = Array.from({ length: LEAF_BATCH }, entry);
              const t0 = performance.now();
              const { rows } = await pool.query(
                'SELECT count(*)::int AS n FROM session.s2s_jwt_replay_remember($1::text[], $2::text[], $3::bigint[])',
                [keys.map((e) => e.iss), keys.map((e) => e.jti), keys.map((e) => e.exp)],
              );
              if (rows[0].n !== LEAF_BATCH) throw new Error('lost a jti');
              samples.push(performance.now() - t0);
            }
          }),
        );
        const rate = (samples.length * LEAF_BATCH) / ((performance.now() - started) / 1000);
        perSec.get(k)!.push(rate);
        const summary = latencySummary(samples);
        out(
          `${leafLabel(k)}: ${fmt(rate)} keys/s (${fmt(summary.ops)} statements of ${LEAF_BATCH}), statement p50 ${fmt(summary.p50, 2)} ms, p99 ${fmt(summary.p99, 2)} ms`,
        );
      }
    }
    // Ratios against the first --leaves value (1 by default: the layout as shipped).
    const base = median(perSec.get(leaves[0]!)!);
    for (const k of leaves) {
      out(
        `${leafLabel(k)}: median ${fmt(median(perSec.get(k)!))} keys/s (${fmt(median(perSec.get(k)!) / base, 2)}× of ${leafLabel(leaves[0]!)}) over ${repeat} rounds at ${fmt(largest)} rows`,
      );
    }
    for (const pool of pools.values()) await pool.end();
  } finally {
    await dropDatabases().catch((error) => console.error('[scale] drop failed', error));
    await server.stop();
  }
  process.exit(0);
}

const started = performance.now();
const load1 = loadavg()[0] ?? 0;
const steps: Step[] = [];
let partitionedStep: Step | undefined;
let singlePartitionPurge: Awaited<ReturnType<typeof purgeUnderLoad>> | undefined;
let sharedBuffers = 'unknown';
let volume: DataVolume | undefined;
let pkBytesPerRow = 0;
try {
  const single = await freshDatabase('single');
  await migrate(single);
  const singleStore = pgReplayStore({
    db: single,
    timeoutMs: 10_000,
    purgeTimeoutMs: 600_000,
    ...depthOption,
  });
  let loaded = 0;
  for (const rows of STEPS) {
    // One 5-minute purge at this volume: 300 s of a 24 h window.
    const s = await step(
      single,
      singleStore,
      rows,
      loaded,
      false,
      Math.max(1000, Math.round((rows * 300) / DAY)),
    );
    loaded = rows;
    steps.push(s);
    console.error(`[scale] single ${fmt(rows)} rows done at ${fmt((performance.now() - started) / 1000)} s`);
  }
  sharedBuffers = (await one<{ shared_buffers: string }>(single, 'SHOW shared_buffers')).shared_buffers;
  volume = await dataVolume(single);
  const pk = await one<{ b: string; n: string }>(
    single,
    `SELECT pg_relation_size('session.s2s_jwt_replay_pkey')::bigint AS b, count(*)::bigint AS n FROM session.s2s_jwt_replay`,
  );
  pkBytesPerRow = Number(pk.b) / Number(pk.n);
  // Single table at the largest N: purge one partition's worth of rows (DELETE in batches).
  await addExpired(single, partitionRows(largest), false);
  singlePartitionPurge = await purgeUnderLoad(singleStore);

  // Partitioned at the largest N, loaded the same way; its purge of one partition is a DROP.
  const parted = await freshDatabase('partitioned');
  await migrate(parted, { layout: 'partitioned' });
  const partedStore = pgReplayStore({
    db: parted,
    timeoutMs: 10_000,
    purgeTimeoutMs: 600_000,
    ...depthOption,
  });
  partitionedStep = await step(parted, partedStore, largest, 0, true, partitionRows(largest));
  console.error(
    `[scale] partitioned ${fmt(largest)} rows done at ${fmt((performance.now() - started) / 1000)} s`,
  );
  await single.end();
  await parted.end();
} finally {
  await dropDatabases().catch((error) => console.error('[scale] drop failed', error));
  await server.stop();
}

const minutes = (performance.now() - started) / 60_000;
const big = steps.at(-1)!;
const part = partitionedStep!;
const singlePurge = singlePartitionPurge!;
const controls = { single: big.control, partitioned: part.control };

// Model: bytes grow linearly with rows; throughput fitted as a + b·ln(N) over the steps.
const bytesPerRow = big.bytesPerMillion / 1e6;
const xs = steps.map((s) => Math.log(s.rows));
const ys = steps.map((s) => s.run.perSec);
const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
const my = ys.reduce((a, b) => a + b, 0) / ys.length;
const b =
  xs.length > 1
    ? xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i]! - my), 0) /
      xs.reduce((acc, x) => acc + (x - mx) ** 2, 0)
    : 0;
const a = my - b * mx;
/** Fitted throughput, never above the measured figure at the largest step (noise must not promise gains). */
const at = (rows: number) => Math.min(big.run.perSec, a + b * Math.log(rows));
/** A log fit through fewer than three noisy points says nothing; print n/a instead. */
const fitted = (rows: number) => (steps.length >= 3 ? fmt(Math.max(0, at(rows))) : 'n/a (needs ≥ 3 steps)');
const scenarios = [
  { label: '1,000 req/s × 24 h', rows: 1000 * DAY },
  { label: '10,000 req/s × 24 h', rows: 10_000 * DAY },
];

out(SCALE_MARKER);
out();
out('## Replay store capacity (`npx -y pnpm@10 bench:scale`)');
out();
out(
  `Run on ${new Date().toISOString()}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, ` +
    `${server.label}; steps ${STEPS.map((x) => fmt(x)).join(', ')} rows (${BULK ? 'bulk-loaded: indexes rebuilt at fillfactor 70 after each step' : 'loaded through the live indexes'}), ${fmt(OPS)} remember() calls per step at ${IN_FLIGHT} in flight, every purge under ${LOAD_SHAPE}; ` +
    `${fmt(minutes, 1)} min. Load average at start ${fmt(load1, 1)} on ${cpus().length} cores: other work shared the machine, ` +
    'so throughput and p99 are disturbed (ratios within the run are the figures to read). ' +
    `${describeDataVolume(volume)}.`,
);
out();
out(
  '| rows | remember/s | p50 ms | p99 ms | bytes per 1 M rows | WAL bytes/token | 5-min purge rows | purge s | insert p99 idle → during | autovacuum runs | dead tuples after |',
);
out('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const s of steps) {
  out(
    `| ${fmt(s.rows)} | ${fmt(s.run.perSec)} | ${fmt(s.run.p50, 2)} | ${fmt(s.run.p99, 2)} | ${fmt(s.bytesPerMillion / 2 ** 20, 0)} MiB | ${fmt(s.walPerToken)} | ${fmt(s.purgeRows)} | ${fmt(s.purge.purgeMs / 1000, 2)} | ${fmt(s.purge.idle.p99, 2)} → ${fmt(s.purge.during.p99, 2)} ms (${fmt(s.purge.ratio, 2)}×; control ${fmt(s.control.ratio, 2)}×) | ${s.vacuum.autovacuums} | ${fmt(s.vacuum.dead)} |`,
  );
}
out();
out(`### Single table vs partitioned at ${fmt(largest)} rows (same run)`);
out();
out('| | single | partitioned | partitioned / single |');
out('|---|---:|---:|---:|');
out(
  `| remember()/s at 64 in flight | ${fmt(big.run.perSec)} | ${fmt(part.run.perSec)} | ${fmt(part.run.perSec / big.run.perSec, 2)}× |`,
);
out(
  `| remember() p99 ms | ${fmt(big.run.p99, 2)} | ${fmt(part.run.p99, 2)} | ${fmt(part.run.p99 / big.run.p99, 2)}× |`,
);
out(
  `| WAL bytes per token | ${fmt(big.walPerToken)} | ${fmt(part.walPerToken)} | ${fmt(part.walPerToken / big.walPerToken, 2)}× |`,
);
out(
  `| bytes per 1 M rows | ${fmt(big.bytesPerMillion / 2 ** 20)} MiB | ${fmt(part.bytesPerMillion / 2 ** 20)} MiB | |`,
);
out(
  `| purge of one partition (${fmt(WIDTH_HOURS)} h of exp, ${fmt(partitionRows(largest))} rows) | DELETE ${fmt(singlePurge.purgeMs / 1000, 2)} s | detach + DROP ${fmt(part.purge.purgeMs / 1000, 2)} s | ${fmt(part.purge.purgeMs / singlePurge.purgeMs, 3)}× |`,
);
out(
  `| insert p99 during that purge vs idle (goal ≤ 1.5×) | ${fmt(singlePurge.during.p99, 2)} vs ${fmt(singlePurge.idle.p99, 2)} ms = ${fmt(singlePurge.ratio, 2)}× | ${fmt(part.purge.during.p99, 2)} vs ${fmt(part.purge.idle.p99, 2)} ms = ${fmt(part.purge.ratio, 2)}× | |`,
);
out(
  `| control: insert p99 in a ${CONTROL_PURGE_MS} ms window with no purge vs idle | ${fmt(controls.single.during.p99, 2)} vs ${fmt(controls.single.idle.p99, 2)} ms = ${fmt(controls.single.ratio, 2)}× | ${fmt(controls.partitioned.during.p99, 2)} vs ${fmt(controls.partitioned.idle.p99, 2)} ms = ${fmt(controls.partitioned.ratio, 2)}× | |`,
);
out();
out(
  `The control row runs the same load, window and sampling around a "purge" that only waits ${CONTROL_PURGE_MS} ms, ` +
    'in the steady state after the throughput run and before the expired rows are loaded: ' +
    'a p99 over a window that short is set by the slowest moment in it, so the purge rows are read against it ' +
    `(the partitioned purge lasted ${fmt(part.purge.purgeMs / 1000, 2)} s; \`--only partitioned-purge --repeat N\` repeats both, with the DROP alone beside them, ` +
    '`--modes detach-only,unlink` splits the detach from the freeing of the files).',
);
out();
out('### Model');
out();
out(
  `Size grows linearly: ${fmt(bytesPerRow, 0)} bytes per row (table + primary key + retain_until index, at ${fmt(largest)} rows). ` +
    (b < 0
      ? `Throughput fitted over the steps as ${fmt(a)} − ${fmt(-b)}·ln(N) remember/s (an extrapolation far past the measured range: a trend, not a promise).`
      : `Throughput did not fall measurably over the steps (fit ${fmt(a)} + ${fmt(b)}·ln(N) is noise on this loaded machine); the extrapolation below is capped at the largest step's figure.`) +
    ` Memory is the limit that matters: the primary-key index must stay in cache for each uniqueness check to avoid a random read (shared_buffers here: ${sharedBuffers}).`,
);
out();
out(`Primary-key index: ${fmt(pkBytesPerRow, 0)} bytes per row.`);
out();
out(
  '| retention load | rows | table + indexes | primary-key index | fitted remember/s (single) | 5-min purge rows |',
);
out('|---|---:|---:|---:|---:|---:|');
for (const s of scenarios) {
  out(
    `| ${s.label} | ${fmt(s.rows)} | ${fmt((s.rows * bytesPerRow) / 2 ** 30, 1)} GiB | ${fmt((s.rows * pkBytesPerRow) / 2 ** 30, 1)} GiB | ${fitted(s.rows)} | ${fmt(Math.round((s.rows * 300) / DAY))} |`,
  );
}
out();

if (values.write) {
  const file = new URL('../RESULTS.md', import.meta.url);
  let previous = '';
  try {
    previous = readFileSync(file, 'utf8');
  } catch {}
  const at = previous.indexOf(SCALE_MARKER);
  const head = at >= 0 ? previous.slice(0, at) : `${previous.trimEnd()}\n\n`;
  writeFileSync(file, `${head}${lines.join('\n')}\n`);
}
