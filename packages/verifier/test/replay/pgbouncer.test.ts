import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemTool } from '../../../../test-support/system-tool.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import type { ReplayEntry } from '../../src/replay/store.js';
import { type PgBouncer, startPgBouncer } from '../support/pgbouncer.js';
import { useReplayDatabase } from '../support/replay-database.js';

// Debian installs it in /usr/sbin, which a non-root PATH may lack.
const pgbouncer = systemTool(
  existsSync('/usr/sbin/pgbouncer') ? '/usr/sbin/pgbouncer' : 'pgbouncer',
  ['--version'],
  'Debian: apt-get install -y pgbouncer',
);
const ISS = 'https://lite.example';
const EXP = Math.floor(Date.now() / 1000) + 60;
const TOKENS = 200;

// PgBouncer before 1.21 (Debian 12 ships 1.18) in transaction mode hands each transaction whatever
// server connection is free, so a prepared statement made through one client shows up under another
// (42P05) or goes missing (26000). Behind it, the store must keep answering, exactly once.
describe.skipIf(pgbouncer === undefined)('pgReplayStore behind PgBouncer in transaction mode', () => {
  const database = useReplayDatabase();
  let bouncer: PgBouncer | undefined;
  const pools: pg.Pool[] = [];
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  beforeAll(async () => {
    // One server connection: the second client's Parse of our name meets the first client's statement.
    bouncer = await startPgBouncer(pgbouncer!, database.url, { poolSize: 1 });
    process.on('warning', onWarning);
  }, 30_000);
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.end()));
    warnings.length = 0;
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    await bouncer?.stop();
  });

  const throughBouncer = () => {
    const pool = new pg.Pool({ connectionString: bouncer!.url, max: 2 });
    pool.on('error', () => undefined);
    pools.push(pool);
    return pool;
  };
  const refusals = () =>
    warnings.filter((w) => (w as { code?: string }).code === 'HYPER_S2S_REPLAY_PREPARE_REFUSED');
  const entry = (prefix: string, i: number): ReplayEntry => ({ iss: ISS, jti: `${prefix}-${i}`, exp: EXP });

  async function presentEachTwice(prefix: string, stores: ReturnType<typeof pgReplayStore>[]) {
    const calls = [];
    for (let i = 0; i < TOKENS; i++) {
      for (const store of stores) calls.push(store.remember(entry(prefix, i)));
    }
    return Promise.allSettled(calls);
  }

  it('by default: the refused prepared statement turns into text, every call is answered, each token first once', async () => {
    const stores = [throughBouncer(), throughBouncer()].map((db) => pgReplayStore({ db, timeoutMs: 10_000 }));
    const answers = await presentEachTwice('default', stores);
    expect(answers.filter((answer) => answer.status === 'rejected')).toEqual([]);
    const firsts = answers.filter((answer) => answer.status === 'fulfilled' && answer.value === true);
    expect(firsts).toHaveLength(TOKENS);
    await new Promise((resolve) => setImmediate(resolve));
    // At least one store met a refusal (the setup makes it certain), and each warns at most once.
    expect(refusals().length).toBeGreaterThanOrEqual(1);
    expect(refusals().length).toBeLessThanOrEqual(stores.length);
    for (const store of stores) await expect(store.check()).resolves.toBeUndefined();
  });

  it('with prepare: false: no refusal, no warning, each token first once', async () => {
    const stores = [throughBouncer(), throughBouncer()].map((db) =>
      pgReplayStore({ db, timeoutMs: 10_000, prepare: false }),
    );
    const answers = await presentEachTwice('text', stores);
    expect(answers.filter((answer) => answer.status === 'rejected')).toEqual([]);
    expect(answers.filter((answer) => answer.status === 'fulfilled' && answer.value === true)).toHaveLength(
      TOKENS,
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(refusals()).toEqual([]);
  });
});
