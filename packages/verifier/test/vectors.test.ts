import type { Sequence, Vector } from '@hyper/s2s-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifierOptions } from '../src/options.js';
import { memoryReplayStore } from '../src/replay/memory.js';
import { pgReplayStore, type ReplayLayout } from '../src/replay/pg.js';
import { PARTITION_PREFIX, PARTITION_SECONDS, REPLAY_TABLE_NAME } from '../src/replay/sql.js';
import type { ReplayDb, ReplayStore } from '../src/replay/store.js';
import { createVerifier } from '../src/verifier.js';
import { type JwksServer, startJwksServer } from './harness/jwks-server.js';
import { recorder } from './harness/recorder.js';
import { file, staticKeys, VECTOR_ROUTE, vectorOptions } from './harness/vectors.js';
import { useMigratedPglites } from './support/migrated-pglite.js';
import { useReplayDatabase } from './support/replay-database.js';

async function outcomes(vector: Vector, keys: VerifierOptions['keys'], extra: Partial<VerifierOptions> = {}) {
  const verifier = createVerifier({ ...vectorOptions(vector, keys), ...extra });
  const seen = [];
  for (let i = 0; i < vector.expect.length; i++) {
    const result = await verifier.verify(vector.token, { scope: vector.scope, path: VECTOR_ROUTE });
    seen.push({ status: result.status, reason: result.reason });
  }
  return seen;
}

/** Every step of a sequence, in order, on one verifier and so one replay store. */
async function sequenceOutcomes(
  sequence: Sequence,
  keys: VerifierOptions['keys'],
  replayStore?: ReplayStore,
) {
  const verifier = createVerifier({
    ...vectorOptions(sequence, keys),
    ...(replayStore ? { replayStore } : {}),
  });
  const seen = [];
  for (const step of sequence.steps) {
    const result = await verifier.verify(step.token, { scope: step.scope, path: VECTOR_ROUTE });
    seen.push({ status: result.status, reason: result.reason });
  }
  return seen;
}

