import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBatcher } from '../../src/replay/batcher.js';
import { DEFAULT_REPLAY_ANTICIPATE_MS } from '../../src/replay/options.js';

/** A statement the test completes by hand, standing in for a database round trip in flight. */
interface Pending {
  readonly entries: readonly string[];
  /** The batcher's answer to "does the caller of entry i (without i: any caller) still wait?". */
  readonly waiting: (index?: number) => boolean;
  answer(answers: readonly boolean[]): void;
  fail(error: Error): void;
}

function harness(
  options: { pipelineDepth?: number; maxBatch?: number; timeoutMs?: number; anticipateMs?: number } = {},
) {
  const sent: Pending[] = [];
  const batcher = createBatcher<string>({
    pipelineDepth: options.pipelineDepth ?? 1,
    maxBatch: options.maxBatch ?? 100,
    timeoutMs: options.timeoutMs ?? 10_000,
    anticipateMs: options.anticipateMs ?? DEFAULT_REPLAY_ANTICIPATE_MS,
    run: (entries, waiting) =>
      new Promise((resolve, reject) => {
        sent.push({ entries: [...entries], waiting, answer: resolve, fail: reject });
      }),
  });
  return {
    sent,
    submit: (entry: string, timeoutMs?: number) => batcher.submit(entry, timeoutMs),
    anticipate: batcher.anticipate,
    stalled: batcher.stalled,
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Moves the deadlines' clock (timers and performance.now) on, without waiting: no race with a slow machine. */
const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** Observes a call's outcome from the start, so a rejection is never momentarily unhandled. */
const outcome = (call: Promise<boolean>) => call.then(String, (error: { code: string }) => error.code);

// Deadlines run on fake timers and a fake performance.now(); setImmediate (turn) stays real.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the coalescing batcher behind pgReplayStore', () => {
  it('sends a lone call at once, in a statement of its own', async () => {
    const { sent, submit } = harness();
    const answer = submit('a');
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a']]);
    sent[0]!.answer([true]);
    expect(await answer).toBe(true);
  });

  it('tells a statement whether any of its callers still waits: true until the last one has timed out', async () => {
    const { sent, submit } = harness({ timeoutMs: 1000 });
    const answers = [outcome(submit('a')), outcome(submit('b'))];
    await turn();
    expect(sent[0]!.waiting()).toBe(true);
    await elapse(1001);
    expect(await Promise.all(answers)).toEqual(['ERR_S2S_REPLAY_TIMEOUT', 'ERR_S2S_REPLAY_TIMEOUT']);
    expect(sent[0]!.waiting()).toBe(false);
  });

  it('tells a statement which of its callers still waits, entry by entry', async () => {
    const { sent, submit } = harness({ timeoutMs: 5000 });
    const answers = [outcome(submit('short', 1000)), outcome(submit('long'))];
    await turn();
    expect([sent[0]!.waiting(0), sent[0]!.waiting(1)]).toEqual([true, true]);
    await elapse(1001);
    expect(await answers[0]).toBe('ERR_S2S_REPLAY_TIMEOUT');
    expect([sent[0]!.waiting(0), sent[0]!.waiting(1), sent[0]!.waiting()]).toEqual([false, true, true]);
    expect(sent[0]!.waiting(2)).toBe(false); // no such entry
    sent[0]!.answer([false, true]);
    expect(await answers[1]).toBe('true');
  });

  it('holds calls that arrive while the pipeline is full and sends them together, answering each', async () => {
    const { sent, submit } = harness({ pipelineDepth: 1 });
    const first = submit('a');
    await turn();
    const waiting = ['b', 'c', 'd'].map(submit);
    await turn();
    expect(sent).toHaveLength(1); // still one in flight
    sent[0]!.answer([true]);
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b', 'c', 'd']]);
    sent[1]!.answer([false, true, false]);
    expect(await first).toBe(true);
    expect(await Promise.all(waiting)).toEqual([false, true, false]);
  });

  it('keeps up to pipelineDepth statements in flight', async () => {
    const { sent, submit } = harness({ pipelineDepth: 3 });
    submit('a');
    await turn();
    submit('b');
    await turn();
    submit('c');
    await turn();
    submit('d');
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b'], ['c']]);
  });

  it('rejects every caller of a failed statement with a typed error carrying the cause', async () => {
    const { sent, submit } = harness();
    const calls = ['a', 'b'].map(submit);
    await turn();
    const cause = new Error('connection terminated');
    sent[0]!.fail(cause);
    for (const call of calls) {
      await expect(call).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_FAILED', cause });
    }
  });

  it('never answers true for a position the statement did not answer with a boolean', async () => {
    const { sent, submit } = harness();
    const calls = ['a', 'b', 'c'].map(submit);
    await turn();
    sent[0]!.answer([true, 'yes' as unknown as boolean]);
    expect(await calls[0]).toBe(true);
    await expect(calls[1]).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_FAILED' });
    await expect(calls[2]).rejects.toMatchObject({ code: 'ERR_S2S_REPLAY_FAILED' });
  });

  it('rejects a caller still queued at its deadline and never sends its entry', async () => {
    const { sent, submit } = harness({ pipelineDepth: 1, timeoutMs: 30 });
    const stalled = [outcome(submit('a'))];
    await elapse(50);
    stalled.push(outcome(submit('b')));
    await elapse(50); // two stalled statements: the pipeline takes nothing more
    const queued = outcome(submit('queued'));
    await elapse(29);
    expect(sent).toHaveLength(2); // still queued, not sent
    await elapse(1);
    expect(await queued).toBe('ERR_S2S_REPLAY_TIMEOUT');
    expect(await Promise.all(stalled)).toEqual(['ERR_S2S_REPLAY_TIMEOUT', 'ERR_S2S_REPLAY_TIMEOUT']);
    sent[0]!.answer([true]); // the stalled statements complete after all
    sent[1]!.answer([true]);
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b']]);
  });

  it('frees the slot of a statement past the timeout, tolerating at most pipelineDepth stalled ones', async () => {
    const { sent, submit } = harness({ pipelineDepth: 1, timeoutMs: 30 });
    const a = outcome(submit('a'));
    await elapse(50); // 'a' stalls: its slot is freed
    const b = outcome(submit('b'));
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b']]);
    await elapse(30); // 'b' stalls too
    expect(await Promise.all([a, b])).toEqual(['ERR_S2S_REPLAY_TIMEOUT', 'ERR_S2S_REPLAY_TIMEOUT']);
    const c = submit('c'); // two stalled statements outstanding: nothing more is sent
    await turn();
    expect(sent).toHaveLength(2);
    sent[0]!.answer([true]); // one stalled statement settles late: room again
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b'], ['c']]);
    sent[2]!.answer([true]);
    expect(await c).toBe(true);
  });

  it("rejects a caller queued behind a stalled statement at its own bound, not at the next statement's", async () => {
    const { sent, submit } = harness({ pipelineDepth: 1, timeoutMs: 100, anticipateMs: 0 });
    const first = outcome(submit('a'));
    await elapse(10);
    let settledAt: number | undefined;
    const started = performance.now();
    const queued = outcome(submit('b')).then((answer) => {
      settledAt = performance.now() - started;
      return answer;
    });
    await elapse(100); // 'a' stalls at 100 ms and 'b' leaves in the next statement; 'b' is due at 110 ms
    expect(await first).toBe('ERR_S2S_REPLAY_TIMEOUT');
    expect(await queued).toBe('ERR_S2S_REPLAY_TIMEOUT');
    expect(settledAt).toBe(100); // fake clock: exactly its own bound
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b']]);
  });

  it('never sends a caller whose bound ends with the stalled statement ahead of it', async () => {
    const { sent, submit } = harness({ pipelineDepth: 1, timeoutMs: 100 });
    const first = outcome(submit('a'));
    const queued = outcome(submit('b')); // joins 'a' in its statement
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a', 'b']]);
    const late = outcome(submit('c')); // queued behind the statement in flight, due 0 ms after it
    await elapse(100);
    expect(await Promise.all([first, queued, late])).toEqual([
      'ERR_S2S_REPLAY_TIMEOUT',
      'ERR_S2S_REPLAY_TIMEOUT',
      'ERR_S2S_REPLAY_TIMEOUT',
    ]);
    await turn();
    expect(sent).toHaveLength(1); // 'c' expired in the same run as the statement: never sent, its jti unspent
  });

  it('gives up a statement unanswered for 10 x its bound, so one that never settles cannot stop the store', async () => {
    const { sent, submit, stalled } = harness({ pipelineDepth: 1, timeoutMs: 30, anticipateMs: 0 });
    const stuck = [outcome(submit('a'))];
    await elapse(30); // 'a' past its bound: its slot is freed, it still counts as unsettled
    stuck.push(outcome(submit('b')));
    await elapse(30);
    expect(stalled()).toBe(true); // two stuck statements: nothing more can be sent
    const c = outcome(submit('c', 1000)); // a caller with a longer bound than the statements'
    await turn();
    expect(sent).toHaveLength(2);
    await elapse(240); // 'a' sent 300 ms ago: given up
    await turn();
    expect(stalled()).toBe(false);
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b'], ['c']]);
    sent[2]!.answer([true]);
    expect(await c).toBe('true');
    expect(await Promise.all(stuck)).toEqual(['ERR_S2S_REPLAY_TIMEOUT', 'ERR_S2S_REPLAY_TIMEOUT']);
    sent[0]!.answer([true]); // answered after all, once given up: counted once, never below zero
    await turn();
    expect(stalled()).toBe(false);
  });

  it('splits a burst into statements of at most maxBatch', async () => {
    const { sent, submit } = harness({ pipelineDepth: 1, maxBatch: 2 });
    const calls = ['a', 'b', 'c', 'd', 'e'].map(submit);
    for (const expected of [['a', 'b'], ['c', 'd'], ['e']]) {
      await turn();
      expect(sent.at(-1)!.entries).toEqual(expected);
      sent.at(-1)!.answer(expected.map(() => true));
    }
    expect(await Promise.all(calls)).toEqual([true, true, true, true, true]);
  });
});

