import { createVerifier, memoryReplayStore, migrate, pgReplayStore } from '@hyper/s2s-verifier';
import pg from 'pg';
import { AUDIENCE, createFixture, ISSUER, mintTokens, SCOPE } from './fixtures.js';
import { type Measurement, measure, percentile } from './harness.js';
import type { BenchDatabase } from './postgres.js';

const NAIVE_INSERT = `INSERT INTO session.s2s_jwt_replay (iss, jti, exp) VALUES ($1, $2, $3)
ON CONFLICT (iss, jti) DO NOTHING RETURNING jti`;

let sequence = 0;
const nextJti = () => `bench-${process.pid}-${++sequence}`;
const exp = () => Math.floor(Date.now() / 1000) + 60;

async function openPool(database: BenchDatabase) {
  const pool = new pg.Pool({ connectionString: database.url, max: 10 });
  await migrate(pool);
  await pool.query('TRUNCATE session.s2s_jwt_replay');
  return pool;
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
          op: async () => {
            if (!(await store.remember({ iss: ISSUER, jti: nextJti(), exp: exp() })))
              throw new Error('lost a jti');
          },
        },
        {
          name: 'one INSERT … ON CONFLICT per token',
          op: async () => {
            const r = await pool.query(NAIVE_INSERT, [ISSUER, nextJti(), exp()]);
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

/** Full verification with the Postgres store vs with the memory store, 64 in flight. */
export async function verifierWithPgSuite(
  database: BenchDatabase,
  opsPerRound: number,
  rounds: number,
  concurrency: number,
) {
  const pool = await openPool(database);
  const fixture = createFixture();
  const jwks = await fixture.signer.jwks();
  const tokens = await mintTokens(fixture, opsPerRound * (rounds + 1));
  let cursor = 0;
  let memoryCursor = 0;
  const make = (replayStore: Parameters<typeof createVerifier>[0]['replayStore']) =>
    createVerifier({ keys: { jwks }, audience: AUDIENCE, issuers: [ISSUER], replayStore });
  const withPg = make(pgReplayStore({ db: pool }));
  let withMemory = make(memoryReplayStore());
  try {
    return await measure(
      [
        {
          name: 'verify + pgReplayStore',
          // Every Postgres presentation is a first one: tokens are consumed, never reused.
          op: async () => {
            const r = await withPg.verify(tokens[cursor++ % tokens.length]!, {
              scope: SCOPE,
              path: '/bench',
            });
            if (!r.ok) throw new Error(`verify + pg: ${r.reason}`);
          },
        },
        {
          name: 'verify + memoryReplayStore',
          setup: () => {
            withMemory = make(memoryReplayStore());
            memoryCursor = 0;
          },
          op: async () => {
            const r = await withMemory.verify(tokens[memoryCursor++ % tokens.length]!, {
              scope: SCOPE,
              path: '/bench',
            });
            if (!r.ok) throw new Error(`verify + memory: ${r.reason}`);
          },
        },
      ],
      { concurrency, opsPerRound, rounds, warmupOps: 200 },
    );
  } finally {
    await pool.end();
  }
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
  const latencies = async (stop: () => boolean, minOps: number) => {
    const samples: number[] = [];
    const worker = async () => {
      while (!stop() || samples.length < minOps) {
        const t0 = performance.now();
        await store.remember({ iss: ISSUER, jti: nextJti(), exp: exp() });
        samples.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    return samples.sort((a, b) => a - b);
  };
  try {
    const expired = Math.floor(Date.now() / 1000) - 2 * 86_400;
    await pool.query(
      `INSERT INTO session.s2s_jwt_replay (iss, jti, exp)
       SELECT 'bench-expired', 'expired-' || g, $1::bigint FROM generate_series(1, $2::int) g`,
      [expired, rows],
    );
    await pool.query('VACUUM ANALYZE session.s2s_jwt_replay');
    let idleCount = 0;
    const idle = await latencies(() => ++idleCount > 20_000, 20_000);
    let done = false;
    const started = performance.now();
    const purge = store.purge().finally(() => {
      done = true;
    });
    const during = await latencies(() => done, 1_000);
    const purged = await purge;
    return {
      rows,
      idle: { p50: percentile(idle, 50), p99: percentile(idle, 99) },
      duringPurge: { p50: percentile(during, 50), p99: percentile(during, 99) },
      purged,
      purgeMs: performance.now() - started,
      insertsDuringPurge: during.length,
    };
  } finally {
    await pool.end();
  }
}

export type { Measurement };
