import { execFileSync } from 'node:child_process';
import { VERIFIER_METRIC_NAMES } from '@hyper/s2s-contracts';
import {
  createVerifier,
  memoryReplayStore,
  migrate,
  type PgReplayStore,
  pgReplayStore,
  ReplayStoreError,
} from '@hyper/s2s-verifier';
import { importSPKI, jwtVerify } from 'jose';
import pg from 'pg';
import { postgresCpuReader } from './cpu.js';
import { AUDIENCE, createFixture, ISSUER, JOSE_VERIFY_OPTIONS, mintTokens, SCOPE } from './fixtures.js';
import { type Measurement, measure, percentile } from './harness.js';
import { localPostgres } from './local-postgres.js';
import { measureOpenLoop, type OpenLoopMeasurement, Unavailable } from './open-loop.js';
import { assertReplayTableLogged, type BenchDatabase } from './postgres.js';
import { purgeUnderLoad } from './purge-under-load.js';
import { startStallProbe } from './stall-probe.js';

const NAIVE_INSERT = `INSERT INTO session.s2s_jwt_replay (iss, jti, exp) VALUES ($1, $2, $3)
ON CONFLICT (iss, jti) DO NOTHING RETURNING jti`;

let sequence = 0;
const nextJti = () => `bench-${process.pid}-${++sequence}`;
const exp = () => Math.floor(Date.now() / 1000) + 60;

/** One fresh jti remembered; a refusal by the store is the 503 a service would answer (fail closed). */
async function rememberOne(store: PgReplayStore): Promise<void> {
  let first: boolean;
  try {
    first = await store.remember({ iss: ISSUER, jti: nextJti(), exp: exp() });
  } catch (error) {
    // A stall past the bound is a 503 to count; any other refusal is a broken run.
    if (error instanceof ReplayStoreError && error.code === 'ERR_S2S_REPLAY_TIMEOUT') {
      throw new Unavailable(error.code, { cause: error });
    }
    throw error;
  }
  if (!first) throw new Error('lost a jti');
}

/**
 * A verification result that is not a pass: the store's 503 is counted (open loop; runRound ends the run
 * when it answers most calls so), anything else ends the run.
 */
function rejected(who: string, r: { status: number; reason: string }): Error {
  const message = `${who}: ${r.status} ${r.reason}`;
  return r.reason === 'replay_store_unavailable' ? new Unavailable(message) : new Error(message);
}

async function openPool(database: BenchDatabase) {
  const pool = new pg.Pool({ connectionString: database.url, max: 10 });
  // An idle client's lost connection would otherwise crash the run with the client object dumped; the
  // next query on the pool reports the failure instead.
  pool.on('error', (error) => console.error(`[bench] idle Postgres connection lost: ${error.message}`));
  await migrate(pool);
  await assertReplayTableLogged(pool);
  await pool.query('TRUNCATE session.s2s_jwt_replay');
  settleFreedFiles();
  return pool;
}

/**
 * Waits for the files a TRUNCATE or DROP freed to be released before anything is measured. On a volume
 * mounted with online `discard` the TRIM of freed extents runs in the filesystem's next journal commit,
 * up to 5 s later, and stalls the database's commits meanwhile, for over a second on some hosts
 * (REPLAY.md "Storage"): inside a measured round that is a store timeout, not a property of the store.
 * `sync` makes that commit happen now. Nothing measured frees files: tokens and jtis are fresh instead.
 */
function settleFreedFiles(): void {
  execFileSync('sync');
}

/** Coalescing store vs one INSERT per token, 64 concurrent callers, same pool size. */
export async function replayInsertSuite(database: BenchDatabase, opsPerRound: number, rounds: number) {
  const pool = await openPool(database);
  try {
    const store = pgReplayStore({ db: pool });
    return await measure(
      [
        {
          name: 'pgReplayStore.remember (coalesced)',
          op: () => rememberOne(store),
        },
        {
          name: 'one INSERT … ON CONFLICT per token (prepared)',
          op: async () => {
            // Prepared, as the store's statement is: the comparison is coalescing, not parsing.
            const r = await pool.query({
              name: 'bench_naive_insert',
              text: NAIVE_INSERT,
              values: [ISSUER, nextJti(), exp()],
            });
            if (r.rowCount !== 1) throw new Error('lost a jti');
          },
        },
      ],
      { concurrency: 64, opsPerRound, rounds },
    );
  } finally {
    await pool.end();
  }
}

