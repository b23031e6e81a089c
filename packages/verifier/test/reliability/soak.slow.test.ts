import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { REPLAY_RETENTION_SECONDS, type Reason } from '@hyper/s2s-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryReplayStore } from '../../src/replay/memory.js';
import { startPurger } from '../../src/replay/purge.js';
import { createVerifier } from '../../src/verifier.js';
import { file, staticKeys, VECTOR_ROUTE } from '../harness/vectors.js';
import { type Child, startChild } from './support/child-process.js';
import { checkResult, ReasonTally } from './support/contract-checks.js';
import { b64url, conformingClaims } from './support/jws.js';
import { MiB, retainedHeapBytes } from './support/memory.js';
import type { SignBatch } from './support/signer-process.js';

/**
 * Virtual time: each epoch is 6 hours, so an epoch's jtis pass retention (exp + 24 h) four to five
 * epochs later and the purger, running on the same clock, really deletes them.
 */
const EPOCHS = 20;
const EPOCH_SECONDS = 6 * 3600;
const FRESH_PER_EPOCH = 5_000; // unique valid tokens: 100,000 in all
const REPLAYS_PER_EPOCH = 1_250;
/** As many of the previous epoch's tokens (now expired) and as many tampered ones. */
const STALE_AND_TAMPERED_PER_EPOCH = 250;
const VERIFICATIONS = 1_000_000;
const PER_EPOCH = VERIFICATIONS / EPOCHS;
/** After an epoch's fresh tokens, every 36th presentation is a replay, two in 180 stale or tampered. */
const REST = PER_EPOCH - FRESH_PER_EPOCH;
const REPLAY_STRIDE = REST / REPLAYS_PER_EPOCH;
const ODD_STRIDE = REST / STALE_AND_TAMPERED_PER_EPOCH;
const IN_FLIGHT = 64;
const SAMPLE_EVERY = 50_000;
/** Epochs whose jtis can still be within retention at once: 24 h of retention spans 4 epochs, plus the current. */
const LIVE_EPOCHS = Math.ceil(REPLAY_RETENTION_SECONDS / EPOCH_SECONDS) + 1;
const CALL = { scope: 'spaces:create', path: VECTOR_ROUTE };

type Kind = 'fresh' | 'replay' | 'stale' | 'tampered' | 'hostile';
const EXPECTED: Record<Exclude<Kind, 'hostile'>, Reason> = {
  fresh: 'ok',
  replay: 'replayed_token',
  stale: 'expired_signature',
  tampered: 'invalid_signature',
};

const HS256_HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'lite-2026-03' }));
const noise = randomBytes(4096).toString('base64url');

/** Cheap hostile input, a new string every time (no caching can make it look better than it is). */
function hostile(i: number, payload: string): string {
  const salt = noise.slice(i % 4000, (i % 4000) + 24);
  switch (i % 5) {
    case 0:
      return `${salt}${i}`;
    case 1:
      return `${b64url(`{"alg":"RS256","typ":"JWT","kid":"kid-${i}"}`)}.${payload}.${salt}`;
    case 2:
      return `${HS256_HEADER}.${payload}.${salt}`;
    case 3:
      return `${salt}.${payload}=.${i}`;
    default:
      return `Bearer ${salt}.${i}`;
  }
}

