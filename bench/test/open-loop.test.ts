import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { measureOpenLoop, Unavailable } from '../src/open-loop.js';

const OPTIONS = { ratePerSec: 5_000, opsPerRound: 200, rounds: 2 };
/** How long a stalled round's calls and probe calls take, ms. */
const STALL_MS = 200;

describe('measureOpenLoop', () => {
  it('counts 503s (Unavailable) as answers, measured to the 503, and keeps measuring', async () => {
    let n = 0;
    const [m] = await measureOpenLoop(
      [
        {
          name: 'every fifth call refused',
          op: async () => {
            if (++n % 5 === 0) throw new Unavailable('replay store did not answer');
          },
        },
      ],
      OPTIONS,
    );
    // One warm-up round of opsPerRound calls, then `rounds` measured ones: only the measured count.
    expect(n).toBe(OPTIONS.opsPerRound * (OPTIONS.rounds + 1));
    expect(m!.calls).toBe(OPTIONS.opsPerRound * OPTIONS.rounds);
    expect(m!.unavailable).toBe(m!.calls / 5);
    expect(Number.isFinite(m!.p99Ms)).toBe(true);
  });

  it('reports no 503s for a candidate that answers every call', async () => {
    const [m] = await measureOpenLoop([{ name: 'always answers', op: async () => {} }], OPTIONS);
    expect(m!.unavailable).toBe(0);
    expect(m!.calls).toBe(OPTIONS.opsPerRound * OPTIONS.rounds);
  });

  it('ends the run on any other failure (a wrong answer is a broken bench, not a result)', async () => {
    let n = 0;
    const run = measureOpenLoop(
      [
        {
          name: 'loses a jti',
          op: async () => {
            if (++n === 300) throw new Error('lost a jti');
          },
        },
      ],
      OPTIONS,
    );
    await expect(run).rejects.toThrow('lost a jti');
  });

  it('marks the rounds in which the stall probe was slow, and leaves only those out of "other rounds"', async () => {
    let round = 0;
    const stalled = () => round % 2 === 0;
    const [m] = await measureOpenLoop(
      [
        {
          name: 'slow while the machine stalls',
          // Warm-up is round 1; measured rounds 2-5, of which 2 and 4 stall.
          setup: () => {
            round++;
          },
          op: async () => {
            if (stalled()) await sleep(STALL_MS);
          },
        },
      ],
      {
        ...OPTIONS,
        rounds: 4,
        probe: {
          // The probe reports what it saw in the round it watched: a stall in rounds 2 and 4.
          window: () => {
            const slowestMs = stalled() ? STALL_MS : 1;
            return async () => slowestMs;
          },
          disturbedMs: STALL_MS / 2,
        },
      },
    );
    expect(m!.probe).toMatchObject({ disturbedRounds: 2, rounds: 4 });
    expect(m!.probe!.slowestMs).toBe(STALL_MS);
    // Margins of half a stall either way: the calm rounds' calls return at once, the stalled ones sleep.
    expect(m!.p99Ms).toBeGreaterThan(STALL_MS / 2);
    expect(m!.probe!.undisturbed!.calls).toBe(OPTIONS.opsPerRound * 2);
    expect(m!.probe!.undisturbed!.p99Ms).toBeLessThan(STALL_MS / 2);
  });

  it('ends the run when most of a round answers 503 (a failing store, not a stall)', async () => {
    const run = measureOpenLoop(
      [
        {
          name: 'table missing',
          op: async () => {
            throw new Unavailable('replay store unavailable');
          },
        },
      ],
      OPTIONS,
    );
    await expect(run).rejects.toThrow(/table missing: \d+ of \d+ calls of one round answered 503/);
  });

  it('closes the probe window of a round that fails', async () => {
    let opened = 0;
    let closed = 0;
    let round = 0;
    const run = measureOpenLoop(
      [
        {
          name: 'throws at once',
          setup: () => {
            round++;
          },
          // Round 1 is the warm-up, which the probe does not watch.
          op: () => {
            if (round > 1) throw new Error('not a promise');
            return Promise.resolve();
          },
        },
      ],
      {
        ...OPTIONS,
        probe: {
          window: () => {
            opened++;
            return async () => {
              closed++;
              return 0;
            };
          },
          disturbedMs: 100,
        },
      },
    );
    await expect(run).rejects.toThrow('not a promise');
    expect(opened).toBe(1);
    expect(closed).toBe(1);
  });
});
