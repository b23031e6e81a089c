import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgReplayStore } from '../../src/replay/pg.js';
import { REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import type { ReplayEntry } from '../../src/replay/store.js';
import { useReplayDatabase } from '../support/replay-database.js';

const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 60;
const KEYS = 41;
const MIDDLE = 20;
const jti = (i: number) => `order-${String(i).padStart(3, '0')}`;
const entry = (i: number): ReplayEntry => ({ iss: ISS, jti: jti(i), exp: EXP });

/** Backends of `db` waiting on a lock (a row, a transaction or an advisory lock), polled until `count`. */
async function waitForLockWaiters(db: pg.Pool, count: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (rows[0].n >= count) return;
    if (performance.now() > deadline) throw new Error(`expected ${count} lock waiters, saw ${rows[0].n}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Two replicas' batches sharing keys in opposite orders: inserted in the order given, each would hold
// the rows the other needs next, a deadlock Postgres breaks by failing one batch (503s for its callers).
describe.each(['single', 'partitioned'] as const)(
  'batches sharing keys in opposite orders (%s layout)',
  (layout) => {
    const database = useReplayDatabase({ layout });

    it('both complete, and each key is first exactly once', async () => {
      const observer = database.pool({ max: 1 });
      // A third writer holds the middle key uncommitted, so both batches are mid-way when it lets go.
      const blocker = await database.client();
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO ${REPLAY_TABLE_NAME} (iss, jti, exp) VALUES ($1, $2, $3)`, [
        ISS,
        jti(MIDDLE),
        EXP,
      ]);

      const store = () =>
        pgReplayStore({ db: database.pool({ max: 1 }), pipelineDepth: 1, maxBatch: KEYS, timeoutMs: 30_000 });
      const [ascending, descending] = [store(), store()];
      await Promise.all([ascending.layout(), descending.layout()]);
      const indexes = Array.from({ length: KEYS }, (_, i) => i);

      const up = Promise.allSettled(indexes.map((i) => ascending.remember(entry(i))));
      await waitForLockWaiters(observer, 1);
      const down = Promise.allSettled(indexes.toReversed().map((i) => descending.remember(entry(i))));
      await waitForLockWaiters(observer, 2);
      await blocker.query('ROLLBACK');

      const answers = [...(await up), ...(await down)];
      const failures = answers.filter((answer) => answer.status === 'rejected');
      expect(failures.map((failure) => String(failure.reason))).toEqual([]);
      expect(answers.filter((answer) => answer.status === 'fulfilled' && answer.value)).toHaveLength(KEYS);
      const { rows } = await observer.query(
        `SELECT count(*)::int AS n FROM ${REPLAY_TABLE_NAME} WHERE jti LIKE 'order-%'`,
      );
      expect(rows[0].n).toBe(KEYS);
    }, 60_000);
  },
);
