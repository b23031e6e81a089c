import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { REPLAY_RETENTION_SECONDS } from '@hyper/s2s-contracts';
import { describe, expect, it, vi } from 'vitest';
import { unhandledRejectionsDuring } from '../../../../test-support/unhandled-rejections.js';
import { VerifierConfigError } from '../../src/errors.js';
import { memoryReplayStore } from '../../src/replay/memory.js';
import type { PurgeOutcome } from '../../src/replay/purge.js';
import { startPurger } from '../../src/replay/purge.js';

const EXP = 1_900_000_000;

describe('startPurger', () => {
  it('purges the memory store on its interval', async () => {
    let clock = EXP * 1000;
    const store = memoryReplayStore({ now: () => clock });
    await store.remember({ iss: 'i', jti: 'a', exp: EXP });
    const outcomes: PurgeOutcome[] = [];
    const purger = startPurger(store, { intervalMs: 10, onPurge: (outcome) => outcomes.push(outcome) });
    try {
      await expect.poll(() => outcomes.length).toBeGreaterThanOrEqual(1);
      expect(store.size).toBe(1);
      clock = (EXP + REPLAY_RETENTION_SECONDS + 1) * 1000;
      await expect.poll(() => store.size).toBe(0);
      expect(outcomes).toContainEqual({ deleted: 1, batches: 1, lockBusy: false });
    } finally {
      await purger.stop();
    }
  });

  it('drives any ReplayStore through purge() and logs runs that deleted something', async () => {
    const infos: object[] = [];
    const custom = { purge: async () => 7, remember: async () => true };
    const purger = startPurger(custom, {
      intervalMs: 60_000,
      logger: { info: (obj) => infos.push(obj), warn: () => undefined },
    });
    try {
      expect(await purger.runNow()).toEqual({ deleted: 7, batches: 1, lockBusy: false });
      expect(infos).toEqual([expect.objectContaining({ deleted: 7, durationMs: expect.any(Number) })]);
    } finally {
      await purger.stop();
    }
  });

  it('times a run on the monotonic clock: the wall clock stepping back an hour mid-purge changes no logged duration', async () => {
    const infos: { durationMs?: number }[] = [];
    const wallClock = vi.spyOn(Date, 'now');
    const custom = {
      purge: async () => {
        wallClock.mockReturnValue(Date.UTC(2026, 0, 1) - 3_600_000);
        return 3;
      },
      remember: async () => true,
    };
    wallClock.mockReturnValue(Date.UTC(2026, 0, 1));
    const purger = startPurger(custom, {
      intervalMs: 60_000,
      logger: { info: (obj) => infos.push(obj), warn: () => undefined },
    });
    try {
      await purger.runNow();
      expect(infos).toHaveLength(1);
      expect(infos[0]!.durationMs).toBeGreaterThanOrEqual(0);
      expect(infos[0]!.durationMs).toBeLessThan(60_000);
    } finally {
      wallClock.mockRestore();
      await purger.stop();
    }
  });

  it('a run that stop() cut short is logged as stopped early, not as a purge', async () => {
    const infos: { obj: object; msg: string | undefined }[] = [];
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const custom = {
      purge: async () => 0,
      remember: async () => true,
      // As pgReplayStore's batched purge: stops between batches once the signal is aborted.
      runPurge: ({ signal }: { signal?: AbortSignal }) =>
        new Promise<PurgeOutcome>((resolve) => {
          started();
          signal?.addEventListener('abort', () =>
            resolve({ deleted: 15_000, batches: 3, lockBusy: false, stopped: true }),
          );
        }),
    };
    const purger = startPurger(custom, {
      intervalMs: 60_000,
      logger: { info: (obj, msg) => infos.push({ obj, msg }), warn: () => undefined },
    });
    const run = purger.runNow();
    await running;
    await purger.stop();
    expect(await run).toEqual({ deleted: 15_000, batches: 3, lockBusy: false, stopped: true });
    expect(infos).toEqual([
      {
        obj: expect.objectContaining({ deleted: 15_000, stopped: true }),
        msg: 'replay store purge stopped early',
      },
    ]);
  });

  it('a run that finished although stop() came meanwhile is logged as a purge', async () => {
    const infos: { obj: object; msg: string | undefined }[] = [];
    let finish!: () => void;
    const custom = {
      remember: async () => true,
      // A store whose purge ignores the signal (the memory store, a custom one) finishes its run.
      purge: () =>
        new Promise<number>((resolve) => {
          finish = () => resolve(4);
        }),
    };
    const purger = startPurger(custom, {
      intervalMs: 60_000,
      logger: { info: (obj, msg) => infos.push({ obj, msg }), warn: () => undefined },
    });
    const run = purger.runNow();
    const stopping = purger.stop();
    finish();
    await stopping;
    expect(await run).toEqual({ deleted: 4, batches: 1, lockBusy: false });
    expect(infos).toEqual([{ obj: expect.objectContaining({ deleted: 4 }), msg: 'replay store purged' }]);
  });

  // The purger runs from a timer: anything a sink throws or rejects there would be an unhandled rejection
  // (the process ends) or would stop the schedule.
  it.each([
    [
      'throw',
      () => () => {
        throw new Error('sink down');
      },
    ],
    [
      'reject',
      () => async () => {
        throw new Error('sink down');
      },
    ],
  ] as const)('keeps purging on schedule when its logger, metrics and onPurge %s', async (_how, failing) => {
    let runs = 0;
    const custom = {
      purge: async () => {
        runs++;
        if (runs === 2) throw new Error('database down');
        return 3;
      },
    };
    const unhandled = await unhandledRejectionsDuring(async () => {
      const purger = startPurger(custom, {
        intervalMs: 5,
        logger: { info: failing(), warn: failing() },
        metrics: { purge: failing() },
        onPurge: failing(),
      });
      try {
        // Run 1 deleted (info, purge metric, onPurge), run 2 failed (warn, error metric), then more runs.
        await expect.poll(() => runs).toBeGreaterThanOrEqual(4);
      } finally {
        await purger.stop();
      }
    });
    expect(unhandled).toEqual([]);
  });

  it('refuses a logger without info and warn when it starts', () => {
    expect(() => startPurger(memoryReplayStore(), { logger: { info: () => undefined } as never })).toThrow(
      VerifierConfigError,
    );
  });

  it('joins a run in progress instead of starting a second one', async () => {
    let runs = 0;
    let finish: (n: number) => void = () => undefined;
    const slow = {
      purge: () => {
        runs++;
        return new Promise<number>((resolve) => {
          finish = resolve;
        });
      },
    };
    const purger = startPurger(slow, { intervalMs: 60_000 });
    const first = purger.runNow();
    const second = purger.runNow();
    finish(2);
    expect(await first).toEqual(await second);
    expect(runs).toBe(1);
    await purger.stop();
    await purger.stop(); // idempotent
  });

  it('purges once right away when asked to', async () => {
    const outcomes: PurgeOutcome[] = [];
    const purger = startPurger(memoryReplayStore(), {
      intervalMs: 3_600_000,
      immediate: true,
      onPurge: (outcome) => outcomes.push(outcome),
    });
    await expect.poll(() => outcomes.length).toBe(1);
    await purger.stop();
  });

  it('never keeps a process alive: a process with only purgers running exits by itself', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/idle-purgers.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], {
      timeout: 20_000,
    });
    expect(stdout).toBe('purgers started\n');
  }, 30_000);

  it.each([
    ['intervalMs', () => startPurger(memoryReplayStore(), { intervalMs: 0 })],
    // 30 days: past a Node timer's longest delay, it would fire every millisecond.
    ['intervalMs', () => startPurger(memoryReplayStore(), { intervalMs: 30 * 86_400_000 })],
    ['replayStore', () => startPurger({} as never)],
  ])('refuses an invalid %s', (field, start) => {
    expect(start).toThrow(VerifierConfigError);
    expect(start).toThrow(expect.objectContaining({ field }));
  });
});
