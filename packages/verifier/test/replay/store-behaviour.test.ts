import { PGlite } from '@electric-sql/pglite';
import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_KEY_PART_LENGTH } from '../../src/replay/entry.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { migrate } from '../../src/replay/migrate.js';
import { REPLAY_TABLE_NAME } from '../../src/replay/migration-sql.js';
import { pgReplayStore } from '../../src/replay/pg.js';
import type { PurgeOutcome } from '../../src/replay/purge-schedule.js';
import type { ReplayEntry, ReplayStore } from '../../src/replay/store.js';
import { useReplayDatabase } from '../support/replay-database.js';

/** One behaviour table, run against every store: they must be indistinguishable to the verifier. */
interface StoreUnderTest extends ReplayStore {
  runPurge(): Promise<PurgeOutcome>;
  health(): Promise<boolean>;
}
interface Harness {
  readonly name: string;
  /** Whether purge batches are bounded statements (Postgres) or one sweep (memory). */
  readonly batchedPurge: boolean;
  make(options: { now: () => number; purgeBatchSize?: number }): StoreUnderTest;
  reset(): Promise<void>;
}

const ISS = 'https://lite.example';
const EXP = 1_900_000_000; // 2030-03-17, seconds
const RETAIN_UNTIL_MS = (EXP + REPLAY_RETENTION_SECONDS) * 1000;

const postgres = useReplayDatabase();
let pglite: PGlite;
beforeAll(async () => {
  pglite = await PGlite.create();
  await migrate(pglite);
}, 60_000);
afterAll(async () => {
  await pglite?.close();
});

const harnesses: Harness[] = [
  {
    name: 'memoryReplayStore',
    batchedPurge: false,
    make: ({ now }) => memoryReplayStore({ now }),
    reset: async () => undefined,
  },
  {
    name: 'pgReplayStore over pg.Pool (real PostgreSQL)',
    batchedPurge: true,
    make: ({ now, purgeBatchSize }) =>
      pgReplayStore({ db: postgres.pool(), now, ...(purgeBatchSize ? { purgeBatchSize } : {}) }),
    reset: () => postgres.truncate(),
  },
  {
    name: 'pgReplayStore over PGlite',
    batchedPurge: true,
    make: ({ now, purgeBatchSize }) =>
      pgReplayStore({ db: pglite, now, ...(purgeBatchSize ? { purgeBatchSize } : {}) }),
    reset: async () => {
      await pglite.query(`TRUNCATE ${REPLAY_TABLE_NAME}`);
    },
  },
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
    clock = (EXP - 30) * 1000;
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

  it('keeps a record until exp + 24 h: a purge at retain_until deletes nothing', async () => {
    await store.remember(entry('kept'));
    clock = RETAIN_UNTIL_MS;
    expect(await store.purge()).toBe(0);
    expect(await store.remember(entry('kept'))).toBe(false);
  });

  it('purges a record once exp + 24 h has passed; the jti can then be stored again', async () => {
    await store.remember(entry('expiring'));
    clock = RETAIN_UNTIL_MS + 1000;
    expect(await store.purge()).toBe(1);
    expect(await store.purge()).toBe(0);
    expect(await store.remember(entry('expiring'))).toBe(true);
  });

  it('rounds a fractional exp up, so retention never ends early', async () => {
    await store.remember(entry('fraction', { exp: EXP + 0.2 }));
    clock = RETAIN_UNTIL_MS + 500; // past exp + 0.2 + 24 h, not past ceil(exp) + 24 h
    expect(await store.purge()).toBe(0);
    clock = RETAIN_UNTIL_MS + 1500;
    expect(await store.purge()).toBe(1);
  });

  it('purges only rows past retention, in bounded batches, losing no row within retention', async () => {
    store = harness.make({ now: () => clock, purgeBatchSize: 10 });
    const expired = Array.from({ length: 25 }, (_, i) => entry(`expired-${i}`, { exp: EXP - i * 97 }));
    const retained = Array.from({ length: 7 }, (_, i) => entry(`retained-${i}`, { exp: EXP + 3600 + i }));
    await Promise.all([...expired, ...retained].map((e) => store.remember(e)));
    clock = RETAIN_UNTIL_MS + 1000;
    const outcome = await store.runPurge();
    expect(outcome).toEqual({ deleted: 25, batches: harness.batchedPurge ? 3 : 1, lockBusy: false });
    expect(await Promise.all(retained.map((e) => store.remember(e)))).toEqual(retained.map(() => false));
    expect(await Promise.all(expired.map((e) => store.remember(e)))).toEqual(expired.map(() => true));
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
