import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { ReplayStoreError } from './errors.js';
import { clockOption, DEFAULT_MEMORY_MAX_ENTRIES, positiveInteger, readClock } from './options.js';
import type { PurgeOutcome, PurgeRunOptions } from './purge.js';
import type { ReplayEntry, ReplayStore } from './store.js';
import { type NormalizedEntry, normalizeEntry } from './store.js';

export interface MemoryReplayStoreOptions {
  /**
   * Epoch ms; decides what the purge treats as past retention. Default Date.now. Read at construction:
   * a non-finite reading, or one past the year 9999 (microseconds, nanoseconds), is a VerifierConfigError.
   */
  readonly now?: () => number;
  /**
   * Most jtis held at once (default 1,000,000: about 11 tokens/s sustained, since each is kept until
   * exp + 24 h). When full and nothing is past retention, `remember` rejects with ERR_S2S_REPLAY_FULL
   * (503 upstream) and `health()` answers false: it never forgets a jti still within retention.
   */
  readonly maxEntries?: number;
}

export interface MemoryReplayStore extends ReplayStore {
  /** False while the store is full of entries within retention (every new jti would get a 503) or its clock reads garbage. */
  health(): Promise<boolean>;
  /** Rejects with ERR_S2S_REPLAY_FULL while full of entries within retention, VerifierConfigError while its clock reads garbage. */
  check(): Promise<void>;
  /**
   * Like `purge()`, as a PurgeOutcome (what `startPurger` reports). The purge is synchronous: there is
   * no lock to wait for (`lockBusy` is always false) and `signal` has nothing to abort.
   */
  runPurge(options?: PurgeRunOptions): Promise<PurgeOutcome>;
  /** Entries currently held. */
  readonly size: number;
}

/**
 * A memory store's `remember` as the store built it, and the same answer without a promise: true for a
 * first use, false for a replay; throws when full.
 */
export interface ImmediateRemember {
  readonly remember: ReplayStore['remember'];
  readonly answer: (entry: ReplayEntry) => boolean;
}

/** Every store memoryReplayStore built; private, so no other store can claim an immediate answer. */
const immediate = new WeakMap<ReplayStore, ImmediateRemember>();

/**
 * For the verifier: a memory store answers in the calling tick, so it has nothing to wait for and no
 * deadline need be armed (the deadline's promise, timer entry and extra ticks were about a seventh of
 * the verifier's own instructions per token). Undefined for every other store, wrappers of a memory
 * store included. The caller must still use `answer` only while the store's `remember` is `remember`:
 * a method replaced on the instance (a spy, an injected fault) is what must be asked.
 */
export function immediateRemember(store: ReplayStore): ImmediateRemember | undefined {
  return immediate.get(store);
}

/** Entries are filed by retain_until rounded down to this many seconds, so a purge visits buckets, not keys. */
const BUCKET_SECONDS = 60;

/**
 * The latest retain_until (whole seconds) a purge at `nowMs` deletes: it deletes until < nowMs / 1000,
 * so the answer changes only when the clock crosses a whole second.
 */
const purgeableThrough = (nowMs: number): number => Math.ceil(nowMs / 1000) - 1;

/**
 * The replay store in process memory, with the Postgres store's semantics: (iss, jti) single use,
 * kept until exp + 24 h, removed by `purge()`. NOT shared: each process (replica, worker) has its own,
 * so a token replayed against another replica is accepted there. For tests and single-process services
 * only. Memory is bounded by `maxEntries`: when full it purges what is past retention and otherwise
 * refuses new entries (503 upstream, and `health()` false) rather than forget a jti still within
 * retention and re-open replay.
 *
 * @example
 * ```ts
 * import { memoryReplayStore } from '@hyper/s2s-verifier';
 *
 * const replayStore = memoryReplayStore({ maxEntries: 100_000 }); // one process only: not for replicas
 * const exp = Math.floor(Date.now() / 1000) + 60;
 * await replayStore.remember({ iss: 'hyper-lite', jti: 'V1StGXR8_Z5jdHi6B-myT', exp }); // true: first use
 * await replayStore.remember({ iss: 'hyper-lite', jti: 'V1StGXR8_Z5jdHi6B-myT', exp }); // false: replayed
 * ```
 */
