import { type CancelDeadline, Deadline } from '../deadline.js';
import { ReplayStoreError } from './errors.js';

export interface BatcherOptions<E> {
  /** Answers a batch: one boolean per entry, in order. A rejection fails every caller in the batch. */
  readonly run: (entries: readonly E[]) => Promise<readonly boolean[]>;
  /** Per caller, from the moment it calls: no answer by then → rejected. Also bounds each statement. */
  readonly timeoutMs: number;
  readonly maxBatch: number;
  /** Statements in flight at once; callers arriving meanwhile queue and leave together in the next. */
  readonly pipelineDepth: number;
}

interface Waiter<E> {
  readonly entry: E;
  readonly resolve: (answer: boolean) => void;
  readonly reject: (error: Error) => void;
  cancel: CancelDeadline | undefined;
  done: boolean;
}

/** Compact the queue array once this many consumed slots sit at its head. */
const QUEUE_COMPACT_THRESHOLD = 1024;

/**
 * Coalesces concurrent calls into batches while earlier statements are in flight. No artificial delay:
 * an idle batcher sends at the end of the current microtask turn, so a lone call costs one round trip.
 *
 * A statement that outlives the timeout gives up its pipeline slot (its callers are already rejected),
 * so one stuck connection does not stall the store; at most `pipelineDepth` such stalled statements are
 * tolerated on top of the live ones, which bounds what piles up on a database that stopped answering.
 */
export function createBatcher<E>(options: BatcherOptions<E>): { submit(entry: E): Promise<boolean> } {
  const { run, timeoutMs, maxBatch, pipelineDepth } = options;
  let queue: Waiter<E>[] = [];
  let head = 0;
  let live = 0;
  let unsettled = 0;
  let flushScheduled = false;

  const timeoutError = () =>
    new ReplayStoreError('ERR_S2S_REPLAY_TIMEOUT', `replay store did not answer within ${timeoutMs} ms`);
  // One timer for all callers and one for all statements (same length each: FIFO, monotonic clock).
  const callerDeadline = new Deadline(timeoutMs, timeoutError);
  const statementDeadline = new Deadline(timeoutMs, timeoutError);

  function settle(waiter: Waiter<E>, outcome: boolean | Error): void {
    if (waiter.done) return;
    waiter.done = true;
    waiter.cancel?.();
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  const canSend = () => live < pipelineDepth && unsettled < pipelineDepth * 2;

  function scheduleFlush(): void {
    if (flushScheduled || !canSend()) return;
    flushScheduled = true;
    queueMicrotask(() => {
      flushScheduled = false;
      flush();
    });
  }

  function flush(): void {
    while (canSend() && head < queue.length) {
      const batch: Waiter<E>[] = [];
      while (batch.length < maxBatch && head < queue.length) {
        const waiter = queue[head++]!;
        if (!waiter.done) batch.push(waiter); // callers that timed out while queued are never sent
      }
      if (head >= QUEUE_COMPACT_THRESHOLD && head * 2 >= queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      if (batch.length > 0) send(batch);
    }
  }

  function send(batch: Waiter<E>[]): void {
    live++;
    unsettled++;
    let slotHeld = true;
    const releaseSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      live--;
    };
    const cancelStatementDeadline = statementDeadline.track(() => {
      const error = timeoutError();
      for (const waiter of batch) settle(waiter, error);
      releaseSlot();
      flush();
    });

    let answers: Promise<readonly boolean[]>;
    try {
      answers = run(batch.map((waiter) => waiter.entry));
    } catch (error) {
      answers = Promise.reject(error);
    }
    answers
      .then(
        (results) => {
          for (let i = 0; i < batch.length; i++) {
            const answer = results[i];
            // Anything but a definite boolean is a failure, never a first use.
            settle(batch[i]!, typeof answer === 'boolean' ? answer : failed(undefined));
          }
        },
        (error: unknown) => {
          const failure = failed(error);
          for (const waiter of batch) settle(waiter, failure);
        },
      )
      .finally(() => {
        cancelStatementDeadline();
        releaseSlot();
        unsettled--;
        flush();
      });
  }

  function submit(entry: E): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter<E> = { entry, resolve, reject, cancel: undefined, done: false };
      waiter.cancel = callerDeadline.track(() => settle(waiter, timeoutError()));
      queue.push(waiter);
      scheduleFlush();
    });
  }

  return { submit };
}

function failed(cause: unknown): ReplayStoreError {
  if (cause instanceof ReplayStoreError) return cause;
  return new ReplayStoreError('ERR_S2S_REPLAY_FAILED', 'replay store statement failed', { cause });
}