/** pgReplayStore settings behind the verifier, from the bench's flags (the store's defaults when unset). */
export interface StoreOptions {
  readonly pipelineDepth?: number;
  readonly anticipateMs?: number;
  readonly maxBatch?: number;
  readonly prepare?: boolean;
}

export interface EndToEndResult {
  concurrency: number;
  /** One durable single-row INSERT at a time: the disk's commit (WAL flush) latency. */
  commit: { p50: number; p99: number; perSec: number };
  store: Measurement;
  verify: Measurement;
  both: Measurement;
  /** Whether the Postgres server runs on this machine (its CPU is in `cpu.postgresUs`). */
  postgresLocal: boolean;
  /** 1 / (1/verify + 1/store): Node and Postgres share the cores, so the two costs add. */
  bound: number;
  /** Where a token's time went behind verification: a separate pass, after the measurement. */
  split: EndToEndSplit;
  /** The store alone's mean statement time, send to answer, over its measured rounds. */
  storeStatementMs: number;
  /**
   * The same pairing without the verifier: bare jose jwtVerify alone, and jose then the same store
   * (each token announced while its signature is checked, as the verifier does), with its own bound.
   * What any verifier on jose could reach with this store here: the pairing's own ceiling.
   */
  reference: { joseAlone: Measurement; joseWithStore: Measurement; bound: number };
}

/**
 * One more pass of verify + pgReplayStore with the verifier's own remember timing on (a histogram
 * sink), outside the measured rounds: mean e2e latency, the part spent in `remember` (waiting for the
 * statement in flight, then its own), and the rows each statement carried.
 */
export interface EndToEndSplit {
  meanMs: number;
  rememberMeanMs: number;
  rowsPerStatement: number;
  /** Mean statement time behind verification, send to answer: the INSERT and its commit. */
  statementMeanMs: number;
}

/**
 * `pool` itself (still a node-postgres Pool to the store, so it prepares as in service), counting the
 * queries sent through it and the time they took, send to answer.
 */
function countingDb(pool: pg.Pool) {
  let statements = 0;
  let statementMs = 0;
  const db = new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver);
      return (...args: Parameters<pg.Pool['query']>) => {
        statements++;
        const sent = performance.now();
        const answer = (target.query as (...a: unknown[]) => Promise<unknown>)(...args);
        const took = () => {
          statementMs += performance.now() - sent;
        };
        answer.then(took, took);
        return answer;
      };
    },
  });
  return { db, count: () => statements, ms: () => statementMs };
}

type Verifier = ReturnType<typeof createVerifier>;
type ReplayStoreOption = Parameters<typeof createVerifier>[0]['replayStore'];

/** A candidate both harnesses take: the closed loop (`measure`) and the open loop (`measureOpenLoop`). */
interface PairingCandidate {
  name: string;
  setup?: () => Promise<void> | void;
  op: () => Promise<unknown>;
  count?: () => number;
}

/** What the end-to-end candidates are built from. */
interface PairingParts {
  readonly tokens: readonly string[];
  readonly make: (replayStore: ReplayStoreOption) => Verifier;
  /** The store alone's. */
  readonly store: PgReplayStore;
  /** The verifier in front of its own pgReplayStore. */
  readonly withPg: Verifier;
  readonly joseKey: Awaited<ReturnType<typeof importSPKI>>;
  /** Bare jose's own pgReplayStore. */
  readonly joseStore: PgReplayStore;
  /** The next token for verify + store (the closed loop shares its cursor with the split pass). */
  readonly nextToken: () => string;
  /** Statements sent by each store, where counted. */
  readonly counts?: {
    readonly store: () => number;
    readonly both: () => number;
    readonly jose: () => number;
  };
}

/**
 * The five candidates of issue 13 item 0, in order: store alone, verify alone (memory store), verify +
 * pgReplayStore, and bare jose alone and in front of the same kind of store as the reference.
 */
