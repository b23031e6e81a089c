/**
 * The SDKs' one deadline helper (the verifier's statements and fetches, the signer's KMS calls). Every
 * deadline is measured on the monotonic clock (performance.now(), and timers, which are monotonic too):
 * a wall-clock step (NTP, a VM resume, an operator) neither stretches nor cuts a bound. Wall time
 * (`now`) is for token claims only.
 */

interface Pending {
  readonly at: number;
  readonly expire: () => void;
  done: boolean;
}

/** Cancels a tracked deadline; calling it after expiry, or twice, does nothing. */
export type CancelDeadline = () => void;

/**
 * Deadlines of one fixed length, served by a single timer. Every entry has the same length, so they
 * expire in call order and a FIFO suffices: per call this costs one small object instead of a timer
 * (which showed up in profiles of the verify hot path).
 */
export class Deadline {
  readonly #ms: number;
  readonly #error: () => Error;
  #queue: Pending[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** True while expiries run: an entry tracked from a callback must not move the queue under them. */
  #firing = false;

  /** `error` builds the rejection of `bound`. */
  constructor(ms: number, error: () => Error = () => new Error(`timed out after ${ms} ms`)) {
    this.#ms = ms;
    this.#error = error;
  }

  /** Calls `expire` once `ms` have passed, unless cancelled first. */
  track(expire: () => void): CancelDeadline {
    const pending: Pending = { at: performance.now() + this.#ms, expire, done: false };
    // From inside an expiry (a timed-out statement sending the next batch) the running #fire owns the
    // queue and arms the timer once it is done; dropping here would skip an entry due in that run.
    if (!this.#firing) this.#drop();
    this.#queue.push(pending);
    if (this.#timer === undefined && !this.#firing) this.#arm(this.#ms);
    return () => {
      pending.done = true;
    };
  }

  /** Settles like `promise`, or rejects with the deadline's error once `ms` have passed. */
  bound<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = this.track(() => reject(this.#error()));
      // A late rejection of `promise` lands here, so it is never unhandled.
      promise.then(
        (value) => {
          cancel();
          resolve(value);
        },
        (error: unknown) => {
          cancel();
          reject(error);
        },
      );
    });
  }

  /** Forgets settled entries at the head, so finished entries die young. */
  #drop(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]?.done) this.#head++;
    if (this.#head === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      this.#queue = queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, delay));
    // A deadline must never keep a process alive on its own.
    this.#timer.unref?.();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#firing = true;
    try {
      const now = performance.now();
      for (let next = this.#queue[this.#head]; next !== undefined; next = this.#queue[this.#head]) {
        if (!next.done && next.at > now) break;
        this.#head++;
        if (!next.done) {
          next.done = true;
          next.expire();
        }
      }
    } finally {
      // Even if a callback threw, the entries after it keep their timer.
      this.#firing = false;
      this.#drop();
      const next = this.#queue[this.#head];
      if (next !== undefined) this.#arm(next.at - performance.now());
    }
  }
}

/** Settles with `work`, or rejects with `onTimeout()` after `ms` (one-off use; hot paths share a Deadline). */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Deadline(ms, onTimeout).bound(work);
}

/** A signal that aborts with a TimeoutError once `ms` have passed, and its cancel. */
export interface TimeoutSignal {
  readonly signal: AbortSignal;
  readonly cancel: CancelDeadline;
}

/**
 * Like AbortSignal.timeout, but on the same timers and clock as every other deadline here (Node's
 * AbortSignal.timeout runs on an internal timer of its own), and cancellable once the work is done.
 */
export function timeoutSignal(ms: number): TimeoutSignal {
  const controller = new AbortController();
  const cancel = new Deadline(ms).track(() =>
    controller.abort(new DOMException(`timed out after ${ms} ms`, 'TimeoutError')),
  );
  return { signal: controller.signal, cancel };
}
