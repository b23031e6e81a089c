import { type CancelDeadline, Deadline } from '@hyper/s2s-contracts';
import { statementFailed } from '../unavailable-cause.js';
import { ReplayStoreError, replayTimeout } from './errors.js';

export interface BatcherOptions<E> {
  /**
   * Answers a batch: one boolean per entry, in order. A rejection fails every caller in the batch.
   * `waiting(i)` tells whether the caller of entry `i` still waits; `waiting()`, whether any does
   * (false once all have timed out).
   */
  readonly run: (entries: readonly E[], waiting: (index?: number) => boolean) => Promise<readonly boolean[]>;
  /** Per caller unless it passes its own, from the moment it calls: no answer by then → rejected. */
  readonly timeoutMs: number;
  readonly maxBatch: number;
  /** Statements in flight at once; callers arriving meanwhile queue and leave together in the next. */
  readonly pipelineDepth: number;
  /**
   * Longest a ready batch waits for the calls announced by `anticipate()` before it (0: never waits).
   * Bounded by a deadline; each caller is held at most once.
   */
  readonly anticipateMs: number;
}

/** What `createBatcher` returns. */
export interface Batcher<E> {
  submit(entry: E, timeoutMs?: number): Promise<boolean>;
  /**
   * Announces a call that is likely to follow soon; the returned function ends the announcement (call
   * it before that submit, or when none will come). Calling it twice does nothing.
   */
  anticipate(): () => void;
  /**
   * True while statements past their bound fill every slot, so nothing can be sent until one settles
   * or is given up (ABANDON_FACTOR): readiness reports it instead of answering ready while every call
   * would wait out its bound.
   */
  stalled(): boolean;
}

/** Distinct per-call bounds that keep a shared deadline (normally one: the verifier's). */
const MAX_DISTINCT_BOUNDS = 8;

interface Waiter<E> {
  readonly entry: E;
  readonly resolve: (answer: boolean) => void;
  readonly reject: (error: Error) => void;
  /** This caller's bound (the verifier passes its replayTimeoutMs; otherwise the batcher's default). */
  readonly timeoutMs: number;
  cancel: CancelDeadline | undefined;
  done: boolean;
  /** Order of submission, to tell which callers a hold has already kept waiting. */
  readonly seq: number;
}

/**
 * A statement still unanswered this many times its bound is given up: its slot counts no more, so
 * a connection attempt or statement that never ends (a half-dead server or proxy) cannot stop the store
 * for good. At most pipelineDepth x 2 statements pile up per such period on a database that stopped
 * answering.
 */
const ABANDON_FACTOR = 10;

/** Compact the queue array once this many consumed slots sit at its head. */
const QUEUE_COMPACT_THRESHOLD = 1024;

const NOT_ANTICIPATING = () => {};

/**
 * A wait takes at most 1/HOLD_SHARE of a caller's own bound: a caller whose timeout is under
 * HOLD_SHARE x anticipateMs is never held, so the wait cannot turn its answer into a timeout (503).
 */
const HOLD_SHARE = 10;

/**
 * Coalesces concurrent calls into batches while earlier statements are in flight. No blind delay: an
 * idle batcher sends at the end of the current microtask turn, so a lone call costs one round trip.
 * The one wait it takes is for calls already announced (`anticipate`: the verifier announces a token
 * whose signature is being checked): a ready batch waits for them, at most `anticipateMs`, so tokens
 * verified together share one statement and commit instead of each waiting for the one before.
 *
 * A statement that outlives the timeout gives up its pipeline slot (its callers are already rejected),
 * so one stuck connection does not stall the store; at most `pipelineDepth` such stalled statements are
 * tolerated on top of the live ones, which bounds what piles up on a database that stopped answering.
 */
