import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import { useReplayDatabase } from '../support/replay-database.js';
import { type Child, startChild } from './support/child-process.js';
import type { ReplicaReply, ReplicaRequest } from './support/replica-process.js';

const REPLICAS = 4;
const TOKENS = 10_000;
const PRESENTATIONS = 3;
const IN_FLIGHT_PER_REPLICA = 64;

describe.each(['single', 'partitioned'] as const)(
  'exactly once across replicas sharing one database (%s layout)',
  (layout) => {
    const database = useReplayDatabase({ layout });
    let replicas: Child<ReplicaRequest, ReplicaReply>[] = [];

    beforeAll(async () => {
      replicas = await Promise.all(
        Array.from({ length: REPLICAS }, () =>
          startChild<ReplicaRequest, ReplicaReply>(new URL('./support/replica-process.ts', import.meta.url), {
            S2S_REPLICA_DATABASE_URL: database.url,
          }),
        ),
      );
    }, 60_000);

    afterAll(async () => {
      await Promise.all(replicas.map((replica) => replica.close()));
    }, 30_000);

    it(`${TOKENS} tokens, each presented ${PRESENTATIONS} times at once across ${REPLICAS} verifier processes: exactly one 200 per token`, async () => {
      const started = performance.now();
      const iat = Math.floor(Date.now() / 1000);
      const share = TOKENS / REPLICAS;
      const signed = await Promise.all(
        replicas.map((replica, r) => replica.request({ type: 'sign', from: r * share, count: share, iat })),
      );
      const tokens = signed.flatMap((reply) => ('tokens' in reply ? reply.tokens : []));
      expect(new Set(tokens).size).toBe(TOKENS);
      const signedMs = performance.now() - started;

      // Token i goes to replicas i, i+1 and i+2 (mod 4), all in index order: the three presentations of
      // each token are in flight on three processes at about the same moment.
      const assigned = replicas.map(() => [] as number[]);
      tokens.forEach((_, i) => {
        for (let k = 0; k < PRESENTATIONS; k++) assigned[(i + k) % REPLICAS]!.push(i);
      });
      const presentedAt = performance.now();
      const replies = await Promise.all(
        replicas.map((replica, r) =>
          replica.request({
            type: 'present',
            tokens: assigned[r]!.map((i) => tokens[i]!),
            concurrency: IN_FLIGHT_PER_REPLICA,
          }),
        ),
      );
      const presentedMs = performance.now() - presentedAt;

      const accepted = new Uint8Array(TOKENS);
      const reasons = new Map<string, number>();
      replies.forEach((reply, r) => {
        if (!('reasons' in reply)) throw new Error('replica did not answer with reasons');
        expect(reply.reasons).toHaveLength(assigned[r]!.length);
        reply.reasons.forEach((reason, j) => {
          reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
          if (reason === 'ok') accepted[assigned[r]![j]!]!++;
        });
      });
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      const { rows } = await pool
        .query(`SELECT count(*)::int AS n, count(DISTINCT jti)::int AS jtis FROM ${REPLAY_TABLE_NAME}`)
        .finally(() => pool.end());
      console.info('[replicas]', {
        replicas: REPLICAS,
        presentations: TOKENS * PRESENTATIONS,
        reasons: Object.fromEntries(reasons),
        rows: rows[0],
        signMs: Math.round(signedMs),
        presentMs: Math.round(presentedMs),
      });

      expect(Object.fromEntries(reasons)).toEqual({
        ok: TOKENS,
        replayed_token: TOKENS * (PRESENTATIONS - 1),
      });
      expect(accepted.every((count) => count === 1)).toBe(true);
      expect(rows[0]).toEqual({ n: TOKENS, jtis: TOKENS });
    }, 120_000);
  },
);
