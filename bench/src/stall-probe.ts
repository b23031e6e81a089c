/**
 * A stall probe for the open loop: durable single-row commits on a connection of its own, in a worker
 * thread, beside every measured round. A commit slower than any commit tail means the machine stalled
 * (some hosts' disks stop for hundreds of ms), whoever was being measured.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

export interface StallProbe {
  /** Starts a window; the returned function ends it and resolves the slowest commit in it, ms. */
  window(): () => Promise<number>;
  /** Stops the probe and drops its table. */
  stop(): Promise<void>;
}

type FromWorker = { ready: true } | { slowestMs: number } | { failed: string } | { stopped: true };

/** Bound on one probe commit: past it the probe fails the run instead of waiting on a dead server. */
const PROBE_QUERY_TIMEOUT_MS = 30_000;
/** Bound on `stop`: the commit under way, then the DROP of the probe's table, each within the above. */
const PROBE_STOP_TIMEOUT_MS = 2 * PROBE_QUERY_TIMEOUT_MS + 1_000;

export async function startStallProbe(url: string, everyMs: number): Promise<StallProbe> {
  const worker = new Worker(new URL('./stall-probe-worker.mjs', import.meta.url), {
    workerData: { url, everyMs, table: 'bench_stall_probe', queryTimeoutMs: PROBE_QUERY_TIMEOUT_MS },
  });
  let failure: Error | undefined;
  const waiting: ((slowestMs: number) => void)[] = [];
  const fail = (error: Error) => {
    failure ??= error;
    // Nobody waits forever on a probe that died: the waiters wake and `check` throws its error.
    for (const resolve of waiting.splice(0)) resolve(Number.NaN);
  };
  worker.on('error', fail);
  let exited = false;
  worker.on('exit', () => {
    exited = true;
    fail(new Error('stall probe: its thread exited'));
  });
  worker.on('message', (message: FromWorker) => {
    if ('failed' in message) fail(new Error(`stall probe: ${message.failed}`));
    if ('slowestMs' in message) waiting.shift()?.(message.slowestMs);
  });
  const [first] = (await once(worker, 'message')) as [FromWorker];
  if (!('ready' in first)) {
    await worker.terminate();
    throw failure ?? new Error('stall probe: did not start');
  }
  const check = () => {
    if (failure !== undefined) throw failure;
  };
  return {
    window() {
      check();
      worker.postMessage('window');
      // The first answer only opens the window (it reports what came before).
      const opened = new Promise<number>((resolve) => waiting.push(resolve));
      return async () => {
        await opened;
        check();
        worker.postMessage('window');
        const slowestMs = await new Promise<number>((resolve) => waiting.push(resolve));
        check();
        return slowestMs;
      };
    },
    async stop() {
      const failedBefore = failure;
      // A probe that failed, or whose thread ended, has nothing left to answer: it is terminated.
      if (!exited && failedBefore === undefined) {
        let timer: NodeJS.Timeout | undefined;
        const stopped = new Promise<void>((resolve) => {
          worker.on('message', (message: FromWorker) => {
            if ('stopped' in message || 'failed' in message) resolve();
          });
          worker.once('exit', () => resolve());
          timer = setTimeout(resolve, PROBE_STOP_TIMEOUT_MS);
        });
        worker.postMessage('stop');
        await stopped;
        clearTimeout(timer);
      }
      await worker.terminate();
      if (failedBefore !== undefined) throw failedBefore;
    },
  };
}