/** The exp claim of a step's token (undefined when it has none to read: such a step never reaches the store). */
function expOf(token: string): number | undefined {
  try {
    const exp = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every replay store the verifier ships, each layout on real PostgreSQL and on PGlite. Sequences are
 * stateful: each runs on an emptied store. The file's clock is fixed in the past, so the partitioned
 * layout gets the partitions holding its tokens' exp (as a purger created them when they were ahead).
 */
interface SequenceStore {
  readonly name: string;
  fresh(sequence: Sequence): Promise<ReplayStore>;
}
const singlePostgres = useReplayDatabase();
const partitionedPostgres = useReplayDatabase({ layout: 'partitioned' });
const pglite = useMigratedPglites();

function pgSequenceStore(name: string, layout: ReplayLayout, db: () => ReplayDb): SequenceStore {
  return {
    name,
    async fresh(sequence) {
      await db().query(`TRUNCATE ${REPLAY_TABLE_NAME}`);
      if (layout === 'partitioned') {
        for (const step of sequence.steps) {
          const exp = expOf(step.token);
          if (exp === undefined) continue;
          const lo = Math.floor(exp / PARTITION_SECONDS) * PARTITION_SECONDS;
          await db().query(
            `CREATE TABLE IF NOT EXISTS session.${PARTITION_PREFIX}${lo} PARTITION OF ${REPLAY_TABLE_NAME}
             FOR VALUES FROM (${lo}) TO (${lo + PARTITION_SECONDS})`,
          );
        }
      }
      const store = pgReplayStore({ db: db(), timeoutMs: 5000 });
      expect(await store.layout()).toBe(layout);
      return store;
    },
  };
}

const sequenceStores: SequenceStore[] = [
  { name: 'memoryReplayStore', fresh: async () => memoryReplayStore({ now: () => file.now * 1000 }) },
  pgSequenceStore('pgReplayStore, single table, real PostgreSQL', 'single', () =>
    singlePostgres.pool({ max: 2 }),
  ),
  pgSequenceStore('pgReplayStore, partitioned, real PostgreSQL', 'partitioned', () =>
    partitionedPostgres.pool({ max: 2 }),
  ),
  pgSequenceStore('pgReplayStore, single table, PGlite', 'single', pglite.single),
  pgSequenceStore('pgReplayStore, partitioned, PGlite', 'partitioned', pglite.partitioned),
];

describe('canonical sequences (stateful: one replay store per sequence)', () => {
  it('has the sequences that pin the replay key', () => {
    expect(file.sequences.map((s) => s.id)).toEqual(
      expect.arrayContaining([
        'replay-same-jti-two-issuers',
        'replay-same-iss-jti-two-tokens',
        'replay-403-spends-jti',
      ]),
    );
  });
});

describe.each(sequenceStores)(
  'canonical sequences on $name: every step answers as the file says (replay keyed by (iss, jti), spent by 403, never by a refused token)',
  (target) => {
    it.each(file.sequences.map((sequence) => [sequence.id, sequence] as const))(
      '%s',
      async (_id, sequence) => {
        const store = await target.fresh(sequence);
        expect(await sequenceOutcomes(sequence, staticKeys(), store)).toEqual(
          sequence.steps.map((step) => step.expect),
        );
      },
    );
  },
);

describe('canonical vectors, static keyset (createLocalJWKSet)', () => {
  it.each(file.vectors.map((vector) => [vector.id, vector] as const))('%s', async (_id, vector) => {
    expect(await outcomes(vector, staticKeys())).toEqual(vector.expect);
  });

  it('covers the whole vocabulary the file uses, replay included', () => {
    const reasons = new Set(file.vectors.flatMap((vector) => vector.expect.map((outcome) => outcome.reason)));
    expect(reasons).toContain('replayed_token');
    expect(reasons).toContain('insufficient_scope');
    expect(file.vectors.length).toBeGreaterThanOrEqual(90);
  });
});

describe('canonical vectors, static keyset after warmup (every key already imported)', () => {
  // SPEC K2 must hold whether or not a kid's key was imported before: warmup changes no verdict.
  it.each(file.vectors.map((vector) => [vector.id, vector] as const))('%s', async (_id, vector) => {
    const verifier = createVerifier(vectorOptions(vector, staticKeys()));
    expect((await verifier.warmup()).keys).toBe(true);
    const seen = [];
    for (let i = 0; i < vector.expect.length; i++) {
      const result = await verifier.verify(vector.token, { scope: vector.scope, path: VECTOR_ROUTE });
      seen.push({ status: result.status, reason: result.reason });
    }
    expect(seen).toEqual(vector.expect);
  });
});

describe('canonical vectors, remote JWKS (createRemoteJWKSet against a local node:http server)', () => {
  let server: JwksServer;
  beforeAll(async () => {
    server = await startJwksServer(file.jwks);
  });
  afterAll(() => server.close());

  it.each(file.vectors.map((vector) => [vector.id, vector] as const))('%s', async (_id, vector) => {
    expect(await outcomes(vector, { jwksUrl: server.url })).toEqual(vector.expect);
  });

  it('fetches the keyset over HTTP (a bounded number of times, not once per token)', async () => {
    // Its own server and pass: the count must not depend on the table above having run first.
    const own = await startJwksServer(file.jwks);
    try {
      for (const vector of file.vectors) await outcomes(vector, { jwksUrl: own.url });
      expect(own.requests).toBeGreaterThan(0);
      expect(own.requests).toBeLessThanOrEqual(2 * file.vectors.length);
    } finally {
      await own.close();
    }
  }, 60_000);
});

describe('no raw token reaches results, logs or metric labels', () => {
  // Each vector, both key sources, with every observer attached. The run happens inside the test (not
  // in a beforeAll) so that mutation testing can tell which vectors reach which code.
  let server: JwksServer;
  beforeAll(async () => {
    server = await startJwksServer(file.jwks);
  });
  afterAll(() => server.close());

  it.each(file.vectors.map((vector) => [vector.id, vector] as const))('%s', async (_id, vector) => {
    const leaks = { results: '', logs: '', labels: '' };
    for (const keys of [staticKeys(), { jwksUrl: server.url }]) {
      const observed = recorder();
      const verifier = createVerifier({
        ...vectorOptions(vector, keys),
        logger: observed.logger,
        metrics: observed.metrics,
      });
      for (const _ of vector.expect) {
        const result = await verifier.verify(vector.token, { scope: vector.scope, path: VECTOR_ROUTE });
        leaks.results += `${JSON.stringify(result)}\n`;
      }
      leaks.logs += observed.logs.map((line) => `${JSON.stringify(line.obj)} ${line.msg ?? ''}\n`).join('');
      leaks.labels += observed.calls.map((call) => `${call.name} ${JSON.stringify(call.labels)}\n`).join('');
    }
    // Every presentation counted (once per key source), every rejection logged.
    expect(leaks.labels.trim().split('\n')).toHaveLength(2 * vector.expect.length);
    if (vector.expect.some((outcome) => outcome.status !== 200))
      expect(leaks.logs).toContain('s2s_auth_rejected');
    // Segments shorter than 8 characters (e.g. "e30", "") are too common to mean anything.
    const secrets = [vector.token, ...vector.token.split('.')].filter((part) => part.length >= 8);
    for (const secret of secrets) {
      expect(leaks.results).not.toContain(secret);
      expect(leaks.logs).not.toContain(secret);
      expect(leaks.labels).not.toContain(secret);
    }
  });
});