export function createBatcher<E>(options: BatcherOptions<E>): Batcher<E> {
  const { run, timeoutMs, maxBatch, pipelineDepth, anticipateMs } = options;
  let queue: Waiter<E>[] = [];
  let head = 0;
  let live = 0;
  let unsettled = 0;
  let flushScheduled = false;

  let submitted = 0;

  // Announced calls: `announced` are outstanding; a hold waits for those issued before it began.
  let issued = 0;
  let announced = 0;
  let anticipating = false;
  let holding = false;
  let holdFrom = 0;
  let holdOutstanding = 0;
  let cancelHold: CancelDeadline | undefined;
  /** Callers submitted before this were queued through a hold: none of them is held again. */
  let heldThrough = 0;
  const holdDeadline = anticipateMs > 0 ? new Deadline(anticipateMs) : undefined;

  function endHold(): void {
    if (!holding) return;
    holding = false;
    heldThrough = submitted;
    cancelHold?.();
    cancelHold = undefined;
    scheduleFlush();
  }

  const holdable = (waiter: Waiter<E>) => waiter.done || waiter.timeoutMs >= anticipateMs * HOLD_SHARE;

  function anticipate(): () => void {
    if (holdDeadline === undefined) return NOT_ANTICIPATING;
    anticipating = true;
    const ticket = issued++;
    announced++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      announced--;
      if (holding && ticket < holdFrom && --holdOutstanding === 0) endHold();
    };
  }

  /** Starts a hold when announced calls could still join the batch about to leave. */
  function startHold(): boolean {
    if (holdDeadline === undefined || announced === 0) return false;
    // A caller queued through an earlier hold leaves now, whatever was announced since.
    if (queue[head]!.seq < heldThrough || queue.length - head >= maxBatch) return false;
    for (let i = head; i < queue.length; i++) if (!holdable(queue[i]!)) return false;
    holding = true;
    holdFrom = issued;
    holdOutstanding = announced;
    cancelHold = holdDeadline.track(endHold);
    return true;
  }

  const timeoutError = replayTimeout;
  // One FIFO deadline per distinct bound (in practice one: the verifier's replayTimeoutMs), shared by
  // callers and statements alike, on the monotonic clock.
  const deadlines = new Map<number, Deadline>();
  const deadlineFor = (ms: number): Deadline => {
    let deadline = deadlines.get(ms);
    if (deadline === undefined) {
      deadline = new Deadline(ms, () => timeoutError(ms));
      // Bounded: callers passing ever-new bounds get one-off deadlines instead of growing the map.
      if (deadlines.size < MAX_DISTINCT_BOUNDS) deadlines.set(ms, deadline);
    }
    return deadline;
  };

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
    if (holding || !canSend()) return;
    // A batch that announced calls could still join waits for them; a caller waits once.
    if (head < queue.length && startHold()) return;
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
    let counted = true;
    const uncount = () => {
      if (!counted) return false;
      counted = false;
      unsettled--;
      return true;
    };
    let slotHeld = true;
    const releaseSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      live--;
    };
    // A statement may run as long as its most patient caller waits, never cutting a caller short.
    let statementMs = 0;
    for (const waiter of batch) statementMs = Math.max(statementMs, waiter.timeoutMs);
    const cancelStatementDeadline = deadlineFor(statementMs).track(() => {
      const error = timeoutError(statementMs);
      for (const waiter of batch) settle(waiter, error);
      releaseSlot();
      // Not now: callers whose bounds ran out at the same moment expire later in this deadline run, and
      // must not be sent (their jti spent after their 503).
      scheduleFlush();
    });
    const cancelAbandon = deadlineFor(statementMs * ABANDON_FACTOR).track(() => {
      if (uncount()) scheduleFlush();
    });

    let answers: Promise<readonly boolean[]>;
    try {
      answers = run(
        batch.map((waiter) => waiter.entry),
        (index?: number) =>
          index === undefined ? batch.some((waiter) => !waiter.done) : batch[index]?.done === false,
      );
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
        cancelAbandon();
        releaseSlot();
        uncount();
        // Behind a verifier, the callers just answered may start their next tokens in this turn: let
        // them announce themselves first (one event-loop turn, outside anticipateMs), so the next batch
        // can wait for them.
        if (anticipating && head < queue.length) setImmediate(flush);
        else flush();
      });
  }

  function submit(entry: E, callerTimeoutMs: number = timeoutMs): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      const waiter: Waiter<E> = {
        entry,
        resolve,
        reject,
        timeoutMs: callerTimeoutMs,
        cancel: undefined,
        done: false,
        seq: submitted++,
      };
      waiter.cancel = deadlineFor(callerTimeoutMs).track(() => settle(waiter, timeoutError(callerTimeoutMs)));
      queue.push(waiter);
      // A batch that filled while held leaves now (nothing more could join it), as does one joined by a
      // caller with too little time to wait.
      if (holding && (queue.length - head >= maxBatch || !holdable(waiter))) endHold();
      scheduleFlush();
    });
  }

  // Stuck: sent, past its bound, not yet settled nor given up.
  return { submit, anticipate, stalled: () => unsettled - live >= pipelineDepth * 2 };
}

function failed(cause: unknown): ReplayStoreError {
  return cause instanceof ReplayStoreError ? cause : statementFailed(cause);
}