function pairingCandidates(parts: PairingParts): PairingCandidate[] {
  const { tokens, make, store, withPg, joseKey, joseStore, nextToken, counts } = parts;
  let withMemory = make(memoryReplayStore());
  let memoryCursor = 0;
  let joseCursor = 0;
  const verifyOptions = { scope: SCOPE, path: '/bench' };
  return [
    {
      name: 'store alone (pgReplayStore.remember)',
      ...(counts === undefined ? {} : { count: counts.store }),
      op: () => rememberOne(store),
    },
    {
      name: 'verify alone (memory store)',
      setup: () => {
        withMemory = make(memoryReplayStore());
        memoryCursor = 0;
      },
      op: async () => {
        const r = await withMemory.verify(tokens[memoryCursor++ % tokens.length]!, verifyOptions);
        if (!r.ok) throw rejected('verify alone', r);
      },
    },
    {
      name: 'verify + pgReplayStore',
      ...(counts === undefined ? {} : { count: counts.both }),
      op: async () => {
        const r = await withPg.verify(nextToken(), verifyOptions);
        if (!r.ok) throw rejected('verify + pg', r);
      },
    },
    {
      name: 'reference: jose jwtVerify alone',
      op: async () => {
        await jwtVerify(tokens[joseCursor++ % tokens.length]!, joseKey, JOSE_VERIFY_OPTIONS);
      },
    },
    {
      name: 'reference: jose jwtVerify + pgReplayStore',
      ...(counts === undefined ? {} : { count: counts.jose }),
      op: async () => {
        // Announced while its signature is checked, as the verifier does.
        const announced = joseStore.anticipate?.();
        try {
          await jwtVerify(tokens[joseCursor++ % tokens.length]!, joseKey, JOSE_VERIFY_OPTIONS);
        } finally {
          announced?.();
        }
        await rememberOne(joseStore);
      },
    },
  ];
}

/**
 * Issue 13 item 0: the four figures the end-to-end explanation rests on, in the same run and
 * interleaved: commit probe, store alone, verify alone (memory store), verify + pgReplayStore; and the
 * same pairing with bare jose in place of the verifier, as its reference.
 */
export async function endToEndSuite(
  database: BenchDatabase,
  opsPerRound: number,
  rounds: number,
  concurrency: number,
  storeOptions: StoreOptions = {},
): Promise<EndToEndResult> {
  const pool = await openPool(database);
  const fixture = createFixture();
  const jwks = await fixture.signer.jwks();
  // The measured rounds and the split pass each take fresh jtis from the one cursor.
  const tokens = await mintTokens(fixture, opsPerRound * (rounds + 2) + 500);
  let cursor = 0;
  const make = (replayStore: ReplayStoreOption) =>
    createVerifier({ keys: { jwks }, audience: AUDIENCE, issuers: [ISSUER], replayStore });
  // Statements each store sends, counted at the driver: rows per statement is what coalescing achieved.
  const storeStatements = countingDb(pool);
  const bothStatements = countingDb(pool);
  const joseStatements = countingDb(pool);
  const store = pgReplayStore({ db: storeStatements.db });
  const withPg = make(pgReplayStore({ db: bothStatements.db, ...storeOptions }));
  const joseKey = await importSPKI(fixture.publicKeyPem, 'RS256');
  const joseStore = pgReplayStore({ db: joseStatements.db, ...storeOptions });
  try {
    await pool.query(
      'CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, at timestamptz)',
    );
    const probe: number[] = [];
    const probeStart = performance.now();
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      await pool.query('INSERT INTO bench_commit_probe (at) VALUES (now())');
      probe.push(performance.now() - t0);
    }
    const probeMs = performance.now() - probeStart;
    probe.sort((a, b) => a - b);
    const server = await localPostgres(pool);
    const postgresUs = server === undefined ? undefined : postgresCpuReader(server.postmasterPid);
    const results = await measure(
      pairingCandidates({
        tokens,
        make,
        store,
        withPg,
        joseKey,
        joseStore,
        nextToken: () => tokens[cursor++ % tokens.length]!,
        counts: { store: storeStatements.count, both: bothStatements.count, jose: joseStatements.count },
      }),
      {
        concurrency,
        opsPerRound,
        rounds,
        warmupOps: 200,
        cpuBreakdown: postgresUs === undefined ? {} : { postgresUs },
      },
    );
    const [storeAlone, verifyAlone, both, joseAlone, joseWithStore] = results as [
      Measurement,
      Measurement,
      Measurement,
      Measurement,
      Measurement,
    ];
    const split = await splitPass(
      bothStatements,
      concurrency,
      opsPerRound,
      (replayStore, metrics) =>
        createVerifier({
          keys: { jwks },
          audience: AUDIENCE,
          issuers: [ISSUER],
          replayStore,
          metrics,
        }),
      () => tokens[cursor++ % tokens.length]!,
      storeOptions,
    );
    // Dropped once nothing is measured any more: freeing its files can stall commits (settleFreedFiles).
    await pool.query('DROP TABLE bench_commit_probe');
    return {
      concurrency,
      commit: { p50: percentile(probe, 50), p99: percentile(probe, 99), perSec: (500 / probeMs) * 1000 },
      store: storeAlone,
      verify: verifyAlone,
      both,
      postgresLocal: postgresUs !== undefined,
      bound: 1 / (1 / verifyAlone.opsPerSec + 1 / storeAlone.opsPerSec),
      split,
      storeStatementMs: storeStatements.ms() / storeStatements.count(),
      reference: {
        joseAlone,
        joseWithStore,
        bound: 1 / (1 / joseAlone.opsPerSec + 1 / storeAlone.opsPerSec),
      },
    };
  } finally {
    await pool.end();
  }
}

