import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { beforeEach, describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { pgReplayStore, type ReplayLayout } from '../../src/replay/pg.js';
import type { PurgeOutcome } from '../../src/replay/purge.js';
import { PARTITION_PREFIX, PARTITION_SECONDS, REPLAY_TABLE_NAME } from '../../src/replay/sql.js';
import type { ReplayDb, ReplayEntry, ReplayStore } from '../../src/replay/store.js';
import { MAX_KEY_PART_LENGTH } from '../../src/replay/store.js';
import { useMigratedPglites } from '../support/migrated-pglite.js';
import { useReplayDatabase } from '../support/replay-database.js';

/** One behaviour table, run against every store and layout: they must be indistinguishable to the verifier. */
interface StoreUnderTest extends ReplayStore {
  runPurge(): Promise<PurgeOutcome>;
  health(): Promise<boolean>;
}
interface Harness {
  readonly name: string;
  /** undefined: the memory store (its clock is injected); else the Postgres layout (database clock). */
  readonly layout: ReplayLayout | undefined;
  make(options: { now: () => number; purgeBatchSize?: number }): StoreUnderTest;
  reset(): Promise<void>;
  /** Makes rows with this exp storable (the partitioned layout keeps no partition for the past). */
  prepareExp(exp: number): Promise<void>;
}

const ISS = 'https://lite.example';
/** Real time: the Postgres stores purge by the database clock, so every exp is relative to it. */
const NOW_S = Math.floor(Date.now() / 1000);
const EXP = NOW_S + 120;
/** Past retention by more than one partition width, whatever the clock did meanwhile. */
const EXPIRED_EXP = NOW_S - REPLAY_RETENTION_SECONDS - 3 * PARTITION_SECONDS;
/** Within retention for another 10 minutes. */
const RETAINED_EXP = NOW_S - REPLAY_RETENTION_SECONDS + 600;

const postgres = useReplayDatabase();
const partitionedPostgres = useReplayDatabase({ layout: 'partitioned' });
const pglite = useMigratedPglites();

/** Creates the partition holding `exp` if it is missing (as a purger did when it was ahead). */
async function partitionFor(db: ReplayDb, exp: number): Promise<void> {
  const lo = Math.floor(exp / PARTITION_SECONDS) * PARTITION_SECONDS;
  await db.query(
    `CREATE TABLE IF NOT EXISTS session.${PARTITION_PREFIX}${lo} PARTITION OF ${REPLAY_TABLE_NAME}
     FOR VALUES FROM (${lo}) TO (${lo + PARTITION_SECONDS})`,
  );
}

function pgHarness(name: string, layout: ReplayLayout, db: () => ReplayDb): Harness {
  return {
    name,
    layout,
    make: ({ purgeBatchSize }) =>
      pgReplayStore({ db: db(), timeoutMs: 5000, ...(purgeBatchSize ? { purgeBatchSize } : {}) }),
    reset: async () => {
      await db().query(`TRUNCATE ${REPLAY_TABLE_NAME}`);
    },
    prepareExp: async (exp) => {
      if (layout === 'partitioned') await partitionFor(db(), exp);
    },
  };
}

const harnesses: Harness[] = [
  {
    name: 'memoryReplayStore',
    layout: undefined,
    make: ({ now }) => memoryReplayStore({ now }),
    reset: async () => undefined,
    prepareExp: async () => undefined,
  },
  pgHarness('pgReplayStore, single table, over pg.Pool (real PostgreSQL)', 'single', () => postgres.pool()),
  pgHarness('pgReplayStore, single table, over PGlite', 'single', pglite.single),
  pgHarness('pgReplayStore, partitioned, over pg.Pool (real PostgreSQL)', 'partitioned', () =>
    partitionedPostgres.pool(),
  ),
  pgHarness('pgReplayStore, partitioned, over PGlite', 'partitioned', pglite.partitioned),
];

describe.each(harnesses)('$name', (harness) => {
  let clock: number;
  let store: StoreUnderTest;
  const entry = (jti: string, overrides: Partial<ReplayEntry> = {}): ReplayEntry => ({
    iss: ISS,
    jti,
    exp: EXP,
    ...overrides,
  });

  beforeEach(async () => {
    await harness.reset();
    clock = Date.now();
    store = harness.make({ now: () => clock });
  });

  it('answers true for the first presentation of a jti and false for every later one', async () => {
    expect(await store.remember(entry('jti-1'))).toBe(true);
    expect(await store.remember(entry('jti-1'))).toBe(false);
    expect(await store.remember(entry('jti-1'))).toBe(false);
  });

  it('keys on (iss, jti): the same jti from another issuer is a first use', async () => {
    expect(await store.remember(entry('shared'))).toBe(true);
    expect(await store.remember(entry('shared', { iss: 'https://other.example' }))).toBe(true);
    expect(await store.remember(entry('shared', { iss: 'https://other.example' }))).toBe(false);
  });

  it('ignores exp in the key: a replay with a different exp is still a replay', async () => {
    expect(await store.remember(entry('same', { exp: EXP }))).toBe(true);
    expect(await store.remember(entry('same', { exp: EXP + 60 }))).toBe(false);
  });

  it('keeps byte-exact identity for awkward jtis (quotes, backslashes, braces, NULL, case, Unicode forms)', async () => {
    const jtis = [
      'NULL',
      'null',
      'x"y',
      'b\\c',
      '{a,b}',
      'a,b',
      ' padded ',
      'A',
      'a',
      'e\u0301',
      '\u00e9',
      '😀',
      "'",
    ];
    const first = await Promise.all(jtis.map((jti) => store.remember(entry(jti))));
    expect(first).toEqual(jtis.map(() => true));
    const again = await Promise.all(jtis.map((jti) => store.remember(entry(jti))));
    expect(again).toEqual(jtis.map(() => false));
  });

  it('of 50 concurrent presentations of one (iss, jti), exactly one is true', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.remember(entry('contended'))));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('answers each caller of a mixed batch: replayed jtis false, new ones true, in-batch duplicates once', async () => {
    await store.remember(entry('old-1'));
    await store.remember(entry('old-2'));
    const jtis = ['new-1', 'old-1', 'new-2', 'new-1', 'old-2', 'new-3', 'new-2', 'new-1'];
    const answers = await Promise.all(jtis.map((jti) => store.remember(entry(jti))));
    expect(answers).toEqual([true, false, true, false, false, true, false, false]);
  });

  it('keeps a record until exp + 24 h: a purge before retain_until deletes nothing', async () => {
    await store.remember(entry('kept', { exp: RETAINED_EXP }));
    expect(await store.purge()).toBe(0);
    expect(await store.remember(entry('kept', { exp: RETAINED_EXP }))).toBe(false);
    expect(await store.remember(entry('kept'))).toBe(false); // a reused jti under a later exp too
  });

  it('purges a record once exp + 24 h has passed (by the store clock: the database one for Postgres)', async () => {
    await harness.prepareExp(EXPIRED_EXP);
    expect(await store.remember(entry('expiring', { exp: EXPIRED_EXP }))).toBe(true);
    expect(await store.remember(entry('expiring'))).toBe(false);
    expect(await store.purge()).toBe(1);
    expect(await store.purge()).toBe(0);
    // The jti can be stored again (a fresh token reusing it, after the old record's retention).
    expect(await store.remember(entry('expiring'))).toBe(true);
  });

  it('rounds a fractional exp up, so retention never ends early', async () => {
    if (harness.layout !== undefined) return; // needs a steerable clock; normalizeEntry is shared code
    const at = (EXP + REPLAY_RETENTION_SECONDS) * 1000;
    await store.remember(entry('fraction', { exp: EXP + 0.2 }));
    clock = at + 500; // past exp + 0.2 + 24 h, not past ceil(exp) + 24 h
    expect(await store.purge()).toBe(0);
    clock = at + 1500;
    expect(await store.purge()).toBe(1);
  });

  it('purges only rows past retention, losing no row within retention', async () => {
    store = harness.make({ now: () => clock, purgeBatchSize: 10 });
    const expiredExp = (i: number) => EXPIRED_EXP - (i % 2) * PARTITION_SECONDS; // two expired partitions
    for (const exp of [expiredExp(0), expiredExp(1)]) await harness.prepareExp(exp);
    const expired = Array.from({ length: 25 }, (_, i) => entry(`expired-${i}`, { exp: expiredExp(i) }));
    const retained = Array.from({ length: 7 }, (_, i) => entry(`retained-${i}`, { exp: RETAINED_EXP + i }));
    await Promise.all([...expired, ...retained].map((e) => store.remember(e)));
    const outcome = await store.runPurge();
    // single: bounded DELETE batches of 10; partitioned: one DROP per expired partition; memory: one sweep.
    const batches = { single: 3, partitioned: 2, memory: 1 }[harness.layout ?? 'memory'];
    expect(outcome).toEqual({ deleted: 25, batches, lockBusy: false });
    expect(await Promise.all(retained.map((e) => store.remember(e)))).toEqual(retained.map(() => false));
    expect(await Promise.all(expired.map((e) => store.remember({ ...e, exp: EXP })))).toEqual(
      expired.map(() => true),
    );
  });

  it('refuses an entry it cannot store without failing the presentations batched with it', async () => {
    const results = await Promise.allSettled([
      store.remember(entry('fine-1')),
      store.remember(entry('nul\u0000inside')),
      store.remember(entry('')),
      store.remember(entry('x'.repeat(MAX_KEY_PART_LENGTH + 1))),
      store.remember(entry('bad-exp', { exp: Number.NaN })),
      store.remember(entry('neg-exp', { exp: -1 })),
      store.remember(entry('fine-2', { iss: '' })),
      store.remember(entry('fine-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: true });
    expect(results[7]).toEqual({ status: 'fulfilled', value: true });
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'ERR_S2S_REPLAY_ENTRY' });
    }
  });

  it('stores the latest exp whose retention ends within the year 9999, and refuses one second later', async () => {
    const latest = Math.floor(Date.UTC(9999, 11, 31, 23, 59, 59) / 1000) - REPLAY_RETENTION_SECONDS;
    await harness.prepareExp(latest);
    expect(await store.remember(entry('last-storable', { exp: latest }))).toBe(true);
    expect(await store.remember(entry('last-storable', { exp: latest }))).toBe(false);
    await expect(store.remember(entry('one-too-late', { exp: latest + 1 }))).rejects.toMatchObject({
      code: 'ERR_S2S_REPLAY_ENTRY',
    });
  });

  it('accepts the longest allowed jti (the contract maximum in astral characters)', async () => {
    const longest = '😀'.repeat(MAX_KEY_PART_LENGTH / 2);
    expect(await store.remember(entry(longest))).toBe(true);
    expect(await store.remember(entry(longest))).toBe(false);
  });

  it('treats a lone surrogate as U+FFFD, the way a UTF-8 database stores it', async () => {
    expect(await store.remember(entry('lone-\uD800'))).toBe(true);
    expect(await store.remember(entry('lone-\uFFFD'))).toBe(false);
  });

  it('reports itself healthy', async () => {
    expect(await store.health()).toBe(true);
  });
});