export function memoryReplayStore(options: MemoryReplayStoreOptions = {}): MemoryReplayStore {
  const now = clockOption('now', options.now);
  // A clock that answers garbage is a startup error, not a store that stops purging the day it fills.
  readClock(now);
  const maxEntries = positiveInteger('maxEntries', options.maxEntries, DEFAULT_MEMORY_MAX_ENTRIES);
  /** iss → jti → retain_until, epoch seconds: nested so a lookup hashes the jti alone, never a joined key. */
  const byIssuer = new Map<string, Map<string, number>>();
  let size = 0;
  /** bucket → (iss, jti) pairs filed there, flat (a purged pair may linger until the bucket goes). */
  const buckets = new Map<number, string[]>();
  /** What the last purge deleted through, and the lowest retain_until added since: see makeRoom. */
  let purgedThrough = Number.NEGATIVE_INFINITY;
  let lowestAddedSince = Number.POSITIVE_INFINITY;

  function add(jtis: Map<string, number>, entry: NormalizedEntry): void {
    const until = entry.exp + REPLAY_RETENTION_SECONDS;
    jtis.set(entry.jti, until);
    size++;
    if (until < lowestAddedSince) lowestAddedSince = until;
    const bucket = Math.floor(until / BUCKET_SECONDS);
    const pairs = buckets.get(bucket);
    if (pairs) pairs.push(entry.iss, entry.jti);
    else buckets.set(bucket, [entry.iss, entry.jti]);
  }

  /** Deletes every entry whose retain_until is before `nowMs`; returns how many. */
  function purgeBefore(nowMs: number): number {
    const nowSeconds = nowMs / 1000;
    purgedThrough = purgeableThrough(nowMs);
    lowestAddedSince = Number.POSITIVE_INFINITY;
    let deleted = 0;
    for (const [bucket, pairs] of buckets) {
      if (bucket * BUCKET_SECONDS >= nowSeconds) continue;
      const whole = (bucket + 1) * BUCKET_SECONDS <= nowSeconds;
      const kept: string[] = [];
      for (let i = 0; i < pairs.length; i += 2) {
        const iss = pairs[i] as string;
        const jti = pairs[i + 1] as string;
        const jtis = byIssuer.get(iss);
        const until = jtis?.get(jti);
        if (jtis === undefined || until === undefined || Math.floor(until / BUCKET_SECONDS) !== bucket)
          continue; // already gone
        if (whole || until < nowSeconds) {
          jtis.delete(jti);
          if (jtis.size === 0) byIssuer.delete(iss);
          size--;
          deleted++;
        } else {
          kept.push(iss, jti);
        }
      }
      if (kept.length === 0) buckets.delete(bucket);
      else buckets.set(bucket, kept);
    }
    return deleted;
  }

  /**
   * Purges for room when full, unless that purge could delete nothing: the last one ran through the same
   * second and nothing added since is due. A full store refusing a burst then costs O(1) per call, not a
   * scan of the current minute's bucket per call (at most one scan per second of the clock).
   */
  function makeRoom(nowMs: number): boolean {
    if (size < maxEntries) return true;
    const through = purgeableThrough(nowMs);
    if (through > purgedThrough || lowestAddedSince <= through) purgeBefore(nowMs);
    return size < maxEntries;
  }

  function full(): ReplayStoreError {
    return new ReplayStoreError('ERR_S2S_REPLAY_FULL', `memory replay store is full (${maxEntries} entries)`);
  }

  async function runPurge(): Promise<PurgeOutcome> {
    const deleted = purgeBefore(readClock(now));
    return { deleted, batches: deleted > 0 ? 1 : 0, lockBusy: false };
  }

  function rememberNow(entry: ReplayEntry): boolean {
    const normalized = normalizeEntry(entry);
    let jtis = byIssuer.get(normalized.iss);
    if (jtis?.has(normalized.jti)) return false;
    if (size >= maxEntries) {
      if (!makeRoom(readClock(now))) throw full();
      // The purge may have removed this issuer's map.
      jtis = byIssuer.get(normalized.iss);
    }
    if (jtis === undefined) {
      jtis = new Map();
      byIssuer.set(normalized.iss, jtis);
    }
    add(jtis, normalized);
    return true;
  }

  const store: MemoryReplayStore = {
    async remember(entry: ReplayEntry): Promise<boolean> {
      return rememberNow(entry);
    },
    async purge() {
      return (await runPurge()).deleted;
    },
    runPurge,
    async health() {
      try {
        // The clock is read even when not full: a clock gone bad shows here before a purge trips on it.
        return makeRoom(readClock(now));
      } catch {
        return false; // never rejects, and not ready
      }
    },
    async check() {
      if (!makeRoom(readClock(now))) throw full();
    },
    get size() {
      return size;
    },
  };
  immediate.set(store, { remember: store.remember, answer: rememberNow });
  return store;
}