/** The open loop's stall probe: one durable single-row commit every this many ms, on its own connection. */
export const STALL_PROBE_EVERY_MS = 10;
/**
 * A round in which a probe commit took longer is disturbed: the machine stalled, whoever was measured
 * (the bench's commit probe reads a p99 of 0.9-10.5 ms on the bench hosts; stalls there lasted 0.06-1.3 s).
 */
export const STALL_PROBE_DISTURBED_MS = 100;

export interface OpenLoopResult {
  ratePerSec: number;
  store: OpenLoopMeasurement;
  verify: OpenLoopMeasurement;
  both: OpenLoopMeasurement;
  /** Bare jose jwtVerify alone, and jose then the same store: the platform's own tail at this rate. */
  reference: { joseAlone: OpenLoopMeasurement; joseWithStore: OpenLoopMeasurement };
}

/**
 * Issue 13 item 0, at one arrival rate instead of one number of callers: store alone, verify alone
 * (memory store), verify + pgReplayStore and the bare-jose reference, each fed the same Poisson arrivals
 * at every rate of `rates`.
 */
export async function openLoopSuite(
  database: BenchDatabase,
  rates: readonly number[],
  secondsPerRound: number,
  rounds: number,
  storeOptions: StoreOptions = {},
): Promise<OpenLoopResult[]> {
  const pool = await openPool(database);
  const stallProbe = await startStallProbe(database.url, STALL_PROBE_EVERY_MS);
  const probe = { window: () => stallProbe.window(), disturbedMs: STALL_PROBE_DISTURBED_MS };
  const fixture = createFixture();
  const jwks = await fixture.signer.jwks();
  const opsAt = (rate: number) => Math.max(500, Math.round(rate * secondsPerRound));
  const make = (replayStore: ReplayStoreOption) =>
    createVerifier({ keys: { jwks }, audience: AUDIENCE, issuers: [ISSUER], replayStore });
  const store = pgReplayStore({ db: pool });
  const withPg = make(pgReplayStore({ db: pool, ...storeOptions }));
  const joseKey = await importSPKI(fixture.publicKeyPem, 'RS256');
  const joseStore = pgReplayStore({ db: pool, ...storeOptions });
  try {
    const results: OpenLoopResult[] = [];
    for (const ratePerSec of rates) {
      // Fresh jtis for every round (warm-up included), minted per rate so none expires before its round:
      // emptying the table between rounds instead would free its files inside the measurement.
      const tokens = await mintTokens(fixture, opsAt(ratePerSec) * (rounds + 1));
      let cursor = 0;
      const [storeAlone, verifyAlone, both, joseAlone, joseWithStore] = (await measureOpenLoop(
        pairingCandidates({
          tokens,
          make,
          store,
          withPg,
          joseKey,
          joseStore,
          nextToken: () => tokens[cursor++]!,
        }),
        { ratePerSec, opsPerRound: opsAt(ratePerSec), rounds, probe },
      )) as [
        OpenLoopMeasurement,
        OpenLoopMeasurement,
        OpenLoopMeasurement,
        OpenLoopMeasurement,
        OpenLoopMeasurement,
      ];
      results.push({
        ratePerSec,
        store: storeAlone,
        verify: verifyAlone,
        both,
        reference: { joseAlone, joseWithStore },
      });
    }
    return results;
  } finally {
    await stallProbe.stop();
    await pool.end();
  }
}

