/**
 * One verifier replica in its own process (started by replicas.slow.test.ts): its own pg.Pool to the
 * shared database, its own pgReplayStore and verifier, as a Core instance behind a load balancer has.
 * It also signs its share of the tokens, so RS256 signing spreads over every core.
 */
import type { Reason } from '@hyper/s2s-contracts';
import pg from 'pg';
import { pgReplayStore } from '../../../src/replay/pg.js';
import { createVerifier } from '../../../src/verifier.js';
import { file, staticKeys, VECTOR_ROUTE } from '../../harness/vectors.js';
import { conformingToken } from './jws.js';

export type ReplicaRequest =
  | { readonly type: 'sign'; readonly from: number; readonly count: number; readonly iat: number }
  | { readonly type: 'present'; readonly tokens: readonly string[]; readonly concurrency: number };

export type ReplicaReply = { readonly tokens: string[] } | { readonly reasons: Reason[] };

const url = process.env.S2S_REPLICA_DATABASE_URL;
if (!url) throw new Error('S2S_REPLICA_DATABASE_URL is not set');
const pool = new pg.Pool({ connectionString: url, max: 4 });
pool.on('error', () => undefined);
const verifier = createVerifier({
  keys: staticKeys(),
  audience: file.audience,
  issuers: [file.issuer],
  // Generous bounds: this test is about exactly-once under contention, not latency; a 503 would fail it.
  replayStore: pgReplayStore({ db: pool, timeoutMs: 10_000 }),
  replayTimeoutMs: 10_000,
});
const call = { scope: 'spaces:create', path: VECTOR_ROUTE };

async function present(tokens: readonly string[], concurrency: number): Promise<Reason[]> {
  const reasons: Reason[] = new Array(tokens.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        const i = next++;
        reasons[i] = (await verifier.verify(tokens[i], call)).reason;
      }
    }),
  );
  return reasons;
}

async function answer(request: ReplicaRequest): Promise<ReplicaReply> {
  if (request.type === 'sign') {
    const tokens = Array.from({ length: request.count }, (_, i) =>
      conformingToken('lite-2026-03', request.iat, `replica-${request.from + i}`),
    );
    return { tokens };
  }
  return { reasons: await present(request.tokens, request.concurrency) };
}

process.on('message', (request: ReplicaRequest) => {
  answer(request).then(
    (reply) => process.send?.(reply),
    (error: unknown) => process.send?.({ error: String(error) }),
  );
});
process.on('disconnect', () => {
  pool.end().finally(() => process.exit(0));
});
process.send?.({ ready: true });