describe('announced calls (anticipate): a ready batch waits for the tokens whose signatures are being checked', () => {
  it('holds a ready batch until every earlier announcement has ended, then sends the calls together', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50 });
    const [endA, endB, endForged] = [anticipate(), anticipate(), anticipate()];
    endA();
    const a = submit('a');
    await turn();
    expect(sent).toHaveLength(0);
    endB();
    const b = submit('b');
    await turn();
    expect(sent).toHaveLength(0);
    endForged(); // its signature failed: no call follows, and the wait ends all the same
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a', 'b']]);
    sent[0]!.answer([true, false]);
    expect([await a, await b]).toEqual([true, false]);
  });

  it('waits at most anticipateMs for an announcement that never ends', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50 });
    anticipate(); // a check that stalls (blocked thread pool, JWKS refetch)
    const a = submit('a');
    await turn();
    await elapse(49);
    expect(sent).toHaveLength(0);
    await elapse(1);
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a']]);
    sent[0]!.answer([true]);
    expect(await a).toBe(true);
  });

  it('does not wait for announcements made after the batch was ready: a caller is held once', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50 });
    const earlier = anticipate();
    submit('a');
    await turn();
    // Announced while the batch waits: not waited for, and their ends do not count for the earlier one.
    const [later, stillOpen] = [anticipate(), anticipate()];
    later();
    await turn();
    expect(sent).toHaveLength(0);
    earlier();
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a']]);
    stillOpen();
  });

  it('sends a batch that fills while held at once, not at the end of the wait', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50, maxBatch: 3 });
    anticipate();
    submit('a');
    await turn();
    submit('b');
    await turn();
    expect(sent).toHaveLength(0);
    submit('c');
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a', 'b', 'c']]);
  });

  it('never holds a caller whose own timeout is under 10 x anticipateMs, nor keeps holding once one joins', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50 });
    const open = anticipate();
    submit('hurried', 499);
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['hurried']]);
    sent[0]!.answer([true]);
    await turn();

    submit('patient', 500);
    await turn();
    expect(sent).toHaveLength(1); // held: 50 ms is a tenth of its bound
    submit('hurried', 499);
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['hurried'], ['patient', 'hurried']]);
    open();
  });

  it('counts an announcement once however often it is ended', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50 });
    const [first, second] = [anticipate(), anticipate()];
    submit('a');
    await turn();
    first();
    first();
    await turn();
    expect(sent).toHaveLength(0);
    second();
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a']]);
  });

  it('never waits with anticipateMs 0, nor with nothing announced, nor once the batch is full', async () => {
    const off = harness({ anticipateMs: 0 });
    off.anticipate();
    off.submit('a');
    await turn();
    expect(off.sent.map((s) => s.entries)).toEqual([['a']]);

    const idle = harness({ anticipateMs: 50 });
    idle.anticipate()();
    idle.submit('a');
    await turn();
    expect(idle.sent.map((s) => s.entries)).toEqual([['a']]);

    const full = harness({ anticipateMs: 50, maxBatch: 2 });
    full.anticipate();
    full.submit('a');
    full.submit('b');
    await turn();
    expect(full.sent.map((s) => s.entries)).toEqual([['a', 'b']]);
  });

  it('rejects a held caller at its own deadline and sends nothing for it', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50, timeoutMs: 600 });
    const first = outcome(submit('a'));
    await turn();
    expect(sent).toHaveLength(1); // nothing announced yet: sent at once
    const open = anticipate();
    const late = outcome(submit('b')); // queued behind the statement in flight for most of its bound
    await elapse(590);
    sent[0]!.answer([true]);
    await turn();
    await turn();
    expect(sent).toHaveLength(1); // b is held for the open announcement, with 10 ms of its bound left
    await elapse(10);
    expect(await late).toBe('ERR_S2S_REPLAY_TIMEOUT');
    await elapse(40);
    await turn();
    expect(sent).toHaveLength(1);
    expect(await first).toBe('true');
    open();
  });

  it('lets callers answered by a statement announce their next tokens before the next batch leaves', async () => {
    const { sent, submit, anticipate } = harness({ anticipateMs: 50 });
    anticipate()(); // a verifier is in front of this store
    const first = submit('a');
    await turn();
    const queued = submit('b');
    // The caller answered by the first statement goes through a verifier's chain of awaits before its
    // next token is announced.
    const next = (async () => {
      await first;
      for (let hop = 0; hop < 12; hop++) await undefined;
      return anticipate();
    })();
    sent[0]!.answer([true]);
    const endNext = await next;
    await turn();
    expect(sent).toHaveLength(1); // 'b' waits for the announced token
    const joined = submit('c');
    endNext();
    await turn();
    expect(sent.map((s) => s.entries)).toEqual([['a'], ['b', 'c']]);
    sent[1]!.answer([true, true]);
    expect([await queued, await joined]).toEqual([true, true]);
  });
});