/** The EndToEndSplit pass: `ops` verifications at `concurrency` in flight through a fresh store. */
async function splitPass(
  statements: ReturnType<typeof countingDb>,
  concurrency: number,
  ops: number,
  make: (
    replayStore: ReturnType<typeof pgReplayStore>,
    metrics: NonNullable<Parameters<typeof createVerifier>[0]['metrics']>,
  ) => ReturnType<typeof createVerifier>,
  nextToken: () => string,
  storeOptions: StoreOptions,
): Promise<EndToEndSplit> {
  let rememberSeconds = 0;
  let remembers = 0;
  const verifier = make(pgReplayStore({ db: statements.db, ...storeOptions }), {
    increment() {},
    observe(name, seconds) {
      if (name !== VERIFIER_METRIC_NAMES.replayRememberDuration) return;
      rememberSeconds += seconds;
      remembers++;
    },
  });
  let left = ops;
  let totalMs = 0;
  const statementsBefore = statements.count();
  const statementMsBefore = statements.ms();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) {
        const started = performance.now();
        const r = await verifier.verify(nextToken(), { scope: SCOPE, path: '/bench' });
        totalMs += performance.now() - started;
        if (!r.ok) throw new Error(`verify + pg (split pass): ${r.reason}`);
      }
    }),
  );
  return {
    meanMs: totalMs / ops,
    rememberMeanMs: (rememberSeconds * 1000) / remembers,
    rowsPerStatement: remembers / (statements.count() - statementsBefore),
    statementMeanMs: (statements.ms() - statementMsBefore) / (statements.count() - statementsBefore),
  };
}

export interface PurgeLoadResult {
  rows: number;
  idle: { p50: number; p99: number };
  duringPurge: { p50: number; p99: number };
  purged: number;
  purgeMs: number;
  insertsDuringPurge: number;
}

/** Insert latency while a purge of `rows` expired rows runs, vs idle. */
export async function purgeUnderLoadSuite(database: BenchDatabase, rows: number): Promise<PurgeLoadResult> {
  const pool = await openPool(database);
  const store = pgReplayStore({ db: pool, timeoutMs: 5000 });
  try {
    const expired = Math.floor(Date.now() / 1000) - 2 * 86_400;
    await pool.query(
      `INSERT INTO session.s2s_jwt_replay (iss, jti, exp)
       SELECT 'bench-expired', 'expired-' || g, $1::bigint FROM generate_series(1, $2::int) g`,
      [expired, rows],
    );
    await pool.query('VACUUM ANALYZE session.s2s_jwt_replay');
    const r = await purgeUnderLoad(store, () => store.runPurge(), {
      inFlight: 64,
      idleOps: 20_000,
      entry: () => ({ iss: ISSUER, jti: nextJti(), exp: exp() }),
    });
    return {
      rows,
      idle: { p50: r.idle.p50, p99: r.idle.p99 },
      duringPurge: { p50: r.during.p50, p99: r.during.p99 },
      purged: r.deleted,
      purgeMs: r.purgeMs,
      insertsDuringPurge: r.during.ops,
    };
  } finally {
    await pool.end();
  }
}

export type { Measurement };