function tamper(token: string): string {
  const at = token.length - 10;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

describe('soak: a million verifications with the memory store and its purger', () => {
  let signer: Child<SignBatch, { tokens: string[] }>;

  beforeAll(async () => {
    signer = await startChild(new URL('./support/signer-process.ts', import.meta.url));
  }, 30_000);
  afterAll(async () => {
    await signer?.close();
  });

  it(`${VERIFICATIONS.toLocaleString('en')} verifications over ${EPOCHS} epochs of virtual time: store and RSS stay bounded`, async () => {
    const start = file.now;
    let clockMs = start * 1000;
    const store = memoryReplayStore({ now: () => clockMs });
    let purged = 0;
    let purges = 0;
    const purger = startPurger(store, {
      intervalMs: 25,
      onPurge: (outcome) => {
        purged += outcome.deleted;
        purges++;
      },
    });
    let rejectionLogs = 0;
    let metricCalls = 0;
    const verifier = createVerifier({
      keys: staticKeys(),
      audience: file.audience,
      issuers: [file.issuer],
      algorithms: ['RS256', 'ES256'],
      replayStore: store,
      now: () => clockMs,
      logger: {
        info: () => undefined,
        // The vector keys are the contract's public test keys: their one-time warning is not a rejection.
        warn: (obj) => {
          if ((obj as { event?: unknown }).event !== 's2s_public_test_key') rejectionLogs++;
        },
      },
      metrics: { increment: () => void metricCalls++ },
    });

    const tallies = new Map<Kind, ReasonTally>(
      (['fresh', 'replay', 'stale', 'tampered', 'hostile'] as const).map((kind) => [kind, new ReasonTally()]),
    );
    const samples: { verifications: number; rss: number; rssAfterGc: number; heap: number; store: number }[] =
      [];
    let verifications = 0;
    let maxStoreSize = 0;
    const sample = () => {
      const rss = process.memoryUsage().rss;
      const heap = retainedHeapBytes();
      samples.push({ verifications, rss, rssAfterGc: process.memoryUsage().rss, heap, store: store.size });
    };

    /** The i-th presentation of an epoch, built when it is presented (nothing is held longer). */
    function presentation(i: number, tokens: string[], previous: string[], payload: string) {
      if (i < FRESH_PER_EPOCH) return { kind: 'fresh' as const, token: tokens[i]! };
      const r = i - FRESH_PER_EPOCH;
      if (r % REPLAY_STRIDE === 0)
        return { kind: 'replay' as const, token: tokens[(r / REPLAY_STRIDE) * 2]! };
      const odd = Math.floor(r / ODD_STRIDE);
      if (r % ODD_STRIDE === 1 && previous.length > 0)
        return { kind: 'stale' as const, token: previous[odd]! };
      if (r % ODD_STRIDE === 2) return { kind: 'tampered' as const, token: tamper(tokens[odd]!) };
      return { kind: 'hostile' as const, token: hostile(r, payload) };
    }

    async function runEpoch(tokens: string[], previous: string[], payload: string) {
      for (let i = 0; i < PER_EPOCH; i += IN_FLIGHT) {
        const batch = Array.from({ length: Math.min(IN_FLIGHT, PER_EPOCH - i) }, (_, j) =>
          presentation(i + j, tokens, previous, payload),
        );
        const reasons = await Promise.all(
          batch.map(async ({ token }) => checkResult(token, await verifier.verify(token, CALL))),
        );
        batch.forEach(({ kind }, j) => {
          tallies.get(kind)!.add(reasons[j]!);
          if (++verifications % SAMPLE_EVERY === 0) sample();
        });
        maxStoreSize = Math.max(maxStoreSize, store.size);
        // Cheap rejections resolve in microtasks only; give the purger's timer its turns.
        if ((i / IN_FLIGHT) % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    }

    const batchFor = (epoch: number) =>
      signer.request({
        kid: 'lite-2026-05',
        prefix: 'soak',
        from: epoch * FRESH_PER_EPOCH,
        count: FRESH_PER_EPOCH,
        iat: start + epoch * EPOCH_SECONDS,
      });
    const started = performance.now();
    sample();
    let next = batchFor(0);
    let previous: string[] = [];
    for (let epoch = 0; epoch < EPOCHS; epoch++) {
      const { tokens } = await next;
      if (epoch + 1 < EPOCHS) next = batchFor(epoch + 1);
      clockMs = (start + epoch * EPOCH_SECONDS + 5) * 1000;
      const payload = b64url(
        JSON.stringify(conformingClaims(start + epoch * EPOCH_SECONDS, `hostile-${epoch}`)),
      );
      await runEpoch(tokens, previous, payload);
      previous = tokens;
    }
    const elapsed = performance.now() - started;
    await purger.runNow();
    await purger.stop();

    const mib = (bytes: number) => Math.round(bytes / MiB);
    console.info(
      `[soak] ${verifications} verifications in ${Math.round(elapsed)} ms; purges: ${purges}, purged: ${purged}, max store size: ${maxStoreSize}`,
    );
    console.info(
      '[soak] memory curve (verifications: RSS, RSS after full GC, retained heap in MiB; store entries):',
    );
    for (const point of samples) {
      console.info(
        `[soak] ${String(point.verifications).padStart(9)}: rss ${String(mib(point.rss)).padStart(4)}, after gc ${String(mib(point.rssAfterGc)).padStart(4)}, heap ${String(mib(point.heap)).padStart(3)}, store ${point.store}`,
      );
    }
    console.info(
      '[soak] outcomes:',
      Object.fromEntries([...tallies].map(([kind, tally]) => [kind, tally.toJSON()])),
    );

    expect(verifications).toBe(VERIFICATIONS);
    expect(metricCalls).toBe(VERIFICATIONS);
    for (const [kind, reason] of Object.entries(EXPECTED)) {
      const tally = tallies.get(kind as Kind)!;
      expect(tally.get(reason)).toBe(tally.total);
    }
    expect(tallies.get('fresh')!.total).toBe(EPOCHS * FRESH_PER_EPOCH);
    expect(tallies.get('replay')!.total).toBe(EPOCHS * REPLAYS_PER_EPOCH);
    expect(tallies.get('hostile')!.get('ok')).toBe(0);
    expect(rejectionLogs).toBe(VERIFICATIONS - EPOCHS * FRESH_PER_EPOCH);

    // The store holds only what retention requires (one more epoch at most: the purger runs on its own
    // timer, so a new epoch's first tokens can arrive before its next tick); everything older was purged.
    expect(purges).toBeGreaterThan(EPOCHS);
    expect(maxStoreSize).toBeLessThanOrEqual((LIVE_EPOCHS + 1) * FRESH_PER_EPOCH);
    expect(purged + store.size).toBe(EPOCHS * FRESH_PER_EPOCH);
    expect(purged).toBeGreaterThanOrEqual((EPOCHS - LIVE_EPOCHS) * FRESH_PER_EPOCH);

    // Memory, from the end of warm-up (2 epochs) on. Retained heap may move by the store's churn only
    // (at most 30k entries of ~200 B: ~6 MiB) plus V8's own bookkeeping: 16 MiB. RSS after a full GC
    // may add allocator and code-space slack: 48 MiB. Keeping every token (1,000,000 strings of ~300 B)
    // or every jti without purging would exceed both. Raw RSS between GCs is printed, not asserted: it
    // follows V8's collection schedule, not what the verifier retains.
    const warm = samples.find((point) => point.verifications >= 2 * PER_EPOCH)!;
    const later = samples.filter((point) => point.verifications > warm.verifications);
    const heapGrowth = Math.max(...later.map((point) => point.heap)) - warm.heap;
    const rssGrowth = Math.max(...later.map((point) => point.rssAfterGc)) - warm.rssAfterGc;
    console.info('[soak] growth after warm-up (MiB):', {
      retainedHeap: +(heapGrowth / MiB).toFixed(1),
      rssAfterGc: +(rssGrowth / MiB).toFixed(1),
      rawRssMin: mib(Math.min(...later.map((point) => point.rss))),
      rawRssMax: mib(Math.max(...later.map((point) => point.rss))),
    });
    expect(heapGrowth).toBeLessThan(16 * MiB);
    expect(rssGrowth).toBeLessThan(48 * MiB);
  }, 240_000);
});
